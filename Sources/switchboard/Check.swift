import ArgumentParser
import SwitchboardCore

/// `switchboard check`: validates the rule set and lexicons, reporting every problem at once.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the rule set and dialect lexicons; errors name file, line and column."
    )

    @OptionGroup var options: RuleOptions

    func run() throws {
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleLoader.load(options.sources)
        } catch {
            for diagnostic in error.diagnostics { StandardError.write(diagnostic.description + "\n") }
            StandardError.write("\(error.diagnostics.count) error(s)\n")
            throw ExitCode(1)
        }
        let failures = ruleSet.runInlineTests()
        for diagnostic in failures { StandardError.write(diagnostic.description + "\n") }
        if !failures.isEmpty {
            StandardError.write("\(failures.count) error(s)\n")
            throw ExitCode(1)
        }
        let dialects = ruleSet.dialectEntryCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("ok: \(ruleSet.intents.count) intents, \(ruleSet.patternCount) patterns, \(ruleSet.termCount) terms, "
              + "\(ruleSet.exampleCount) examples, \(ruleSet.plans.count) plans, dialects: \(dialects.joined(separator: ", ")); "
              + "\(ruleSet.inlineTestCount) rule tests pass")
    }
}
