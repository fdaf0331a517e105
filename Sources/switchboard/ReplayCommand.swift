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
    @Flag(name: .customLong("no-memo"), help: "Replay every session and classify every message, even ones seen before (the report is the same; only slower).")
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
        if noMemo { options.memo = 0 }
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
        let sessions = int("sessions")
        out += "\(sessions) sessions, \(int("turns")) customer turns replayed"
        out += " (metrics v\(string(["definitions", "version"]) ?? "?"), see docs/metrics.md)\n"
        let outcomes = ["resolved", "handoff", "abandoned"].map { "\($0) \(int("outcomes", $0)) (\(percent(int("outcomes", $0), sessions)))" }
        out += "  outcomes        " + outcomes.joined(separator: "  ") + "\n"
        out += "  deflection      \(percent(int("outcomes", "resolved"), sessions)) (resolved / sessions)\n"
        if case .object = value(["contained"]) ?? .null {
            out += "  contained       \(rate(double("contained", "rate"))) of \(int("contained", "sessions_with_customer_and_time")) sessions with a customer and time"
            out += " (\(int("contained", "resolved_then_repeated")) resolved sessions followed by a repeat contact within 24 h)\n"
        }
        out += "  fallback turns  \(int("fallback_turns"))\n"
        if int("skipped_lines") > 0 { out += "  skipped lines   \(int("skipped_lines")) (not JSON, or no session/role)\n" }
        out += section("handoff reasons", counts(["handoff_reasons"]))
        out += section("intents (top 10)", Array(counts(["intents"]).prefix(10)))
        if case .object(let kinds) = value(["segments"]) ?? .null {
            out += "\ndeflection by segment\n"
            for (kind, values) in kinds {
                guard case .object(let entries) = values, !entries.isEmpty else { continue }
                let sorted = entries.sorted { ($0.1.int("sessions"), $1.0) > ($1.1.int("sessions"), $0.0) }.prefix(8)
                let cells = sorted.map { "\($0.0) \(rate($0.1.double("deflection_rate"))) of \($0.1.int("sessions"))" }
                out += "  " + kind.padding(toLength: 15, withPad: " ", startingAt: 0) + " " + cells.joined(separator: " · ") + "\n"
            }
        }
        for (key, title) in [("fallback_clusters", "not understood, clustered"), ("complaint_clusters", "complaints, clustered")] {
            guard case .array(let list) = value([key]) ?? .null, !list.isEmpty else { continue }
            out += "\n\(title) (largest first)\n"
            for cluster in list.prefix(10) {
                let examples = (cluster.array("examples") ?? []).prefix(3).compactMap { $0.string("text") }
                out += "  \(String(cluster.int("size")).padding(toLength: 5, withPad: " ", startingAt: 0)) \(examples.joined(separator: " | "))\n"
            }
        }
        for (key, title) in [("compare", "recorded outcomes → these rules"), ("what_if", "baseline rules → other rules")] {
            guard let comparison = value([key]) else { continue }
            out += "\n\(title)"
            if key == "what_if" { out += " (\(comparison.string("base_rules") ?? "") → \(comparison.string("other_rules") ?? ""))" }
            out += ": \(comparison.int("changed")) of \(comparison.int("sessions")) sessions changed\n"
            func deflection(_ side: String) -> String {
                percent(comparison.value([side, "resolved"])?.intValue ?? 0, comparison.value([side, "sessions"])?.intValue ?? 0)
            }
            out += "  deflection      \(deflection("before")) → \(deflection("after"))\n"
            for (transition, count) in comparison.counts("transitions") { out += "  \(transition.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)\n" }
            for changed in (comparison.array("changed_sessions") ?? []).prefix(show) {
                out += "  · \(changed.string("session") ?? "") \(changed.string("before") ?? "") → \(changed.string("after") ?? "")"
                let reasons = (changed.array("after_reasons") ?? []).compactMap(\.stringValue)
                if !reasons.isEmpty { out += " (\(reasons.joined(separator: ", ")))" }
                out += "\n"
                for turn in (changed.array("turns") ?? []).compactMap(\.stringValue) { out += "      > \(turn)\n" }
            }
        }
        if case .object(let definitions) = value(["definitions"]) ?? .null {
            out += "\ndefinitions (metrics v\(string(["definitions", "version"]) ?? "?"))\n"
            for (term, text) in definitions where term != "version" {
                out += "  " + term.padding(toLength: 16, withPad: " ", startingAt: 0) + (text.stringValue ?? "") + "\n"
            }
        }
        return out
    }

    private func section(_ title: String, _ rows: [(String, Int)]) -> String {
        guard !rows.isEmpty else { return "" }
        return "\n\(title)\n" + rows.map { "  " + $0.0.padding(toLength: 20, withPad: " ", startingAt: 0) + " \($0.1)\n" }.joined()
    }

    private func value(_ path: [String]) -> JSONValue? { report.value(path) }
    private func int(_ path: String...) -> Int { report.value(path)?.intValue ?? 0 }
    private func double(_ path: String...) -> Double { report.value(path)?.doubleValue ?? 0 }
    private func string(_ path: [String]) -> String? { report.value(path)?.stringValue }
    private func counts(_ path: [String]) -> [(String, Int)] { report.counts(path) }
    private func rate(_ r: Double) -> String { String(format: "%.1f%%", r * 100) }
    private func percent(_ part: Int, _ whole: Int) -> String { whole == 0 ? "0%" : String(format: "%.1f%%", Double(part) / Double(whole) * 100) }
}

extension JSONValue {
    func value(_ path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            guard case .object(let members) = current, let next = members.first(where: { $0.0 == key })?.1 else { return nil }
            current = next
        }
        return current
    }
    var intValue: Int? {
        switch self {
        case .int(let i): i
        case .double(let d): Int(d)
        default: nil
        }
    }
    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    func int(_ key: String) -> Int { value([key])?.intValue ?? 0 }
    func double(_ key: String) -> Double { value([key])?.doubleValue ?? 0 }
    func string(_ key: String) -> String? { value([key])?.stringValue }
    func array(_ key: String) -> [JSONValue]? { if case .array(let a) = value([key]) ?? .null { a } else { nil } }
    /// An object of counts, largest first (ties by name).
    func counts(_ path: [String]) -> [(String, Int)] {
        guard case .object(let members) = value(path) ?? .null else { return [] }
        return members.compactMap { k, v in v.intValue.map { (k, $0) } }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
    }
    func counts(_ key: String) -> [(String, Int)] { counts([key]) }
}
