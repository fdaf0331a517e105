#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard replay`: re-runs recorded conversations through the current rules and reports
/// deflection, segments, repeat contacts and what a rule change would do (docs/metrics.md).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run the customer turns of transcript files or folders and report outcomes and deflection.",
        discussion: """
            Reads the files as a stream (any size; memory follows the sessions open at once), replays each \
            session's customer turns in a fresh session against an in-memory copy of the demo data, and reports \
            the figures defined in docs/metrics.md. Give --rules twice to compare two rule sets side by side \
            (the first is the baseline), and --compare to set the logs' recorded outcomes against these rules.
            """
    )

    @Option(name: .long, help: "The rules folder; a second --rules is the rule set to compare it with.")
    var rules: [String] = []
    @Option(name: .long, help: "The dialect lexicon folder.") var lexicons = "dialect-lexicons"
    @Option(name: .long, help: "The SQLite database (not used: replay never touches it).") var db = "switchboard.sqlite"

    @Argument(help: "Transcript files, or folders searched recursively for *.jsonl.")
    var paths: [String]

    @Flag(help: "Print the report as one JSON document.") var json = false
    @Flag(help: "Set the outcomes recorded in the logs' end events against the replayed ones, and list each session that changed.")
    var compare = false
    @Option(help: "Also write a self-contained HTML report to this file.") var html: String?
    @Option(name: .customLong("session-gap"), help: "Minutes of log time after which a session without an end event is complete.")
    var sessionGap: Double = 120
    @Option(help: "Replaying threads (default: one per core).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Clusters of fallback and complaint texts to report.") var clusters = 20
    @Option(help: "Changed sessions to list in the readable report (all are in --json).") var show = 10
    @Flag(name: .customLong("no-memo"), help: "Classify every message anew, even one seen before (the report is the same; only slower).")
    var noMemo = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one transcript file or folder") }
        guard rules.count <= 2 else { throw ValidationError("--rules at most twice: the baseline, then the rule set to compare") }
        guard threads >= 1, sessionGap > 0, clusters >= 0, show >= 0 else {
            throw ValidationError("--threads must be at least 1, --session-gap positive, --clusters and --show not negative")
        }
    }

    func run() throws {
        let baseDir = rules.first ?? "intents"
        let base = try load(baseDir)
        let other = try rules.count == 2 ? (rules: load(rules[1]), names: (base: baseDir, other: rules[1])) : nil
        let (files, missing) = FileSearch.files(paths, suffixes: [".jsonl"])
        if let path = missing.first {
            StandardError.write("switchboard replay: no such file or folder: \(path)\n")
            throw ExitCode(1)
        }
        var options = ReplayRunner.Options()
        options.compare = compare
        options.sessionGap = sessionGap * 60
        options.threads = threads
        options.clusterLimit = clusters
        if noMemo { options.remembersMessages = false }
        let bar = ProgressBar()
        let result: ReplayRunner.Result
        do {
            result = try ReplayRunner(rules: base, other: other, options: options).run(files: files) { bar.update($0, of: $1) }
        } catch {
            bar.clear()
            StandardError.write("switchboard replay: \(error)\n")
            throw ExitCode(1)
        }
        bar.clear()
        for file in result.input.unreadableFiles { StandardError.write("switchboard replay: cannot read \(file)\n") }
        if let html {
            let page = HTMLReport.render(result.summary, title: "Switchboard replay — \(paths.joined(separator: ", "))")
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                StandardError.write("switchboard replay: cannot write \(html): \(error.localizedDescription)\n")
                throw ExitCode(1)
            }
        }
        if json {
            let out = FileHandle.standardOutput
            var pending = Data()
            result.writeJSON { block in
                pending.append(block)
                if pending.count >= 1 << 16 {
                    out.write(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            pending.append(contentsOf: [0x0A])
            out.write(pending)
        } else {
            print(ReplayText(report: result.summary, show: show).render(), terminator: "")
        }
        if result.input.skippedLines > 0 || result.input.lateLines > 0 {
            StandardError.write("switchboard replay: \(result.input.skippedLines) malformed line(s) skipped, \(result.input.lateLines) line(s) after their session's end ignored\n")
        }
    }

    private func load(_ directory: String) throws -> RuleSet {
        var options = RuleOptions()
        options.rules = directory
        options.lexicons = lexicons
        return try options.loadRuleSet()
    }
}

/// A progress bar on standard error, only when it is a terminal and the input is large (over
/// 20 MB); cleared before the report.
final class ProgressBar {
    private let enabled = isatty(STDERR_FILENO) == 1
    private var shown = false
    private var last = -1

    func update(_ done: Int, of total: Int) {
        guard enabled, total > 20_000_000 else { return }
        let percent = Int(Double(done) / Double(total) * 100)
        guard percent != last else { return }
        last = percent
        shown = true
        let width = 30
        let filled = width * min(percent, 100) / 100
        StandardError.write("\rreplaying [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                            + "] \(percent)% of \(total / 1_000_000) MB")
    }

    func clear() {
        if shown { StandardError.write("\r" + String(repeating: " ", count: 60) + "\r") }
        shown = false
    }
}

/// The report for a terminal: the figures an analyst looks at first, then segments, clusters
/// and what changed.
struct ReplayText {
    let report: JSONValue
    let show: Int

    func render() -> String {
        var out = ""
        let sessions = int(report, "sessions")
        out += "\(sessions) sessions, \(int(report, "turns")) customer turns replayed"
        out += " (metrics v\(report[["definitions", "version"]]?.string ?? "?"), see docs/metrics.md)\n"
        let outcomes = ["resolved", "handoff", "abandoned"].map {
            "\($0) \(int(report, "outcomes", $0)) (\(percent(int(report, "outcomes", $0), sessions)))"
        }
        out += "  outcomes        " + outcomes.joined(separator: "  ") + "\n"
        out += "  deflection      \(percent(int(report, "outcomes", "resolved"), sessions)) (resolved / sessions)\n"
        if let contained = report["contained"], contained.pairs != nil {
            out += "  contained       \(rate(contained["rate"]?.number ?? 0)) of \(int(contained, "sessions_with_customer_and_time")) sessions with a customer and time"
            out += " (\(int(contained, "resolved_then_repeated")) resolved sessions followed by a repeat contact within 24 h)\n"
        }
        out += "  fallback turns  \(int(report, "fallback_turns"))\n"
        if int(report, "skipped_lines") > 0 { out += "  skipped lines   \(int(report, "skipped_lines")) (not JSON, or no session/role)\n" }
        out += section("handoff reasons", counts(report["handoff_reasons"]))
        out += section("intents (top 10)", Array(counts(report["intents"]).prefix(10)))
        if let kinds = report["segments"]?.pairs {
            out += "\ndeflection by segment\n"
            for (kind, values) in kinds {
                guard let entries = values.pairs, !entries.isEmpty else { continue }
                let sorted = entries.sorted { (int($0.1, "sessions"), $1.0) > (int($1.1, "sessions"), $0.0) }.prefix(8)
                let cells = sorted.map { "\($0.0) \(rate($0.1["deflection_rate"]?.number ?? 0)) of \(int($0.1, "sessions"))" }
                out += "  " + kind.padding(toLength: 15, withPad: " ", startingAt: 0) + " " + cells.joined(separator: " · ") + "\n"
            }
        }
        for (key, title) in [("fallback_clusters", "not understood, clustered"), ("complaint_clusters", "complaints, clustered")] {
            guard let list = report[key]?.items, !list.isEmpty else { continue }
            out += "\n\(title) (largest first)\n"
            for cluster in list.prefix(10) {
                let examples = (cluster["examples"]?.items ?? []).prefix(3).compactMap { $0["text"]?.string }
                out += "  \(String(int(cluster, "size")).padding(toLength: 5, withPad: " ", startingAt: 0)) \(examples.joined(separator: " | "))\n"
            }
        }
        for (key, title) in [("compare", "recorded outcomes → these rules"), ("what_if", "baseline rules → other rules")] {
            guard let comparison = report[key] else { continue }
            out += "\n\(title)"
            if key == "what_if" { out += " (\(comparison["base_rules"]?.string ?? "") → \(comparison["other_rules"]?.string ?? ""))" }
            out += ": \(int(comparison, "changed")) of \(int(comparison, "sessions")) sessions changed\n"
            func deflection(_ side: String) -> String { percent(int(comparison, side, "resolved"), int(comparison, side, "sessions")) }
            out += "  deflection      \(deflection("before")) → \(deflection("after"))\n"
            for (transition, count) in counts(comparison["transitions"]) {
                out += "  \(transition.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)\n"
            }
            for changed in (comparison["changed_sessions"]?.items ?? []).prefix(show) {
                out += "  · \(changed["session"]?.string ?? "") \(changed["before"]?.string ?? "") → \(changed["after"]?.string ?? "")"
                let reasons = (changed["after_reasons"]?.items ?? []).compactMap(\.string)
                if !reasons.isEmpty { out += " (\(reasons.joined(separator: ", ")))" }
                out += "\n"
                for turn in (changed["turns"]?.items ?? []).compactMap(\.string) { out += "      > \(turn)\n" }
            }
        }
        if let definitions = report["definitions"]?.pairs {
            out += "\ndefinitions (metrics v\(report[["definitions", "version"]]?.string ?? "?"))\n"
            for (term, text) in definitions where term != "version" {
                out += "  " + term.padding(toLength: 16, withPad: " ", startingAt: 0) + (text.string ?? "") + "\n"
            }
        }
        return out
    }

    private func section(_ title: String, _ rows: [(String, Int)]) -> String {
        guard !rows.isEmpty else { return "" }
        return "\n\(title)\n" + rows.map { "  " + $0.0.padding(toLength: 20, withPad: " ", startingAt: 0) + " \($0.1)\n" }.joined()
    }

    private func int(_ value: JSONValue, _ path: String...) -> Int { value[path]?.int ?? 0 }

    /// An object of counts, largest first (ties by name).
    private func counts(_ value: JSONValue?) -> [(String, Int)] {
        (value?.pairs ?? []).compactMap { k, v in v.int.map { (k, $0) } }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
    }

    private func rate(_ r: Double) -> String { String(format: "%.1f%%", r * 100) }
    private func percent(_ part: Int, _ whole: Int) -> String { whole == 0 ? "0%" : String(format: "%.1f%%", Double(part) / Double(whole) * 100) }
}
