import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard corpus`: writes a reproducible corpus of conversation logs for replay and analytics.
struct Corpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate conversation logs (played through the bot) for replay, analytics and benchmarks.",
        discussion: """
            Writes OUT/sessions.jsonl (transcript lines of every session, interleaved in time order as a \
            server logs them) and OUT/customer-only.jsonl (customer lines only, the minimal replay input). \
            The same seed always gives the same bytes. Memory stays flat however many sessions are asked for.
            """
    )

    @OptionGroup var options: RuleOptions

    @Option(help: "The seed: the same seed writes the same corpus.")
    var seed: UInt64 = 7

    @Option(help: "Sessions in sessions.jsonl.")
    var sessions = 600

    @Option(name: .customLong("customer-only-sessions"), help: "Sessions in customer-only.jsonl.")
    var customerOnlySessions = 50

    @Option(help: "The folder to write to.")
    var out = "transcripts/corpus"

    @Flag(help: "Also print the figures of sessions.jsonl (voices, channels, intents, reasons…) as one JSON document.")
    var json = false

    func validate() throws {
        guard sessions >= 1 && sessions <= 100_000_000 else {
            throw ValidationError("--sessions must be in 1...100000000, got \(sessions)")
        }
        guard customerOnlySessions >= 0 && customerOnlySessions <= 1_000_000 else {
            throw ValidationError("--customer-only-sessions must be in 0...1000000, got \(customerOnlySessions)")
        }
    }

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        let generator = CorpusGenerator(ruleSet: ruleSet, seed: seed)
        do {
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } catch {
                throw CorpusWriteError(description: "cannot create the folder \(out): \(error.localizedDescription)")
            }
            let main = try write(
                generator.sessions(sessions), to: (out as NSString).appendingPathComponent("sessions.jsonl"))
            let minimal = try write(
                generator.customerOnly(customerOnlySessions),
                to: (out as NSString).appendingPathComponent("customer-only.jsonl"))
            StandardError.write(
                "switchboard corpus: \(main.line); \(minimal.sessions) customer-only sessions "
                    + "(\(minimal.customerTurns) turns); in \(out)\n")
            if json { print(main.json.serialized()) }
        } catch let error as CorpusWriteError {
            StandardError.write("switchboard corpus: \(error)\n")
            throw ExitCode(1)
        }
    }

    struct CorpusWriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Streams the corpus to a temporary file beside `path`, then moves it into place: a run that
    /// fails leaves the previous corpus as it was.
    private func write(_ stream: CorpusStream, to path: String) throws -> CorpusSummary {
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw CorpusWriteError(description: "cannot create \(temporary)") }
        do {
            while let chunk = stream.nextChunk() { try handle.write(contentsOf: chunk) }
            try handle.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CorpusWriteError(description: "cannot write \(path): \(error.localizedDescription)")
        }
        return stream.summary
    }
}
