import Foundation
import Yams

/// Where the rule set lives on disk.
public struct RuleSources: Sendable {
    /// The `intents/` folder.
    public var rulesDirectory: String
    /// The `dialect-lexicons/` folder.
    public var lexiconsDirectory: String
    /// Whether every canonical intent of CONTRACT.md must be defined (off for small test rule sets).
    public var requiresCanonicalIntents: Bool

    public init(rulesDirectory: String = "intents", lexiconsDirectory: String = "dialect-lexicons",
                requiresCanonicalIntents: Bool = true)
    {
        self.rulesDirectory = rulesDirectory
        self.lexiconsDirectory = lexiconsDirectory
        self.requiresCanonicalIntents = requiresCanonicalIntents
    }
}

/// The rule set could not be loaded; every problem found, sorted by file and line.
public struct RuleLoadFailure: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads `intents/` and `dialect-lexicons/`, validates everything, and compiles a `RuleSet`.
public enum RuleLoader {
    /// Loads and compiles; throws `RuleLoadFailure` with every problem when anything is wrong.
    public static func load(_ sources: RuleSources) throws(RuleLoadFailure) -> RuleSet {
        var diagnostics: [Diagnostic] = []
        var definitions = RuleDefinitions()
        readLexicons(sources.lexiconsDirectory, into: &definitions, diagnostics: &diagnostics)
        readRules(sources.rulesDirectory, into: &definitions, diagnostics: &diagnostics)
        readWordList((sources.rulesDirectory as NSString).appendingPathComponent("english-words.txt"),
                     into: &definitions, diagnostics: &diagnostics)
        let compiled = RuleSet.compile(definitions, sources: sources)
        diagnostics += compiled.diagnostics
        if !diagnostics.isEmpty {
            throw RuleLoadFailure(diagnostics: Array(Set(diagnostics)).sorted())
        }
        return compiled.ruleSet
    }

    // MARK: - Files

    static func files(in directory: String, extensions: Set<String>) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        return names.filter { extensions.contains(($0 as NSString).pathExtension) }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    static func readText(_ path: String, diagnostics: inout [Diagnostic]) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            diagnostics.append(Diagnostic(SourceLocation(file: path, line: 1, column: 1), "cannot read file"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            diagnostics.append(Diagnostic(SourceLocation(file: path, line: 1, column: 1), "file is not valid UTF-8"))
            return nil
        }
        return text
    }

    static func readRules(_ directory: String, into defs: inout RuleDefinitions, diagnostics: inout [Diagnostic]) {
        guard let paths = files(in: directory, extensions: ["yaml", "yml"]) else {
            diagnostics.append(Diagnostic(SourceLocation(file: directory, line: 1, column: 1),
                                          "rules folder not found (run from the repository root or pass --rules DIR)"))
            return
        }
        if paths.isEmpty {
            diagnostics.append(Diagnostic(SourceLocation(file: directory, line: 1, column: 1),
                                          "rules folder has no .yaml files"))
        }
        for path in paths {
            guard let text = readText(path, diagnostics: &diagnostics) else { continue }
            var reader = YAMLReader(file: path)
            if let root = reader.compose(text) {
                var parser = RuleFileParser(reader: reader)
                parser.parse(root, into: &defs, diagnostics: &diagnostics)
            } else {
                diagnostics += reader.diagnostics
            }
        }
    }

    /// The optional list of ordinary English words the typo corrector must leave alone.
    static func readWordList(_ path: String, into defs: inout RuleDefinitions, diagnostics: inout [Diagnostic]) {
        guard FileManager.default.fileExists(atPath: path), var text = readText(path, diagnostics: &diagnostics) else { return }
        // Seventy thousand lines: read as bytes, not as Strings split into Substrings.
        text.withUTF8 { bytes in
            var line = 1
            var start = 0
            for end in 0...bytes.count where end == bytes.count || bytes[end] == 0x0A {
                defer {
                    line += 1
                    start = end + 1
                }
                let word = bytes[start..<end]
                if word.isEmpty || word.first == 0x23 { continue }  // blank or '#'
                guard word.allSatisfy({ (0x61...0x7A).contains($0) }) else {
                    let shown = String(decoding: word, as: UTF8.self)
                    diagnostics.append(Diagnostic(SourceLocation(file: path, line: line, column: 1),
                                                  "'\(shown)' is not a lower-case English word (a–z only)"))
                    continue
                }
                defs.englishWords.append(word.map(UInt32.init))
            }
        }
    }

    // MARK: - Lexicons

    static func readLexicons(_ directory: String, into defs: inout RuleDefinitions, diagnostics: inout [Diagnostic]) {
        guard let paths = files(in: directory, extensions: ["tsv"]) else {
            diagnostics.append(Diagnostic(SourceLocation(file: directory, line: 1, column: 1),
                                          "lexicon folder not found (run from the repository root or pass --lexicons DIR)"))
            return
        }
        for path in paths {
            guard let text = readText(path, diagnostics: &diagnostics) else { continue }
            readLexicon(path: path, text: text, into: &defs, diagnostics: &diagnostics)
        }
        defs.lexicons.sort { $0.id < $1.id }
    }

    static func readLexicon(path: String, text: String, into defs: inout RuleDefinitions,
                            diagnostics: inout [Diagnostic])
    {
        var headers: [String: String] = [:]
        var rows: [(line: Int, columns: [Substring])] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingSpaces().isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingSpaces()
                if let colon = body.firstIndex(of: ":") {
                    let key = body[..<colon].trimmingSpaces().lowercased()
                    if !key.contains(" ") && headers[key] == nil {
                        headers[key] = body[body.index(after: colon)...].trimmingSpaces()
                    }
                }
                continue
            }
            rows.append((index + 1, line.split(separator: "\t", omittingEmptySubsequences: false)))
        }
        let here = { (line: Int, column: Int) in SourceLocation(file: path, line: line, column: column) }
        switch headers["kind"] {
        case "charmap":
            for row in rows {
                guard row.columns.count >= 2 else {
                    diagnostics.append(Diagnostic(here(row.line, 1), "expected 'traditional<TAB>simplified'"))
                    continue
                }
                let from = Array(row.columns[0].unicodeScalars)
                let to = Array(row.columns[1].trimmingSpaces().unicodeScalars)
                guard from.count == 1, to.count == 1 else {
                    diagnostics.append(Diagnostic(here(row.line, 1), "a character map entry maps one character to one character"))
                    continue
                }
                defs.characterMap[from[0].value] = to[0].value
            }
        case "dialect":
            guard let id = headers["id"], !id.isEmpty else {
                diagnostics.append(Diagnostic(here(1, 1), "dialect lexicon has no '# id:' header"))
                return
            }
            var minEvidence = 1.0
            if let text = headers["min_evidence"] {
                if let value = Double(text), value > 0 {
                    minEvidence = value
                } else {
                    diagnostics.append(Diagnostic(here(1, 1), "'# min_evidence:' must be a positive number, got '\(text)'"))
                }
            }
            if defs.lexicons.contains(where: { $0.id.rawValue == id }) {
                diagnostics.append(Diagnostic(here(1, 1), "dialect id '\(id)' is used by another lexicon too"))
            }
            var entries: [LexiconEntry] = []
            var seen: [String: Int] = [:]
            for row in rows {
                let source = row.columns[0].trimmingSpaces()
                let target = row.columns.count > 1 ? row.columns[1].trimmingSpaces() : ""
                if source.isEmpty {
                    diagnostics.append(Diagnostic(here(row.line, 1), "entry has an empty dialect word"))
                    continue
                }
                if target.isEmpty {
                    diagnostics.append(Diagnostic(here(row.line, source.unicodeScalars.count + 2),
                                                  "entry '\(source)' has an empty Mandarin target"))
                    continue
                }
                var weight = 1.0
                if row.columns.count > 2 {
                    let text = row.columns[2].trimmingSpaces()
                    if let value = Double(text), value > 0, value <= 5 {
                        weight = value
                    } else {
                        diagnostics.append(Diagnostic(here(row.line, 1),
                                                      "entry '\(source)': weight must be a number in (0, 5], got '\(text)'"))
                        continue
                    }
                }
                if let first = seen[source] {
                    diagnostics.append(Diagnostic(here(row.line, 1),
                                                  "entry '\(source)' is listed twice (first on line \(first))"))
                    continue
                }
                seen[source] = row.line
                entries.append(LexiconEntry(source: source, target: target, weight: weight, location: here(row.line, 1)))
            }
            if entries.isEmpty {
                diagnostics.append(Diagnostic(here(1, 1), "dialect lexicon '\(id)' has no entries"))
            }
            defs.lexicons.append(DialectLexiconDef(
                id: DialectID(rawValue: id), name: headers["name"] ?? id, minEvidence: minEvidence,
                entries: entries, location: here(1, 1)))
        case let other:
            diagnostics.append(Diagnostic(here(1, 1),
                                          "unknown lexicon kind '\(other ?? "")': expected '# kind: dialect' or '# kind: charmap'"))
        }
    }
}

/// Parses the sections of one rule file into definitions.
struct RuleFileParser {
    var reader: YAMLReader

    static let sections = [
        "concepts", "intents", "tests", "plans", "addons", "frustration", "elderly", "fault_type", "fillers",
        "corrections", "numeral_measures", "default_language", "scoring", "relative_month", "month_names",
        "month_name_needs_context", "month_context", "currency_before", "currency_after", "pin_context", "ticket_prefixes", "examples", "not_age_after",
        "accounts", "flows", "responses", "policy", "session_cues", "handoff",
    ]

    mutating func parse(_ root: Node, into defs: inout RuleDefinitions, diagnostics: inout [Diagnostic]) {
        defer { diagnostics += reader.diagnostics }
        guard let pairs = reader.pairs(root, "a rule file") else { return }
        reader.checkKeys(pairs, allowed: Self.sections, in: "a rule file")
        for (key, _, value) in pairs {
            switch key {
            case "concepts": parseConcepts(value, into: &defs)
            case "intents": parseIntents(value, into: &defs)
            case "tests": parseTests(value, into: &defs)
            case "examples": parseExampleBank(value, into: &defs)
            case "plans": parsePlans(value, into: &defs)
            case "accounts": parseAccounts(value, into: &defs)
            case "flows": parseFlows(value, into: &defs)
            case "responses": parseResponses(value, into: &defs)
            case "policy": parsePolicy(value, into: &defs)
            case "session_cues": parseSessionCues(value, into: &defs)
            case "handoff": parseHandoff(value, into: &defs)
            case "addons": parseAddons(value, into: &defs)
            case "frustration": parseCue(.frustration, value, into: &defs)
            case "elderly": parseCue(.elderly, value, into: &defs)
            case "fault_type", "relative_month", "month_names":
                let slot: SlotName = key == "fault_type" ? .faultType : key == "relative_month" ? .relativeMonth : .month
                parseVocabulary(slot, value, into: &defs)
            case "fillers": defs.fillers += reader.terms(value, "fillers")
            case "corrections": parseCorrections(value, into: &defs)
            case "numeral_measures": defs.numeralMeasures += reader.strings(value, "numeral_measures").map(\.0)
            case "default_language":
                if let text = reader.string(value, "default_language") {
                    if let language = Language(rawValue: text) {
                        defs.defaultLanguage = language
                    } else {
                        reader.error(value, "default_language must be 'zh' or 'en', got '\(text)'")
                    }
                }
            case "scoring": parseScoring(value, into: &defs)
            case "month_name_needs_context":
                defs.monthNeedsContext.formUnion(reader.strings(value, key).map(\.0))
            case "month_context": defs.monthContext += reader.terms(value, key)
            case "currency_before": defs.currencyBefore += reader.terms(value, key)
            case "currency_after": defs.currencyAfter += reader.terms(value, key)
            case "pin_context": defs.pinContext += reader.terms(value, key)
            case "not_age_after":
                for (text, node) in reader.strings(value, key) {
                    if text.unicodeScalars.count == 1 {
                        defs.notAgeAfter.append(text)
                    } else {
                        reader.error(node, "not_age_after entries are single characters, got '\(text)'")
                    }
                }
            case "ticket_prefixes":
                for (prefix, node) in reader.strings(value, key) {
                    if (2...4).contains(prefix.count), prefix.unicodeScalars.allSatisfy({ Scalar.isASCIILetter($0.value) }) {
                        defs.ticketPrefixes.append(prefix)
                    } else {
                        reader.error(node, "ticket prefix '\(prefix)' must be 2–4 ASCII letters")
                    }
                }
            default: break
            }
        }
    }

    // MARK: Concepts and intents

    mutating func parseConcepts(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "concepts") else { return }
        for (name, keyNode, value) in pairs {
            if !Self.isName(name) {
                reader.error(keyNode, "concept name '\(name)' must be letters, digits and '_'")
            }
            let terms = reader.terms(value, "concept '\(name)'")
            if terms.isEmpty { reader.error(keyNode, "concept '\(name)' is empty") }
            defs.concepts.append(ConceptDef(name: name, terms: terms, location: reader.location(keyNode)))
        }
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { Scalar.isASCIIAlnum($0.value) || $0 == "_" }
    }

    static func isIntentID(_ s: String) -> Bool {
        guard !s.isEmpty, !s.hasPrefix("."), !s.hasSuffix("."), !s.contains("..") else { return false }
        return s.unicodeScalars.allSatisfy { (0x61...0x7A).contains($0.value) || Scalar.isDigit($0.value) || $0 == "_" || $0 == "." }
    }

    mutating func parseIntents(_ node: Node, into defs: inout RuleDefinitions) {
        guard let sequence = node.sequence else {
            reader.error(node, "intents must be a list of intents (each starting with '- id:')")
            return
        }
        for item in sequence {
            guard let pairs = reader.pairs(item, "an intent") else { continue }
            reader.checkKeys(pairs, allowed: ["id", "description", "zh", "en"], in: "an intent")
            guard let idNode = pairs.first(where: { $0.key == "id" })?.value, let id = reader.string(idNode, "id") else {
                reader.error(item, "intent has no 'id'")
                continue
            }
            if !Self.isIntentID(id) {
                reader.error(idNode, "intent id '\(id)' must be lower-case words joined by '.' (like billing.balance)")
            }
            var intent = IntentDef(id: IntentID(id), description: "", location: reader.location(idNode))
            for (key, _, value) in pairs {
                switch key {
                case "description": intent.description = reader.string(value, "description") ?? ""
                case "zh": parseLanguageSection(.zh, value, into: &intent)
                case "en": parseLanguageSection(.en, value, into: &intent)
                default: break
                }
            }
            if intent.phrases.isEmpty && intent.patterns.isEmpty && intent.regexes.isEmpty && intent.examples.isEmpty {
                reader.error(idNode, "intent '\(id)' is empty: it has no phrases, patterns, regexes or examples")
            }
            defs.intents.append(intent)
        }
    }

    mutating func parseLanguageSection(_ language: Language, _ node: Node, into intent: inout IntentDef) {
        let what = "intent '\(intent.id)' \(language.rawValue)"
        guard let pairs = reader.pairs(node, what) else { return }
        reader.checkKeys(pairs, allowed: ["phrases", "patterns", "regexes", "exclude", "negated_by", "examples"], in: what)
        for (key, _, value) in pairs {
            switch key {
            case "phrases":
                for (text, weight, itemNode) in weighted(value, field: "text", what: "\(what) phrases") {
                    intent.phrases.append(PhraseDef(term: TermRef(parsing: text, at: reader.location(itemNode)), weight: weight))
                }
            case "patterns":
                for (text, weight, itemNode) in weighted(value, field: "pattern", what: "\(what) patterns") {
                    if let pattern = parsePattern(text, weight: weight, at: itemNode) { intent.patterns.append(pattern) }
                }
            case "regexes":
                for (text, weight, itemNode) in weighted(value, field: "regex", what: "\(what) regexes") {
                    intent.regexes.append(RegexDef(source: text, weight: weight, location: reader.location(itemNode)))
                }
            case "exclude": intent.exclude += reader.terms(value, "\(what) exclude")
            case "negated_by": intent.negatedBy += reader.terms(value, "\(what) negated_by")
            case "examples":
                for (text, itemNode) in reader.strings(value, "\(what) examples") {
                    intent.examples.append(ExampleDef(text: text, language: language, location: reader.location(itemNode)))
                }
            default: break
            }
        }
    }

    /// Entries written either as a plain value or as `{<field>: value, weight: w}`.
    mutating func weighted(_ node: Node, field: String, what: String) -> [(String, Double, Node)] {
        guard let sequence = node.sequence else {
            reader.error(node, "\(what) must be a list")
            return []
        }
        var result: [(String, Double, Node)] = []
        for item in sequence {
            if let scalar = item.scalar {
                let text = scalar.string.trimmingSpaces()
                if text.isEmpty { reader.error(item, "empty entry in \(what)") } else { result.append((text, 1.0, item)) }
                continue
            }
            guard let pairs = reader.pairs(item, "an entry of \(what)") else { continue }
            reader.checkKeys(pairs, allowed: [field, "weight"], in: "an entry of \(what)")
            guard let valueNode = pairs.first(where: { $0.key == field })?.value,
                let text = reader.string(valueNode, field)?.trimmingSpaces(), !text.isEmpty
            else {
                reader.error(item, "entry of \(what) has no '\(field)'")
                continue
            }
            var weight = 1.0
            if let weightNode = pairs.first(where: { $0.key == "weight" })?.value {
                guard let w = reader.number(weightNode, "weight", in: 0.01...5) else { continue }
                weight = w
            }
            result.append((text, weight, valueNode))
        }
        return result
    }

    /// Parses the pattern language of intents/README.md into elements.
    mutating func parsePattern(_ source: String, weight: Double, at node: Node) -> PatternDef? {
        let location = reader.location(node)
        var elements: [PatternElementDef] = []
        let chars = Array(source)
        var i = 0
        func fail(_ message: String) -> PatternDef? {
            reader.error(node, "pattern '\(source)': \(message)")
            return nil
        }
        while i < chars.count {
            if chars[i] == " " || chars[i] == "\t" {
                i += 1
                continue
            }
            var negated = false
            if chars[i] == "!" {
                negated = true
                i += 1
                if i >= chars.count || chars[i] == " " { return fail("'!' must be followed by a term or a group") }
            }
            var alternatives: [String] = []
            if chars[i] == "(" {
                guard let close = chars[i...].firstIndex(of: ")") else { return fail("'(' has no matching ')'") }
                let inner = String(chars[(i + 1)..<close])
                if inner.contains("(") { return fail("groups cannot be nested") }
                alternatives = inner.split(separator: "|", omittingEmptySubsequences: false)
                    .map { $0.trimmingSpaces() }
                if alternatives.contains(where: \.isEmpty) { return fail("a group has an empty alternative") }
                i = close + 1
            } else {
                var j = i
                while j < chars.count, chars[j] != " ", chars[j] != "\t" { j += 1 }
                let word = String(chars[i..<j])
                if word.contains(")") { return fail("')' has no matching '('") }
                if word.contains("(") { return fail("'(' must start an element") }
                i = j
                if word == "..." {
                    if negated { return fail("a gap cannot be negated") }
                    if case .gap? = elements.last { return fail("two gaps in a row") }
                    elements.append(.gap)
                    continue
                }
                if word == "#" {
                    if negated { return fail("a number cannot be negated") }
                    elements.append(.number)
                    continue
                }
                alternatives = [word]
            }
            let refs = alternatives.map { TermRef(parsing: $0, at: location) }
            elements.append(negated ? .negation(refs) : .terms(refs))
        }
        let positives = elements.filter {
            switch $0 {
            case .terms, .number: return true
            case .gap, .negation: return false
            }
        }
        if positives.isEmpty { return fail("needs at least one term to match") }
        return PatternDef(source: source, elements: elements, weight: weight, location: location)
    }

    /// `examples:` — more example utterances for intents defined anywhere: `{intent: {zh: [...], en: [...]}}`.
    mutating func parseExampleBank(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "examples") else { return }
        for (id, keyNode, value) in pairs {
            guard let languages = reader.pairs(value, "examples of '\(id)'") else { continue }
            reader.checkKeys(languages, allowed: ["zh", "en"], in: "examples of '\(id)'")
            for (key, _, list) in languages {
                guard let language = Language(rawValue: key) else { continue }
                for (text, item) in reader.strings(list, "examples of '\(id)'") {
                    defs.exampleBank.append((IntentID(id), ExampleDef(text: text, language: language, location: reader.location(item)),
                                             reader.location(keyNode)))
                }
            }
        }
    }

    mutating func parseTests(_ node: Node, into defs: inout RuleDefinitions) {
        guard let sequence = node.sequence else {
            reader.error(node, "tests must be a list of {text, intent}")
            return
        }
        for item in sequence {
            guard let pairs = reader.pairs(item, "a test") else { continue }
            reader.checkKeys(pairs, allowed: ["text", "intent"], in: "a test")
            guard let textNode = pairs.first(where: { $0.key == "text" })?.value,
                let intentNode = pairs.first(where: { $0.key == "intent" })?.value,
                let text = reader.string(textNode, "text"), let intent = reader.string(intentNode, "intent")
            else {
                reader.error(item, "a test needs both 'text' and 'intent'")
                continue
            }
            defs.tests.append(InlineTestDef(text: text, intent: IntentID(intent), location: reader.location(intentNode)))
        }
    }

    // MARK: Catalogue

    mutating func localized(_ node: Node?, _ what: String) -> [Language: String] {
        guard let node else { return [:] }
        if let scalar = node.scalar { return [.zh: scalar.string, .en: scalar.string] }
        guard let pairs = reader.pairs(node, what) else { return [:] }
        var result: [Language: String] = [:]
        for (key, keyNode, value) in pairs {
            guard let language = Language(rawValue: key) else {
                reader.error(keyNode, "\(what): unknown language '\(key)' (use zh or en)")
                continue
            }
            result[language] = reader.string(value, what)
        }
        return result
    }

    mutating func parsePlans(_ node: Node, into defs: inout RuleDefinitions) {
        guard let sequence = node.sequence else {
            reader.error(node, "plans must be a list")
            return
        }
        let keys = ["code", "name", "monthly_fee", "data_gb", "voice_minutes", "terms", "aliases", "min_age", "max_age",
                    "contract_months", "early_exit_fee", "roaming_data_gb_per_day"]
        for item in sequence {
            guard let pairs = reader.pairs(item, "a plan") else { continue }
            reader.checkKeys(pairs, allowed: keys, in: "a plan")
            let field = { (key: String) in pairs.first { $0.key == key }?.value }
            guard let codeNode = field("code"), let code = reader.string(codeNode, "code") else {
                reader.error(item, "plan has no 'code'")
                continue
            }
            func required(_ key: String, _ range: ClosedRange<Double>) -> Double? {
                guard let n = field(key) else {
                    reader.error(item, "plan '\(code)' has no '\(key)'")
                    return nil
                }
                return reader.number(n, "plan '\(code)' \(key)", in: range)
            }
            func optional(_ key: String, _ range: ClosedRange<Double>) -> Double? {
                field(key).flatMap { reader.number($0, "plan '\(code)' \(key)", in: range) }
            }
            let plan = Plan(
                code: code, name: localized(field("name"), "plan '\(code)' name"),
                monthlyFee: required("monthly_fee", 0...100_000) ?? 0,
                dataGB: required("data_gb", 0...100_000) ?? 0,
                voiceMinutes: Int(required("voice_minutes", 0...1_000_000) ?? 0),
                terms: localized(field("terms"), "plan '\(code)' terms"),
                minAge: optional("min_age", 0...130).map(Int.init), maxAge: optional("max_age", 0...130).map(Int.init),
                contractMonths: optional("contract_months", 0...120).map(Int.init),
                earlyExitFee: optional("early_exit_fee", 0...100_000),
                roamingDataGBPerDay: optional("roaming_data_gb_per_day", 0...1000))
            if plan.name.isEmpty { reader.error(codeNode, "plan '\(code)' has no name") }
            let aliases = field("aliases").map { reader.terms($0, "plan '\(code)' aliases") } ?? []
            defs.plans.append((plan, aliases, reader.location(codeNode)))
        }
    }

    mutating func parseAddons(_ node: Node, into defs: inout RuleDefinitions) {
        guard let sequence = node.sequence else {
            reader.error(node, "addons must be a list")
            return
        }
        for item in sequence {
            guard let pairs = reader.pairs(item, "an add-on") else { continue }
            reader.checkKeys(pairs, allowed: ["code", "name", "monthly_fee", "terms", "aliases", "data_gb"], in: "an add-on")
            let field = { (key: String) in pairs.first { $0.key == key }?.value }
            guard let codeNode = field("code"), let code = reader.string(codeNode, "code") else {
                reader.error(item, "add-on has no 'code'")
                continue
            }
            guard let feeNode = field("monthly_fee") else {
                reader.error(item, "add-on '\(code)' has no 'monthly_fee'")
                continue
            }
            let addon = Addon(code: code, name: localized(field("name"), "add-on '\(code)' name"),
                              monthlyFee: reader.number(feeNode, "add-on '\(code)' monthly_fee", in: 0...100_000) ?? 0,
                              terms: localized(field("terms"), "add-on '\(code)' terms"),
                              dataGB: field("data_gb").flatMap { reader.number($0, "add-on '\(code)' data_gb", in: 0...10_000) } ?? 0)
            let aliases = field("aliases").map { reader.terms($0, "add-on '\(code)' aliases") } ?? []
            defs.addons.append((addon, aliases, reader.location(codeNode)))
        }
    }

    // MARK: Cues, slots, normalization

    mutating func parseCue(_ kind: CueKind, _ node: Node, into defs: inout RuleDefinitions) {
        let what = kind.rawValue
        guard let pairs = reader.pairs(node, what) else { return }
        let allowed = kind == .frustration
            ? ["threshold", "signals", "groups"] : ["threshold", "age_at_least", "age_patterns", "groups"]
        reader.checkKeys(pairs, allowed: allowed, in: what)
        for (key, _, value) in pairs {
            switch key {
            case "threshold":
                if let t = reader.number(value, "\(what) threshold", in: 0.01...10) {
                    if kind == .frustration { defs.cueSettings.frustrationThreshold = t } else { defs.cueSettings.elderlyThreshold = t }
                }
            case "age_at_least":
                if let a = reader.number(value, "age_at_least", in: 1...130) { defs.cueSettings.ageAtLeast = Int(a) }
            case "age_patterns":
                for (text, itemNode) in reader.strings(value, "age_patterns") {
                    guard let pattern = parsePattern(text, weight: 1, at: itemNode) else { continue }
                    if !pattern.elements.contains(where: { if case .number = $0 { return true } else { return false } }) {
                        reader.error(itemNode, "age pattern '\(text)' has no '#' for the age")
                    }
                    defs.agePatterns.append(pattern)
                }
            case "signals":
                guard let signals = reader.pairs(value, "signals") else { continue }
                reader.checkKeys(signals, allowed: ["repeated_punctuation", "shouting", "repetition"], in: "signals")
                for (name, _, weightNode) in signals {
                    guard let w = reader.number(weightNode, "signal '\(name)'", in: 0...10) else { continue }
                    switch name {
                    case "repeated_punctuation": defs.cueSettings.repeatedPunctuation = w
                    case "shouting": defs.cueSettings.shouting = w
                    case "repetition": defs.cueSettings.repetition = w
                    default: break
                    }
                }
            case "groups":
                guard let sequence = value.sequence else {
                    reader.error(value, "\(what) groups must be a list")
                    continue
                }
                for group in sequence {
                    guard let groupPairs = reader.pairs(group, "a cue group") else { continue }
                    reader.checkKeys(groupPairs, allowed: ["label", "weight", "terms"], in: "a cue group")
                    let field = { (key: String) in groupPairs.first { $0.key == key }?.value }
                    let label = field("label").flatMap { reader.string($0, "label") } ?? "unnamed"
                    guard let weightNode = field("weight"), let weight = reader.number(weightNode, "weight", in: 0.01...10) else {
                        if field("weight") == nil { reader.error(group, "cue group '\(label)' has no weight") }
                        continue
                    }
                    let terms = field("terms").map { reader.terms($0, "cue group '\(label)'") } ?? []
                    if terms.isEmpty { reader.error(group, "cue group '\(label)' has no terms") }
                    defs.cueGroups.append(CueGroupDef(kind: kind, label: label, weight: weight, terms: terms,
                                                      location: reader.location(group)))
                }
            default: break
            }
        }
    }

    mutating func parseVocabulary(_ slot: SlotName, _ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, slot.rawValue) else { return }
        for (value, keyNode, termsNode) in pairs {
            // "A + B": the value only when both words are in the message; the pair outranks either word alone.
            var single: [TermRef] = []
            var together: [[TermRef]] = []
            for term in reader.terms(termsNode, "\(slot) '\(value)'") {
                guard case .literal(let text) = term.kind, text.contains("+") else {
                    single.append(term)
                    continue
                }
                let parts = text.components(separatedBy: "+").map { $0.trimmingSpaces() }
                if parts.count < 2 || parts.contains(where: \.isEmpty) {
                    reader.diagnostics.append(Diagnostic(term.location, "'\(text)': a term with '+' needs a word on each side"))
                    continue
                }
                together.append(parts.map { TermRef(parsing: $0, at: term.location) })
            }
            defs.slotVocabulary.append(SlotVocabularyDef(slot: slot, value: value, terms: single, together: together,
                                                         location: reader.location(keyNode)))
        }
    }

    mutating func parseCorrections(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "corrections") else { return }
        for (source, keyNode, value) in pairs {
            guard let target = reader.string(value, "correction '\(source)'") else { continue }
            if target.trimmingSpaces().isEmpty {
                reader.error(value, "correction '\(source)' has an empty target")
                continue
            }
            defs.corrections.append(LexiconEntry(source: source, target: target, weight: 1, location: reader.location(keyNode)))
        }
    }

    mutating func parseScoring(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "scoring") else { return }
        reader.checkKeys(pairs, allowed: ["confidence_floor", "ambiguity_margin", "example_weight", "example_cap", "extra_hit_bonus"],
                         in: "scoring")
        for (key, _, value) in pairs {
            guard let n = reader.number(value, key, in: key == "example_weight" ? 0...3 : 0...1) else { continue }
            switch key {
            case "confidence_floor": defs.scoring.confidenceFloor = n
            case "ambiguity_margin": defs.scoring.ambiguityMargin = n
            case "example_weight": defs.scoring.exampleWeight = n
            case "extra_hit_bonus": defs.scoring.extraHitBonus = n
            case "example_cap": defs.scoring.exampleCap = n
            default: break
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Unicode space separators included): what
    /// `trimmingCharacters(in: .whitespaces)` does, at a fraction of its cost on load's hot path.
    func trimmingSpaces() -> String {
        func isSpace(_ u: Unicode.Scalar) -> Bool {
            u == " " || u == "\t" || (u.value >= 0x80 && u.properties.generalCategory == .spaceSeparator)
        }
        let scalars = unicodeScalars
        // Nothing to trim (most texts): the string itself, not a copy.
        if let head = scalars.first, let tail = scalars.last, !isSpace(head), !isSpace(tail) { return String(self) }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
