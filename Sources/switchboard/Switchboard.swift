import ArgumentParser
import SwitchboardCore

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A rule-based customer-service bot for telecom operators, with human handoff.",
        subcommands: [Chat.self, Serve.self, AgentCommand.self, TestCommand.self, ReplayCommand.self, Corpus.self, Classify.self, Check.self, Evaluate.self, Bench.self]
    )
}

/// Where the rule set and the database are; every subcommand accepts these after its name.
struct RuleOptions: ParsableArguments {
    @Option(name: .long, help: "The rules folder (intents, flows, catalogue).")
    var rules: String = "intents"

    @Option(name: .long, help: "The dialect lexicon folder.")
    var lexicons: String = "dialect-lexicons"

    @Option(name: .long, help: "The SQLite database file.")
    var db: String = "switchboard.sqlite"

    var sources: RuleSources { RuleSources(rulesDirectory: rules, lexiconsDirectory: lexicons) }

    /// Loads the rule set, or prints every problem and exits 1.
    func loadRuleSet() throws -> RuleSet {
        do {
            return try RuleLoader.load(sources)
        } catch {
            StandardError.write(error.description + "\n")
            StandardError.write("switchboard: the rule set has \(error.diagnostics.count) error(s); run 'switchboard check' after fixing them\n")
            throw ExitCode(1)
        }
    }
}
