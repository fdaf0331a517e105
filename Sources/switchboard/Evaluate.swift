import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard eval`: accuracy on labelled JSONL files ({"text","intent"[,"dialect"]} per line).
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure intent accuracy on labelled JSONL files (lines with intent null are skipped)."
    )

    @OptionGroup var options: RuleOptions

    @Flag(help: "List every wrong answer.")
    var errors = false

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    @Flag(help: "Instead of intents, report which dialect each line is tagged with (every line with a text).")
    var dialects = false

    @Argument(help: "Labelled JSONL files.")
    var files: [String]

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        if dialects {
            for file in files { try reportDialects(file, ruleSet: ruleSet) }
            return
        }
        var samples: [Evaluation.Sample] = []
        var skipped = 0
        for file in files {
            let (objects, malformed) = try Self.labelledLines(file)
            skipped += malformed
            for object in objects {
                guard let text = object["text"] as? String, let intent = object["intent"] as? String else { continue }
                let dialect = (object["dialect"] as? String).map(DialectID.init(rawValue:))
                samples.append(.init(text: text, intent: IntentID(intent), dialect: dialect,
                                     frustrated: object["frustrated"] as? Bool, elderly: object["elderly"] as? Bool))
            }
        }
        let e = Evaluation(ruleSet: ruleSet, samples: samples)
        if json {
            print(JSONValue.object([
                ("samples", .int(e.total)), ("accuracy", .double(e.accuracy)), ("in_scope", .int(e.inScope)),
                ("in_scope_accuracy", .double(e.inScopeAccuracy)), ("out_of_scope", .int(e.outOfScopeExpected)),
                ("out_of_scope_precision", .double(e.outOfScopePrecision)),
                ("out_of_scope_recall", .double(e.outOfScopeRecall)), ("skipped_lines", .int(skipped)),
            ]).serialized())
            return
        }
        func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
        print("samples \(e.total)  accuracy \(pct(e.accuracy))  (\(e.correct)/\(e.total))")
        print("in-scope \(e.inScope)  accuracy \(pct(e.inScopeAccuracy))")
        print("out_of_scope \(e.outOfScopeExpected)  precision \(pct(e.outOfScopePrecision))  recall \(pct(e.outOfScopeRecall))")
        if e.dialectLabelled > 0 { print("dialect detected \(e.dialectDetected)/\(e.dialectLabelled)") }
        if e.frustrationLabelled > 0 { print("frustration cue agrees \(e.frustrationAgreed)/\(e.frustrationLabelled)") }
        if e.elderlyLabelled > 0 { print("elderly cue agrees \(e.elderlyAgreed)/\(e.elderlyLabelled)") }
        if skipped > 0 { print("skipped \(skipped) malformed lines") }
        print("per intent:")
        for (intent, counts) in e.perIntent.sorted(by: { $0.key < $1.key }) {
            print("  \(intent.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(counts.correct)/\(counts.total)")
        }
        print("top confusions:")
        for (pair, n) in e.confusions.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(15) {
            print("  \(n)  \(pair)")
        }
        if errors {
            for err in e.errors { print("  ✗ \(err.expected) → \(err.predicted) (\(String(format: "%.2f", err.confidence)))  \(err.text)") }
        }
    }

    /// The JSON objects with a `text` of a JSONL file, and how many lines were not such objects.
    static func labelledLines(_ file: String) throws -> (objects: [[String: Any]], malformed: Int) {
        guard let data = FileManager.default.contents(atPath: file) else {
            StandardError.write("switchboard eval: cannot read \(file)\n")
            throw ExitCode(1)
        }
        var objects: [[String: Any]] = []
        var malformed = 0
        for line in data.split(separator: 0x0A) {
            if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], object["text"] is String {
                objects.append(object)
            } else {
                malformed += 1
            }
        }
        return (objects, malformed)
    }

    func reportDialects(_ file: String, ruleSet: RuleSet) throws {
        var total = 0
        var tagged: [String: Int] = [:]
        for object in try Self.labelledLines(file).objects {
            guard let text = object["text"] as? String else { continue }
            total += 1
            tagged[ruleSet.classify(text).cues.dialect?.rawValue ?? "none", default: 0] += 1
        }
        let parts = tagged.sorted { $0.value > $1.value }.map {
            "\($0.key) \($0.value) (\(String(format: "%.2f%%", Double($0.value) * 100 / Double(max(total, 1)))))"
        }
        print("\(file): \(total) lines; \(parts.joined(separator: ", "))")
    }
}
