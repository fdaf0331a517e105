import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard test`: runs the conversation tests.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the conversation tests (transcripts/tests by default); exit 1 on any failure."
    )

    @OptionGroup var options: RuleOptions

    @Argument(help: "Test files or folders (YAML).")
    var paths: [String] = ["transcripts/tests"]

    @Flag(help: "List every conversation, not only the failures.")
    var verbose = false

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        let (tests, diagnostics) = ConversationTest.load(paths)
        for d in diagnostics { StandardError.write("\(d)\n") }
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        var failed = 0
        var turns = 0
        for test in tests {
            let failures = test.run(ruleSet, engine: engine, classifier: classifier)
            turns += test.turns.count
            if failures.isEmpty {
                if verbose { print("ok    \(test.name)") }
            } else {
                failed += 1
                print("FAIL  \(test.name)  (\(test.file):\(test.line))")
                for f in failures { print("      \(f)") }
            }
        }
        print("\(tests.count - failed) of \(tests.count) conversations passed (\(turns) turns)"
              + (diagnostics.isEmpty ? "" : "; \(diagnostics.count) file error(s)"))
        if failed > 0 || !diagnostics.isEmpty || tests.isEmpty { throw ExitCode(1) }
    }
}
