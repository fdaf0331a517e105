import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardServer
import SwitchboardStore

/// `switchboard serve`: the socket adapter.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve customers over TCP (one session per connection) and agents on a second port.",
        discussion: """
            Customers connect to --port: with --protocol text (for nc or telnet) the bot greets them and \
            answers each line; with --protocol jsonl each line is {"text": ...} and each answer the events of \
            'chat --jsonl'. A dropped jsonl client resumes by sending {"resume": "SESSION"} as its first line \
            within --resume-window seconds. Agents connect to --agent-port with 'switchboard agent connect' \
            (or the jsonl agent protocol, docs/agent-protocol.md). SIGINT or SIGTERM stops the server \
            gracefully: customers are told, turns in progress finish, the transcript log is flushed.
            """
    )

    @OptionGroup var options: RuleOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The customers' port (0: any free port, printed at start).")
    var port = 7878

    @Option(name: .customLong("agent-port"), help: "The agents' port (0: any free port).")
    var agentPort = 7879

    @Option(name: .customLong("protocol"), help: "text or jsonl.")
    var wire: String = "text"

    @Option(name: .customLong("max-line-bytes"), help: "The longest line a client may send.")
    var maxLineBytes = 4096

    @Option(name: .customLong("max-connections"), help: "Connections beyond this are told the lines are busy.")
    var maxConnections = 12_000

    @Option(name: .customLong("idle-timeout"), help: "Seconds of silence before a session ends with a goodbye.")
    var idleTimeout: Double = 600

    @Option(name: .customLong("resume-window"), help: "Seconds a dropped jsonl session can be resumed.")
    var resumeWindow: Double = 120

    @Option(name: .customLong("write-timeout"), help: "Seconds a client may leave our output unread before it is disconnected.")
    var writeTimeout: Double = 30

    @Option(name: .customLong("metrics-port"), help: "Serve a plain-text metrics page on this port.")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-interval"), help: "Seconds between metrics log lines (0: none).")
    var metricsInterval: Double = 10

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(help: "The transcript log to append to (default: transcripts/log/DATE.jsonl).")
    var log: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard WireProtocol(rawValue: wire) != nil else { throw ValidationError("--protocol must be text or jsonl, got '\(wire)'") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        guard (0...65535).contains(port), (0...65535).contains(agentPort) else { throw ValidationError("ports are 0–65535") }
        guard maxLineBytes >= 64, maxConnections >= 1, idleTimeout > 0, resumeWindow >= 0, writeTimeout > 0 else {
            throw ValidationError("limits must be positive (--max-line-bytes at least 64)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in LogfmtHandler(label: label, level: level) }
        let logger = Logger(label: "switchboard.serve")
        let ruleSet = try options.loadRuleSet()
        let store: SQLiteOperatorData
        let queue: SQLiteHandoffQueue
        let transcripts: TranscriptLog
        let checkpointer: WALCheckpointer
        do {
            store = try SQLiteOperatorData(path: options.db, ruleSet: ruleSet, now: Date())
            queue = try SQLiteHandoffQueue(path: options.db, policy: ruleSet.dialogue.handoff)
            transcripts = try TranscriptLog(path: log ?? TranscriptLog.defaultPath())
            // Checkpoints run on a thread of their own, never inside a turn's commit.
            try store.manualCheckpoints()
            try queue.manualCheckpoints()
            checkpointer = try WALCheckpointer(path: options.db)
        } catch {
            StandardError.write("switchboard serve: \(error)\n")
            throw ExitCode(1)
        }
        store.readFailed = { error in logger.error("database read failed", metadata: ["error": "\(error)"]) }
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.agentPort = agentPort
        configuration.metricsPort = metricsPort
        configuration.wire = WireProtocol(rawValue: wire) ?? .text
        configuration.maxLineBytes = maxLineBytes
        configuration.maxConnections = maxConnections
        configuration.idleTimeout = idleTimeout
        configuration.resumeWindow = resumeWindow
        configuration.writeTimeout = writeTimeout
        configuration.metricsInterval = metricsInterval
        configuration.threads = threads.map { max(1, $0) }
        let server = SwitchboardServer(configuration: configuration, rules: ruleSet, store: store, queue: queue,
                                       log: transcripts, logger: logger)
        let transcriptPath = transcripts.path
        checkpointer.start()
        defer { checkpointer.stop() }
        do {
            try await server.run { bound in
                // Standard output carries this one line (scripts read the ports from it); the log goes to standard error.
                let output = OutputBuffer()
                output.write("switchboard serve: customers on \(host):\(bound.port) (\(wire)), agents on \(host):\(bound.agentPort)"
                             + (bound.metricsPort.map { ", metrics on \(host):\($0)" } ?? "") + "; transcripts to \(transcriptPath)\n")
                output.flush()
            }
        } catch {
            StandardError.write("switchboard serve: \(error)\n")
            throw ExitCode(1)
        }
    }
}
