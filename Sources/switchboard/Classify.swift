import ArgumentParser
import SwitchboardCore

/// `switchboard classify`: one raw utterance per input line, judged alone.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify utterances from standard input, one per line.",
        discussion: """
            Each input line is one raw utterance (plain UTF-8 text). With --jsonl, each output line is
            {"text","lang","intent","confidence","slots","cues"}. With --explain, a readable account of
            every step: normalization, dialect replacements, rules and examples that scored, slots, cues.
            """
    )

    @OptionGroup var options: RuleOptions

    @Flag(help: "Print one JSON object per input line.")
    var jsonl = false

    @Flag(help: "Explain each classification in readable text.")
    var explain = false

    @Argument(help: "Utterances to classify instead of reading standard input.")
    var utterances: [String] = []

    func validate() throws {
        if !jsonl && !explain {
            throw ValidationError("choose an output: --jsonl (one JSON object per line) or --explain (readable)")
        }
    }

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        let output = OutputBuffer()
        func handle(_ text: String) {
            let result = ruleSet.classify(text, explain: explain)
            if explain {
                output.write(ExplanationPrinter.render(result, ruleSet: ruleSet))
                if jsonl { output.write(result.json.serialized() + "\n") }
            } else {
                output.write(result.json.serialized() + "\n")
            }
        }
        if utterances.isEmpty {
            let reader = LineReader(beforeBlocking: output.flush)
            while let line = reader.next() {
                handle(String(decoding: line, as: UTF8.self))
            }
        } else {
            utterances.forEach(handle)
        }
        output.flush()
    }
}

/// Renders an explanation for a rule author.
enum ExplanationPrinter {
    static func render(_ c: Classification, ruleSet: RuleSet) -> String {
        var out = ""
        let e = c.explanation
        out += "text:        \(c.text)\n"
        if let e {
            out += "normalized:  \(e.normalized)\n"
            if e.rewritten != e.normalized { out += "rewritten:   \(e.rewritten)\n" }
            for r in e.replacements { out += "  replaced   \(r.from) → \(r.to.isEmpty ? "(dropped)" : r.to)  [\(r.source)]\n" }
            if !e.dialectEvidence.isEmpty {
                out += "dialect evidence: " + e.dialectEvidence.map { "\($0.dialect)=\(fmt($0.evidence))" }.joined(separator: " ") + "\n"
            }
        }
        out += "language:    \(c.language.rawValue)   dialect: \(c.cues.dialect?.rawValue ?? "none")\n"
        out += "intent:      \(c.intent)  confidence \(fmt(c.confidence))\(c.ambiguous ? "  (ambiguous: ask which)" : "")\n"
        if let e {
            for score in e.scores.prefix(5) {
                out += "  \(score.intent.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) confidence \(fmt(score.confidence))  rules \(fmt(score.rule))  examples \(fmt(score.similarity))\n"
                for hit in e.ruleHits where hit.intent == score.intent {
                    out += "      + \(hit.rule)  weight \(fmt(hit.weight))\n"
                }
                if let example = e.examples.first(where: { $0.intent == score.intent }) {
                    out += "      ~ example \"\(example.example)\"  similarity \(fmt(example.similarity))\n"
                }
            }
            for v in e.vetoes { out += "  vetoed \(v.intent) by '\(v.term)'\n" }
            for n in e.negated { out += "  negated \(n.intent): \(n.rule)\n" }
        }
        out += "slots:       " + (c.slots.isEmpty ? "none" : c.slots.map { "\($0.name)=\($0.value)" }.joined(separator: " ")) + "\n"
        out += "cues:        frustration \(fmt(c.cues.frustration))\(c.cues.frustrated ? " (frustrated)" : "")  elderly \(fmt(c.cues.elderlyScore))\(c.cues.elderly ? " (elderly)" : "")"
        out += c.cues.signals.isEmpty ? "\n" : "  signals: \(c.cues.signals.joined(separator: ", "))\n"
        return out + "\n"
    }

    static func fmt(_ d: Double) -> String {
        let r = (d * 100).rounded() / 100
        return String(r)
    }
}
