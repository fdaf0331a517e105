import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard replay`: re-runs recorded conversations through the current rules.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run the customer turns of transcript files or folders and report outcomes and deflection."
    )

    @OptionGroup var options: RuleOptions

    @Argument(help: "Transcript files, or folders searched recursively for *.jsonl.")
    var paths: [String]

    @Flag(help: "Print the report as one JSON document.")
    var json = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one transcript file or folder") }
    }

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        let (files, missing) = FileSearch.files(paths, suffixes: [".jsonl"])
        if let path = missing.first {
            StandardError.write("switchboard replay: no such file or folder: \(path)\n")
            throw ExitCode(1)
        }
        var skipped = 0
        var recorded: [Replay.RecordedSession] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                StandardError.write("switchboard replay: cannot read \(file)\n")
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            recorded += Replay.sessions(fromLines: text.split(separator: "\n", omittingEmptySubsequences: false), skipped: &skipped)
        }
        let replay = Replay(ruleSet: ruleSet)
        let now = Date()
        let results = recorded.map { replay.run($0, now: now) }
        let report = Replay.report(results, turns: recorded.reduce(0) { $0 + $1.turns.count }, skipped: skipped)
        if json {
            print(report.serialized())
        } else {
            let resolved = results.filter { $0.outcome == .resolved }.count
            print("\(results.count) sessions, \(recorded.reduce(0) { $0 + $1.turns.count }) customer turns; resolved \(resolved), "
                  + "handoff \(results.filter { $0.outcome == .handoff }.count), abandoned \(results.filter { $0.outcome == .abandoned }.count); "
                  + String(format: "deflection %.1f%%", results.isEmpty ? 0 : Double(resolved) / Double(results.count) * 100)
                  + (skipped > 0 ? "; \(skipped) malformed line(s) skipped" : ""))
        }
    }
}
