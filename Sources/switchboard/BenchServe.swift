#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardServer
import SwitchboardStore

/// `switchboard bench serve`: starts a server (or uses one), holds idle sessions, drives active
/// ones at a set rate, and reports throughput, latency percentiles and the server's memory; with
/// --sigterm it stops the server under load and checks that nothing acknowledged was lost.
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load-test 'switchboard serve': concurrent sessions, turns/s, p50/p99/p999 latency, server memory.",
        discussion: """
            Without --connect, a server is started from this binary on free ports with a temporary database \
            and transcript log, and stopped afterwards. Latency is measured from when each message was due \
            (each active session sends every sessions/rate seconds), so a slow answer is not hidden by the \
            client waiting for it.
            """
    )

    @OptionGroup var options: RuleOptions

    @Option(help: "Active sessions, each playing scripted conversations.") var sessions = 1000
    @Option(help: "Messages per second across all active sessions.") var rate: Double = 20_000
    @Option(help: "Seconds measured.") var duration: Double = 20
    @Option(help: "Seconds of load before measuring.") var warmup: Double = 3
    @Option(help: "Sessions that connect and stay silent (held open during the run).") var idle = 0
    @Option(name: .customLong("protocol"), help: "text or jsonl.") var wire = "jsonl"
    @Option(name: .customLong("client-threads"), help: "Event-loop threads of the load client.") var clientThreads = 1
    @Option(name: .customLong("handoff-every"), help: "Every Nth conversation asks for a person and its session ends there (0: never, the default).") var handoffEvery = 0
    @Option(name: .customLong("turns-per-connection"), help: "Messages after which a session ends (at the end of its conversation) and a new connection starts one (0: sessions last the run, the default).")
    var turnsPerConnection = 0
    @Option(name: .customLong("server-threads"), help: "Event-loop threads of the server the bench starts. One by default: the load client needs the other core of a 2-core machine; 0 means one per core.")
    var serverThreads = 1
    @Option(help: "Use a running server at HOST:PORT instead of starting one.") var connect: String?
    @Flag(help: "At the end, send SIGTERM under load, then check every acknowledged turn is in the transcript log and every acknowledged handoff in the queue.")
    var sigterm = false
    @Flag(help: "Print the figures as one JSON object.") var json = false

    func validate() throws {
        guard let protocolValue = WireProtocol(rawValue: wire) else { throw ValidationError("--protocol must be text or jsonl") }
        guard sessions >= 0, idle >= 0, sessions + idle > 0, rate > 0, duration > 0, warmup >= 0 else {
            throw ValidationError("--sessions, --idle, --rate and --duration must be positive")
        }
        if sigterm && (connect != nil || protocolValue != .jsonl) {
            throw ValidationError("--sigterm needs a server started by the bench (no --connect) and --protocol jsonl (session ids)")
        }
    }

    func run() async throws {
        var plan = LoadPlan()
        plan.wire = WireProtocol(rawValue: wire) ?? .jsonl
        plan.active = sessions
        plan.rate = rate
        plan.duration = duration
        plan.warmup = warmup
        plan.idle = idle
        plan.threads = clientThreads
        plan.handoffEvery = handoffEvery
        plan.turnsPerConnection = turnsPerConnection
        var server: SpawnedServer?
        if let connect {
            let parts = connect.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--connect HOST:PORT") }
            plan.host = String(parts[0])
            plan.port = port
        } else {
            server = try SpawnedServer.start(options: options, wire: plan.wire, maxConnections: idle + sessions + 500,
                                             threads: serverThreads > 0 ? serverThreads : nil)
            plan.port = server!.port
        }
        let progress: @Sendable (String) -> Void = { StandardError.write("bench serve: \($0)\n") }
        progress("\(idle) idle + \(sessions) active sessions, \(Int(rate)) messages/s, \(Int(warmup)) s warm-up + \(Int(duration)) s measured")
        let cpuBefore = server.map { Self.cpuSeconds(pid: $0.pid) } ?? 0
        let clientBefore = Self.ownCPUSeconds()
        let memory = MemorySample()
        let stop = StopResult()
        let spawned = server
        let report = try await LoadClient.run(plan, log: progress) {
            if let server = spawned {
                memory.rss = Self.memory(pid: server.pid, field: "VmRSS")
                memory.peak = Self.memory(pid: server.pid, field: "VmHWM")
                memory.cpu = Self.cpuSeconds(pid: server.pid) - cpuBefore
            }
            memory.clientCPU = Self.ownCPUSeconds() - clientBefore
            if sigterm, let server = spawned {
                let start = DispatchTime.now().uptimeNanoseconds
                kill(server.pid, SIGTERM)
                stop.status = server.wait()
                stop.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        }
        let peak = memory.peak
        if let server {
            if !sigterm {
                kill(server.pid, SIGTERM)
                stop.status = server.wait()
            }
        }
        var check: (turns: Int, missingTurns: Int, sessions: Int, tickets: Int, missingTickets: Int)?
        if sigterm, let server { check = try verify(report, server: server) }
        let measured = report.seconds + (memory.cpu > 0 ? 0 : 0)
        if json {
            var fields: [(String, JSONValue)] = [
                ("protocol", .string(wire)), ("active_sessions", .int(sessions)), ("idle_sessions", .int(idle)),
                ("idle_connected", .int(report.idleConnected)), ("target_rate", .double(rate)), ("seconds", .double(measured)),
                ("turns", .int(report.turns)), ("turns_per_s", .double(report.turnsPerSecond.rounded())),
                ("p50_ms", .double(report.percentile(0.5))), ("p99_ms", .double(report.percentile(0.99))),
                ("p999_ms", .double(report.percentile(0.999))), ("max_ms", .double(report.percentile(1))),
                ("new_sessions", .int(report.greetingNanos.count)),
                ("greeting_p50_ms", .double(report.percentile(0.5, of: report.greetingNanos))),
                ("greeting_p99_ms", .double(report.percentile(0.99, of: report.greetingNanos))),
                ("server_rss_mb", .double(Double(memory.rss) / 1_048_576)), ("server_peak_rss_mb", .double(Double(peak) / 1_048_576)),
                ("server_cpu_cores", .double(memory.cpu / (measured + warmup))), ("client_cpu_cores", .double(memory.clientCPU / (measured + warmup))),
                ("conversations", .int(report.conversations)), ("timeouts", .int(report.timeouts)), ("errors", .int(report.errors)),
                ("refused", .int(report.refused)), ("server_exit", stop.status.map { .int(Int($0)) } ?? .null),
            ]
            if let check {
                fields += [("acknowledged_turns", .int(check.turns)), ("missing_turns", .int(check.missingTurns)),
                           ("acknowledged_handoffs", .int(check.tickets)), ("missing_handoffs", .int(check.missingTickets)),
                           ("stop_seconds", .double(stop.seconds))]
            }
            print(JSONValue.object(fields).serialized())
        } else {
            func ms(_ v: Double) -> String { String(format: "%.2f ms", v) }
            print("switchboard bench serve — \(wire), \(sessions) active sessions at \(Int(rate)) messages/s, \(idle) idle")
            print("  idle sessions held    \(report.idleConnected) of \(idle)")
            print("  turns answered        \(report.turns) in \(String(format: "%.1f", measured)) s = \(Int(report.turnsPerSecond.rounded()))/s")
            print("  latency               p50 \(ms(report.percentile(0.5)))  p99 \(ms(report.percentile(0.99)))  p999 \(ms(report.percentile(0.999)))  max \(ms(report.percentile(1)))")
            if server != nil {
                print("  server memory         \(memory.rss / 1_048_576) MB resident, \(peak / 1_048_576) MB peak")
                print("  CPU (cores)           server \(String(format: "%.2f", memory.cpu / (measured + warmup))), load client \(String(format: "%.2f", memory.clientCPU / (measured + warmup)))")
            }
            if !report.greetingNanos.isEmpty {
                print("  new sessions          \(report.greetingNanos.count), connect to greeting p50 \(ms(report.percentile(0.5, of: report.greetingNanos)))  p99 \(ms(report.percentile(0.99, of: report.greetingNanos)))"
                      + " (connected after p50 \(ms(report.percentile(0.5, of: report.connectNanos)))  p99 \(ms(report.percentile(0.99, of: report.connectNanos))))")
            }
            print("  conversations         \(report.conversations) finished; \(report.timeouts) timeouts, \(report.errors) errors, \(report.refused) refused")
            if let check {
                print("  SIGTERM under load    server exit \(stop.status.map(String.init) ?? "?") after \(String(format: "%.2f", stop.seconds)) s")
                print("                        \(check.turns) acknowledged turns in \(check.sessions) sessions: \(check.missingTurns) missing from the transcript log")
                print("                        \(check.tickets) acknowledged handoffs: \(check.missingTickets) missing from the queue")
            }
        }
        if let check, check.missingTurns > 0 || check.missingTickets > 0 || stop.status != 0 { throw ExitCode(1) }
    }

    /// Every acknowledged turn must be a customer event of its session in the log, and every
    /// acknowledged handoff a ticket in the database.
    private func verify(_ report: LoadReport, server: SpawnedServer) throws -> (Int, Int, Int, Int, Int) {
        var logged: [String: Int] = [:]
        let data = try Data(contentsOf: URL(fileURLWithPath: server.logPath))
        for line in data.split(separator: 0x0A) {
            guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                object["role"] as? String == "customer", let session = object["session"] as? String
            else { continue }
            logged[session, default: 0] += 1
        }
        var missing = 0
        for (session, count) in report.acknowledged { missing += max(0, count - logged[session, default: 0]) }
        let queue = try SQLiteHandoffQueue(path: server.dbPath)
        let missingTickets = try report.tickets.filter { try queue.ticket($0) == nil }.count
        return (report.acknowledged.values.reduce(0, +), missing, report.acknowledged.count, report.tickets.count, missingTickets)
    }

    final class MemorySample: @unchecked Sendable {
        var rss = 0
        var peak = 0
        var cpu = 0.0
        var clientCPU = 0.0
    }

    final class StopResult: @unchecked Sendable {
        var status: Int32?
        var seconds = 0.0
    }

    static func memory(pid: Int32, field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    /// User + system CPU seconds of a process (`/proc/PID/stat` fields 14 and 15).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// A `switchboard serve` child process on free ports, with its own database and log.
struct SpawnedServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let folder: String
    var pid: Int32 { process.processIdentifier }
    var dbPath: String { folder + "/bench.sqlite" }
    var logPath: String { folder + "/transcripts.jsonl" }

    static func start(options: RuleOptions, wire: WireProtocol, maxConnections: Int, threads: Int?) throws -> SpawnedServer {
        let folder = NSTemporaryDirectory() + "switchboard-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        process.arguments = ["serve", "--rules", options.rules, "--lexicons", options.lexicons, "--db", folder + "/bench.sqlite",
                             "--log", folder + "/transcripts.jsonl", "--port", "0", "--agent-port", "0", "--protocol", wire.rawValue,
                             "--max-connections", String(maxConnections), "--idle-timeout", "3600", "--metrics-interval", "0",
                             "--log-level", "info"] + (threads.map { ["--threads", String($0)] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        // The first line names the ports.
        var line: [UInt8] = []
        let handle = out.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte[0] == 0x0A { break }
            line.append(byte[0])
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "customers on "), let colon = text[range.upperBound...].firstIndex(of: ":") else {
            process.terminate()
            throw ValidationFailure("the server did not start: \(text)")
        }
        let port = Int(text[text.index(after: colon)...].prefix { $0.isNumber }) ?? 0
        return SpawnedServer(process: process, port: port, folder: folder)
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
