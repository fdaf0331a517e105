#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@preconcurrency import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardStore

/// `switchboard serve`: customers on one port (text or jsonl), agents on another, each
/// connection a child task of the server's task group. A turn runs inline in its connection's
/// task; transcript lines go to a batched log writer; a handoff commits to SQLite before the
/// customer hears of it.
public final class SwitchboardServer: Sendable {
    let hub: Hub
    private let group: MultiThreadedEventLoopGroup

    public init(configuration: ServerConfiguration, rules: RuleSet, store: SQLiteOperatorData, queue: SQLiteHandoffQueue,
                log: TranscriptLog, logger: Logger)
    {
        hub = Hub(configuration: configuration, rules: rules, store: store, queue: queue, log: log, logger: logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads ?? System.coreCount)
    }

    public struct Bound: Sendable {
        public var port: Int
        public var agentPort: Int
        public var metricsPort: Int?
    }

    typealias Connection = NIOAsyncChannel<InboundFrame, ByteBuffer>

    /// Serves until SIGINT or SIGTERM, then drains: stops accepting, tells every customer, lets
    /// turns in progress finish, flushes the transcript log. `ready` gets the bound ports.
    public func run(ready: @Sendable (Bound) -> Void) async throws {
        let configuration = hub.configuration
        let logger = hub.logger
        // Signals are caught before anyone can learn the ports: a SIGTERM sent right after the
        // "listening" line must stop the server, not be lost.
        let stop = Self.signals()
        let customers = try await Self.retryingAnyPort(configuration.port) { try await self.listenForCustomers(port: $0) }
        let agents = try await Self.retryingAnyPort(configuration.agentPort) { try await self.listen(port: $0) }
        let metrics = try await configuration.metricsPort.asyncMap { port in
            try await Self.retryingAnyPort(port) { try await self.listen(port: $0) }
        }
        let bound = Bound(port: customers.server.localAddress?.port ?? configuration.port,
                          agentPort: agents.channel.localAddress?.port ?? configuration.agentPort,
                          metricsPort: metrics?.channel.localAddress?.port)
        logger.info("listening", metadata: [
            "host": "\(configuration.host)", "port": "\(bound.port)", "agent_port": "\(bound.agentPort)",
            "protocol": "\(configuration.wire.rawValue)", "metrics_port": "\(bound.metricsPort.map(String.init) ?? "-")",
        ])
        ready(bound)
        let started = NIODeadline.now()

        await withDiscardingTaskGroup { tasks in
            tasks.addTask {
                // One child task per customer connection, for as long as it is open.
                await withDiscardingTaskGroup { connections in
                    for await channel in customers.accepted {
                        connections.addTask { await self.superviseCustomer(channel) }
                    }
                }
            }
            tasks.addTask { await self.accept(agents) { await self.serveAgent($0) } }
            if let metrics { tasks.addTask { await self.accept(metrics) { await self.serveMetrics($0) } } }
            tasks.addTask {
                // Idle sessions, expired resumes, stalled readers; the agents' queue view; metrics.
                var lastMetrics = NIODeadline.now()
                var lastTurns = 0
                while !self.hub.draining {
                    try? await Task.sleep(nanoseconds: 250_000_000)
                    self.hub.sweep()
                    self.hub.pushQueue()
                    let now = NIODeadline.now()
                    if configuration.metricsInterval > 0,
                        now - lastMetrics >= .milliseconds(Int64(configuration.metricsInterval * 1000))
                    {
                        let turns = self.hub.metrics.snapshot.turns
                        let seconds = Double((now - lastMetrics).nanoseconds) / 1e9
                        logger.info("metrics", metadata: self.metricsMetadata(turnsPerSecond: Double(turns - lastTurns) / seconds))
                        lastTurns = turns
                        lastMetrics = now
                    }
                }
            }
            tasks.addTask {
                var signals = stop.makeAsyncIterator()
                let signal = await signals.next()
                logger.info("stopping", metadata: ["signal": "\(signal.map(Self.signalName) ?? "?")",
                                                    "uptime_s": "\((NIODeadline.now() - started).nanoseconds / 1_000_000_000)"])
                // No new connections; every session told and ended (a turn in progress finishes
                // first); agents told.
                try? await customers.server.close()
                try? await agents.channel.close()
                if let metrics { try? await metrics.channel.close() }
                self.hub.drain()
                // Connections that do not close in time (a client not reading) are cut.
                let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.drainTimeout * 1000))
                while self.hub.openConnections > 0 && NIODeadline.now() < deadline {
                    try? await Task.sleep(nanoseconds: 20_000_000)
                }
                if self.hub.openConnections > 0 {
                    logger.warning("closing connections that did not finish", metadata: ["open": "\(self.hub.openConnections)"])
                    self.hub.closeAll()
                }
            }
        }
        hub.log.stop()
        logger.info("stopped", metadata: metricsMetadata(turnsPerSecond: nil))
        try? await group.shutdownGracefully()
    }

    /// The listening options every port shares.
    private func bootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            // Up to 64 accepts per turn of the event loop (NIO's default is 4): a busy loop turns
            // slowly, and new customers queued behind the listening socket.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
    }

    /// Customers' connections are set up on their event loop as they are accepted (handlers
    /// only, no task hop), and handed to the accept loop, which gives each its child task.
    private func listenForCustomers(port: Int) async throws -> (server: any Channel, accepted: AsyncStream<any Channel>) {
        let maxLine = hub.configuration.maxLineBytes
        let hub = self.hub
        let (accepted, continuation) = AsyncStream<any Channel>.makeStream()
        do {
            let server = try await bootstrap()
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // A client that does not read its answers is not read from either: its
                        // socket buffers fill, not our memory.
                        try channel.pipeline.syncOperations.addHandler(BackPressureHandler())
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(maxLength: maxLine)))
                        try channel.pipeline.syncOperations.addHandler(CustomerHandler(hub: hub))
                        continuation.yield(channel)
                    }
                }
                .bind(host: hub.configuration.host, port: port).get()
            server.closeFuture.whenComplete { _ in continuation.finish() }
            return (server, accepted)
        } catch {
            throw ServerError("cannot listen on \(hub.configuration.host):\(port): \(error)")
        }
    }

    private func listen(port: Int) async throws -> NIOAsyncChannel<Connection, Never> {
        let maxLine = hub.configuration.maxLineBytes
        do {
            return try await bootstrap()
                .bind(host: hub.configuration.host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(maxLength: maxLine)))
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ServerError("cannot listen on \(hub.configuration.host):\(port): \(error)")
        }
    }

    /// Port 0 asks the kernel for a free port; under many outgoing connections it can hand out one
    /// that `listen` then finds taken (seen while a load test ran beside the tests). Asked again.
    static func retryingAnyPort<T>(_ port: Int, _ body: (Int) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body(port)
            } catch {
                attempt += 1
                guard port == 0, attempt < 5 else { throw error }
            }
        }
    }

    /// One child task per connection, until the listening socket closes; then waits for them.
    private func accept(_ server: NIOAsyncChannel<Connection, Never>, _ handle: @escaping @Sendable (Connection) async -> Void) async {
        await withDiscardingTaskGroup { connections in
            do {
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        connections.addTask { await handle(connection) }
                    }
                }
            } catch {
                hub.logger.error("accept failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Customers

    /// A customer connection's child task: the connection's lifetime. Its messages are handled
    /// inline on the connection's event loop by `CustomerHandler` (a turn is microseconds; a hop
    /// to a task and back per message cost more than the turn, measured in the README).
    private func superviseCustomer(_ channel: any Channel) async {
        try? await channel.closeFuture.get()
    }

    // MARK: Agents

    private func serveAgent(_ connection: Connection) async {
        let channel = connection.channel
        var link: AgentLink?
        do {
            try await connection.executeThenClose { inbound, outbound in
                func send(_ value: JSONValue) async throws {
                    var out: [UInt8] = []
                    value.write(to: &out)
                    out.append(0x0A)
                    try await outbound.write(channel.allocator.buffer(bytes: out))
                }
                func fail(_ message: String) async throws {
                    try await send(.object([("event", .string("error")), ("text", .string(message))]))
                }
                for try await frame in inbound {
                    guard case .line(let buffer) = frame, case .success(let text) = LineText.decode(buffer) else {
                        try await fail("each line must be one JSON command of at most \(hub.configuration.maxLineBytes) bytes of UTF-8")
                        continue
                    }
                    if text.allSatisfy({ $0 == " " }) { continue }
                    guard let command = AgentCommand.parse(text) else {
                        try await fail("each line must be a JSON object with a \"cmd\": login, list, claim, say, show, return, resolve, release, logout")
                        continue
                    }
                    do {
                        guard let current = link else {
                            guard case .login(let name, let skills) = command else { throw ServerError("sign in first: {\"cmd\":\"login\",\"name\":…,\"skills\":[…]}") }
                            let signedIn = try hub.agentLogin(name: name, skills: skills, channel: channel)
                            link = signedIn
                            hub.logger.info("agent signed in", metadata: ["agent": "\(name)", "skills": "\(signedIn.skills.joined(separator: ","))"])
                            try await send(.object([("event", .string("welcome")), ("agent", .string(name)),
                                                    ("skills", .array(signedIn.skills.map { .string($0) }))]))
                            try await send(try hub.waiting(for: signedIn))
                            continue
                        }
                        switch command {
                        case .login:
                            throw ServerError("already signed in as \(current.name)")
                        case .list(let all):
                            try await send(try hub.waiting(for: current, all: all))
                        case .claim(let ticket):
                            try await outbound.write(channel.allocator.buffer(bytes: try hub.claim(current, ticket: ticket)))
                        case .show(let ticket):
                            guard let id = ticket ?? current.ticket else { throw ServerError("show which ticket? you are not serving one") }
                            guard let found = try hub.queue.withQueue({ q in try q.ticket(id) }) else { throw ServerError("no ticket \(id)") }
                            var out = Array("{\"event\":\"packet\",\"ticket\":".utf8)
                            JSONValue.string(id).write(to: &out)
                            out += Array(",\"packet\":".utf8) + Array(found.packetJSON.utf8) + [0x7D, 0x0A]
                            try await outbound.write(channel.allocator.buffer(bytes: out))
                        case .say(let text):
                            try hub.say(current, text)
                            try await send(.object([("event", .string("sent")), ("ticket", .string(current.ticket ?? ""))]))
                        case .handBack:
                            let ticket = current.ticket
                            try hub.handBack(current)
                            try await send(.object([("event", .string("returned")), ("ticket", .string(ticket ?? ""))]))
                        case .resolve(let note):
                            let ticket = current.ticket
                            try hub.resolve(current, note: note)
                            try await send(.object([("event", .string("resolved")), ("ticket", .string(ticket ?? ""))]))
                        case .release:
                            let ticket = current.ticket
                            try hub.release(current)
                            try await send(.object([("event", .string("released")), ("ticket", .string(ticket ?? ""))]))
                        case .logout:
                            return
                        }
                    } catch {
                        try await fail("\(error)")
                    }
                }
            }
        } catch {
            hub.logger.debug("agent connection error", metadata: ["error": "\(error)"])
        }
        if let link {
            hub.agentGone(link)
            hub.logger.info("agent signed out", metadata: ["agent": "\(link.name)"])
        }
    }

    // MARK: Metrics

    private func serveMetrics(_ connection: Connection) async {
        let snapshot = hub.metrics.snapshot
        let body = """
            # Switchboard serve
            switchboard_sessions_open \(hub.openSessions)
            switchboard_connections_open \(hub.openConnections)
            switchboard_turns_total \(snapshot.turns)
            switchboard_handoffs_total \(snapshot.handoffs)
            switchboard_queue_depth \(hub.queueDepth)
            switchboard_agents_connected \(hub.agentCount)
            switchboard_connections_refused_total \(snapshot.refused)
            switchboard_lines_rejected_total \(snapshot.badInput)
            switchboard_resident_bytes \(Self.residentBytes())
            switchboard_turn_seconds{quantile="0.5"} \(Double(hub.metrics.turnPercentile(0.5)) / 1e6)
            switchboard_turn_seconds{quantile="0.99"} \(Double(hub.metrics.turnPercentile(0.99)) / 1e6)

            """
        let response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let channel = connection.channel
        try? await channel.writeAndFlush(channel.allocator.buffer(string: response)).get()
        try? await channel.close()
    }

    private func metricsMetadata(turnsPerSecond: Double?) -> Logger.Metadata {
        let snapshot = hub.metrics.snapshot
        var metadata: Logger.Metadata = [
            "sessions_open": "\(hub.openSessions)", "connections": "\(hub.openConnections)", "turns": "\(snapshot.turns)",
            "handoffs": "\(snapshot.handoffs)", "queue_depth": "\(hub.queueDepth)", "agents": "\(hub.agentCount)",
            "refused": "\(snapshot.refused)", "rejected_lines": "\(snapshot.badInput)",
            "rss_mb": "\(Self.residentBytes() / 1_048_576)",
            "turn_p50_us": "\(hub.metrics.turnPercentile(0.5))", "turn_p99_us": "\(hub.metrics.turnPercentile(0.99))",
            "turn_p999_us": "\(hub.metrics.turnPercentile(0.999))",
        ]
        if let turnsPerSecond { metadata["turns_per_s"] = "\(Int(turnsPerSecond.rounded()))" }
        return metadata
    }

    /// Resident memory of this process (Linux `/proc/self/statm`), 0 where unknown.
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    // MARK: Signals

    /// SIGINT and SIGTERM as an async sequence (their default action, dying, is switched off).
    static func signals() -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            let kept = SignalSources(sources)
            continuation.onTermination = { _ in kept.cancel() }
        }
    }

    /// Keeps the dispatch sources alive as long as the stream.
    final class SignalSources: @unchecked Sendable {
        let sources: [any DispatchSourceSignal]
        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
        func cancel() { sources.forEach { $0.cancel() } }
    }

    static func signalName(_ number: Int32) -> String {
        number == SIGTERM ? "SIGTERM" : number == SIGINT ? "SIGINT" : String(number)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
