import Foundation
import Testing

@testable import SwitchboardCore

/// A copy of the shipped rules with one broken file added: what `check` must say about it.
struct BrokenFixture: CustomTestStringConvertible, Sendable {
    var name: String
    var file: String
    var contents: String
    /// Expected `file:line:column` suffix and a fragment of the message.
    var line: Int
    var column: Int
    var message: String

    var testDescription: String { name }
}

@Suite struct CheckTests {
    static let fixtures: [BrokenFixture] = [
        BrokenFixture(name: "unknown handoff reason", file: "zz.yaml", contents: """
            handoff:
              reasons:
                angry: {priority: 3}
            """, line: 3, column: 5, message: "unknown handoff reason 'angry'"),
        BrokenFixture(name: "unknown handoff mode", file: "zz.yaml", contents: """
            handoff:
              reasons:
                frustration: {priority: 3, mode: sometimes}
            """, line: 3, column: 32, message: "mode must be one of at_once, offer_first, after_bot, got 'sometimes'"),
        BrokenFixture(name: "handoff after an intent with no flow", file: "zz.yaml", contents: """
            handoff:
              reasons:
                complaint: {priority: 2, mode: after_bot, intents: [complaint.flie]}
            """, line: 3, column: 57, message: "handoff after_bot names 'complaint.flie', which has no flow"),
        BrokenFixture(name: "a word pair missing its second word", file: "zz.yaml", contents: """
            fault_type:
              no_signal: ["没信号 + "]
            """, line: 2, column: 15, message: "needs a word on each side"),
        BrokenFixture(name: "a person offered above the hand-off mark", file: "zz.yaml", contents: """
            session_cues:
              offer_at: 0.9
              handoff_at: 0.6
            """, line: 2, column: 3, message: "offer_at (0.9) must not be above handoff_at (0.6)"),
        BrokenFixture(name: "YAML syntax error", file: "zz.yaml", contents: """
            intents:
              - id: x.y
                zh: {phrases: [a, b}
            """, line: 3, column: 24, message: "YAML syntax"),
        BrokenFixture(name: "unknown concept", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                zh:
                  phrases: [~no_such_concept]
            """, line: 4, column: 17, message: "unknown concept '~no_such_concept'"),
        BrokenFixture(name: "misspelt concept gets a suggestion", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                zh:
                  patterns: ["~want_wrd ... 余额"]
            """, line: 4, column: 18, message: "did you mean '~want_word'"),
        BrokenFixture(name: "duplicate intent id", file: "zz.yaml", contents: """
            intents:
              - id: billing.balance
                zh: {phrases: [余额余额余额]}
            """, line: 2, column: 9, message: "intent 'billing.balance' is defined twice"),
        BrokenFixture(name: "bad regex", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                en:
                  regexes: ["bill(("]
            """, line: 4, column: 17, message: "bad regex"),
        BrokenFixture(name: "empty intent", file: "zz.yaml", contents: """
            intents:
              - id: fixture.empty
                description: nothing here
            """, line: 2, column: 9, message: "is empty"),
        BrokenFixture(name: "unknown key with suggestion", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                zh:
                  phrase: [余额余额]
            """, line: 4, column: 7, message: "unknown key 'phrase' in intent 'fixture.one' zh (did you mean 'phrases'?)"),
        BrokenFixture(name: "test names an unknown intent", file: "zz.yaml", contents: """
            tests:
              - text: 话费余额
                intent: billing.balanse
            """, line: 3, column: 13, message: "test names unknown intent 'billing.balanse' (did you mean 'billing.balance'?)"),
        BrokenFixture(name: "unbalanced pattern group", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                zh:
                  patterns:
                    - (退订|取消 ... 彩铃
            """, line: 5, column: 11, message: "'(' has no matching ')'"),
        BrokenFixture(name: "weight is not a number", file: "zz.yaml", contents: """
            intents:
              - id: fixture.one
                zh:
                  phrases:
                    - text: 余额余额
                      weight: heavy
            """, line: 6, column: 19, message: "weight must be a number"),
        BrokenFixture(name: "concept defined twice", file: "zz.yaml", contents: """
            concepts:
              want_word: [想要]
            """, line: 2, column: 3, message: "concept 'want_word' is defined twice"),
        BrokenFixture(name: "concept includes itself", file: "zz.yaml", contents: """
            concepts:
              loop_a: [~loop_b]
              loop_b: [~loop_a]
            """, line: 2, column: 3, message: "includes itself"),
        BrokenFixture(name: "unknown fault type", file: "zz.yaml", contents: """
            fault_type:
              no_wifi: [没wifi]
            """, line: 2, column: 3, message: "unknown fault type 'no_wifi'"),
        BrokenFixture(name: "intent id format", file: "zz.yaml", contents: """
            intents:
              - id: Billing Balance
                zh: {phrases: [余额余额]}
            """, line: 2, column: 9, message: "must be lower-case words"),
        BrokenFixture(name: "duplicate key in a mapping", file: "zz.yaml", contents: """
            scoring:
              confidence_floor: 0.3
              confidence_floor: 0.4
            """, line: 2, column: 3, message: "duplicate key 'confidence_floor'"),
        BrokenFixture(name: "unknown top-level section", file: "zz.yaml", contents: """
            intent:
              - id: fixture.one
            """, line: 1, column: 1, message: "unknown key 'intent' in a rule file (did you mean 'intents'?)"),
        BrokenFixture(name: "examples for an unknown intent", file: "zz.yaml", contents: """
            examples:
              billing.balanse:
                zh: [话费还有多少]
            """, line: 2, column: 3, message: "examples for unknown intent 'billing.balanse' (did you mean 'billing.balance'?)"),
        BrokenFixture(name: "score setting out of range", file: "zz.yaml", contents: """
            scoring:
              confidence_floor: 3
            """, line: 2, column: 21, message: "confidence_floor must be a number in 0.0...1.0"),
    ]

    static let lexiconFixtures: [BrokenFixture] = [
        BrokenFixture(name: "dialect entry with an empty target", file: "zz.tsv", contents: """
            # id: zz
            # kind: dialect
            冇\t没有\t1.0
            咗\t\t1.0
            """, line: 4, column: 3, message: "entry '咗' has an empty Mandarin target"),
        BrokenFixture(name: "lexicon without an id", file: "zz.tsv", contents: """
            # kind: dialect
            冇\t没有
            """, line: 1, column: 1, message: "has no '# id:' header"),
        BrokenFixture(name: "entry listed twice", file: "zz.tsv", contents: """
            # id: zz
            # kind: dialect
            冇\t没有
            冇\t没
            """, line: 4, column: 1, message: "listed twice (first on line 3)"),
        BrokenFixture(name: "bad weight", file: "zz.tsv", contents: """
            # id: zz
            # kind: dialect
            冇\t没有\tstrong
            """, line: 3, column: 1, message: "weight must be a number"),
    ]

    /// Copies the shipped rules and lexicons into a temporary folder.
    static func copyOfShippedRules() throws -> (rules: URL, lexicons: URL) {
        let dir = try Repo.temporaryDirectory("check")
        let rules = dir.appendingPathComponent("intents")
        let lexicons = dir.appendingPathComponent("dialect-lexicons")
        try FileManager.default.copyItem(atPath: Repo.rules, toPath: rules.path)
        try FileManager.default.copyItem(atPath: Repo.lexicons, toPath: lexicons.path)
        return (rules, lexicons)
    }

    func diagnostics(adding fixture: BrokenFixture, toLexicons: Bool) throws -> [Diagnostic] {
        let copy = try Self.copyOfShippedRules()
        let folder = toLexicons ? copy.lexicons : copy.rules
        try fixture.contents.write(to: folder.appendingPathComponent(fixture.file), atomically: true, encoding: .utf8)
        do {
            _ = try RuleLoader.load(RuleSources(rulesDirectory: copy.rules.path, lexiconsDirectory: copy.lexicons.path))
            return []
        } catch {
            return error.diagnostics
        }
    }

    @Test func shippedRulesAreClean() throws {
        let ruleSet = try Repo.ruleSet()
        #expect(ruleSet.runInlineTests().isEmpty)
        #expect(Set(IntentID.canonical).isSubset(of: Set(ruleSet.intents)))
    }

    @Test(arguments: fixtures)
    func brokenRuleFileIsReportedAtItsPosition(_ fixture: BrokenFixture) throws {
        let found = try diagnostics(adding: fixture, toLexicons: false)
        let position = "\(fixture.file):\(fixture.line):\(fixture.column): error:"
        #expect(found.contains { $0.description.contains(position) && $0.message.contains(fixture.message) },
                "expected '\(position) …\(fixture.message)…' in:\n\(found.map(\.description).joined(separator: "\n"))")
    }

    @Test(arguments: lexiconFixtures)
    func brokenLexiconIsReportedAtItsPosition(_ fixture: BrokenFixture) throws {
        let found = try diagnostics(adding: fixture, toLexicons: true)
        let position = "\(fixture.file):\(fixture.line):\(fixture.column): error:"
        #expect(found.contains { $0.description.contains(position) && $0.message.contains(fixture.message) },
                "expected '\(position) …\(fixture.message)…' in:\n\(found.map(\.description).joined(separator: "\n"))")
    }

    @Test func everyProblemIsReportedInOneRunSortedByFileAndLine() throws {
        let copy = try Self.copyOfShippedRules()
        for (index, fixture) in Self.fixtures.enumerated() where fixture.name != "YAML syntax error" {
            try fixture.contents.write(to: copy.rules.appendingPathComponent("zz\(index).yaml"), atomically: true, encoding: .utf8)
        }
        do {
            _ = try RuleLoader.load(RuleSources(rulesDirectory: copy.rules.path, lexiconsDirectory: copy.lexicons.path))
            Issue.record("a broken copy loaded without errors")
        } catch {
            let files = Set(error.diagnostics.map { URL(fileURLWithPath: $0.location.file).lastPathComponent })
            #expect(files.count == Self.fixtures.count - 1, "\(files.sorted())")
            #expect(error.diagnostics == error.diagnostics.sorted())
        }
    }
}
