import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore
import SwitchboardStore

/// Limits and timings of `switchboard serve`.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7878
    /// Where agents connect (`switchboard agent connect`); customers never see this port.
    public var agentPort = 7879
    /// A plain-text metrics page (Prometheus format); nil for none.
    public var metricsPort: Int?
    public var wire = WireProtocol.text
    public var maxLineBytes = 4096
    public var maxConnections = 12_000
    /// Seconds without a message before a session ends with a goodbye.
    public var idleTimeout: Double = 600
    /// Seconds a dropped jsonl session waits for `{"resume": id}`.
    public var resumeWindow: Double = 120
    /// Seconds a connection may leave our output unread before it is closed.
    public var writeTimeout: Double = 30
    /// Seconds the server waits for connections to close when stopping.
    public var drainTimeout: Double = 5
    /// Event-loop threads (nil: one per core).
    public var threads: Int?
    /// Seconds between metrics log lines; 0 for none.
    public var metricsInterval: Double = 10

    public init() {}
}

/// Counters for the metrics line and page.
final class Metrics: @unchecked Sendable {
    private let lock = NIOLock()
    private var turns = 0
    private var handoffs = 0
    private(set) var refused = 0
    private(set) var badInput = 0

    /// Turn times in the server (from a line read to its answer queued), in buckets of
    /// powers of two microseconds: enough for percentiles without keeping every sample.
    private var buckets = [Int](repeating: 0, count: 32)

    /// A turn answered, how long it took, whether it handed off: one lock per turn.
    func turn(handoff: Bool, nanoseconds: Int64) {
        let micros = max(1, Int(nanoseconds / 1000))
        let bucket = min(31, Int.bitWidth - micros.leadingZeroBitCount)
        lock.withLock {
            turns += 1
            if handoff { handoffs += 1 }
            buckets[bucket] += 1
        }
    }

    /// The upper bound (µs) of the bucket holding the `p` quantile of turn times.
    func turnPercentile(_ p: Double) -> Int {
        lock.withLock {
            let total = buckets.reduce(0, +)
            guard total > 0 else { return 0 }
            var seen = 0
            for (i, count) in buckets.enumerated() {
                seen += count
                if Double(seen) >= Double(total) * p { return 1 << i }
            }
            return 1 << 31
        }
    }

    func refusedConnection() { lock.withLock { refused += 1 } }
    func rejectedLine() { lock.withLock { badInput += 1 } }

    var snapshot: (turns: Int, handoffs: Int, refused: Int, badInput: Int) {
        lock.withLock { (turns, handoffs, refused, badInput) }
    }
}

/// Everything the connections share: the rules, the stores, the transcript log, the sessions in
/// progress, the agents signed in, and which ticket belongs to which live session.
final class Hub: @unchecked Sendable {
    let configuration: ServerConfiguration
    let engine: DialogueEngine
    let classifiers: ClassifierPool
    let store: SharedOperatorData
    let queue: SharedQueue
    let log: TranscriptLog
    let logger: Logger
    let metrics = Metrics()
    private let spareClassifier: Classifier

    private let lock = NIOLock()
    private var sessions: [String: LiveSession] = [:]
    private var byTicket: [String: LiveSession] = [:]
    private var agents: [String: AgentLink] = [:]
    private var connections: [ObjectIdentifier: any Channel] = [:]
    private var queueDirty = true
    private(set) var draining = false

    init(configuration: ServerConfiguration, rules: RuleSet, store: SQLiteOperatorData, queue: SQLiteHandoffQueue,
         log: TranscriptLog, logger: Logger)
    {
        self.configuration = configuration
        self.engine = DialogueEngine(rules: rules)
        self.classifiers = ClassifierPool(rules: rules)
        self.spareClassifier = Classifier(rules)
        let database = NIOLock()
        self.store = SharedOperatorData(store, lock: database)
        self.queue = SharedQueue(queue, lock: database)
        self.log = log
        self.logger = logger
        busyMessage = bothLanguages("connection_busy", [:])
    }

    // MARK: Connections and sessions

    /// A response in both languages, the session's first: said where the bot cannot yet know
    /// which one the customer reads (a refused line, a full server).
    func bothLanguages(_ key: String, _ values: [String: String], first session: Session? = nil) -> String {
        let primary = session?.language ?? engine.rules.defaultLanguage
        return ([primary] + Language.allCases.filter { $0 != primary }).map { language in
            var speaker = session ?? Session(id: "-", language: language)
            speaker.language = language
            return engine.render(key, values, for: speaker)
        }.joined(separator: " / ")
    }

    /// What a client beyond `maxConnections` is told.
    private(set) var busyMessage = ""

    /// Counts a new connection in, or refuses it when the server is full or stopping.
    func admit(_ channel: any Channel) -> Bool {
        lock.withLock {
            guard !draining, connections.count < configuration.maxConnections else { return false }
            connections[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func connectionClosed(_ channel: any Channel) { lock.withLock { _ = connections.removeValue(forKey: ObjectIdentifier(channel)) } }

    /// The last step of stopping: connections still open (clients that do not read) are cut.
    func closeAll() {
        for channel in lock.withLock({ Array(connections.values) }) { channel.close(promise: nil) }
    }

    func openSession(_ wire: WireProtocol, on channel: any Channel) -> LiveSession {
        let id = Self.newSessionID()
        // The classifier is lent per turn from the pool; this one is never used to classify.
        let conversation = Conversation(id: id, engine: engine, classifier: spareClassifier, store: store, queue: queue,
                                        channel: wire == .jsonl ? "socket-jsonl" : "socket-text")
        conversation.queueFailed = { [logger] error in logger.error("handoff queue failed", metadata: ["session": "\(id)", "error": "\(error)"]) }
        let session = LiveSession(id: id, wire: wire, hub: self, conversation: conversation)
        lock.withLock { sessions[id] = session }
        session.open(on: channel)
        return session
    }

    /// A dropped session, if it is still waiting to be resumed.
    func session(_ id: String) -> LiveSession? { lock.withLock { sessions[id] } }

    func sessionClosed(_ session: LiveSession) {
        lock.withLock { _ = sessions.removeValue(forKey: session.id) }
    }

    func ticketOpened(_ ticket: String, by session: LiveSession) {
        lock.withLock {
            byTicket[ticket] = session
            queueDirty = true
        }
    }

    func ticketClosed(_ ticket: String) {
        lock.withLock {
            byTicket[ticket] = nil
            queueDirty = true
        }
    }

    var openSessions: Int { lock.withLock { sessions.count } }
    var openConnections: Int { lock.withLock { connections.count } }
    var agentCount: Int { lock.withLock { agents.count } }

    /// Session ids are unguessable: the id is what a client presents to resume.
    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return "s-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    func sweep() {
        let now = NIODeadline.now()
        for session in lock.withLock({ Array(sessions.values) }) { session.sweep(now: now) }
    }

    /// Stops taking connections, and ends every session with a word to its customer.
    func drain() {
        lock.withLock { draining = true }
        for session in lock.withLock({ Array(sessions.values) }) { session.shutDown() }
        for agent in lock.withLock({ Array(agents.values) }) {
            agent.send(.object([("event", .string("shutdown")), ("text", .string("The server is stopping."))]))
            agent.close()
        }
    }

    // MARK: Agents

    func agentLogin(name: String, skills: [String], channel: any Channel) throws -> AgentLink {
        let agent = try queue.withQueue { q in try q.login(name: name, skills: skills, at: Date()) }
        let link = AgentLink(name: agent.name, skills: agent.skills, channel: channel)
        let previous = lock.withLock { () -> AgentLink? in
            let old = agents[name]
            agents[name] = link
            return old
        }
        if let previous {
            previous.send(.object([("event", .string("signed_out")), ("text", .string("You signed in from another terminal."))]))
            previous.close()
        }
        return link
    }

    func agentGone(_ link: AgentLink) {
        if link.ticket != nil { try? release(link) }
        let stillSignedIn = lock.withLock { () -> Bool in
            if agents[link.name] === link { agents[link.name] = nil }
            queueDirty = true
            return agents[link.name] != nil
        }
        if !stillSignedIn { _ = try? queue.withQueue { q in try q.logout(name: link.name, at: Date()) } }
    }

    /// The waiting tickets an agent can take, most urgent first.
    func waiting(for link: AgentLink, all: Bool = false) throws -> JSONValue {
        let now = Date()
        let tickets = try queue.withQueue { q in try q.waiting(at: now, skills: all ? nil : link.skills) }
        let live = lock.withLock { Set(byTicket.keys) }
        return .object([
            ("event", .string("queue")), ("waiting", .int(tickets.count)),
            ("tickets", .array(tickets.prefix(20).map { t in
                .object([
                    ("ticket", .string(t.id)), ("priority", .int(t.priority)), ("reasons", .array(t.reasons.map { .string($0) })),
                    ("skills", .array(t.skills.map { .string($0) })), ("language", .string(t.language)),
                    ("dialect", t.dialect.map { .string($0) } ?? .null), ("elderly", .bool(t.elderly)),
                    ("waited_seconds", .int(Int(now.timeIntervalSince(t.createdAt)))), ("breached", .bool(t.isBreached(at: now))),
                    ("live", .bool(live.contains(t.id))), ("summary", .string(t.summary)),
                ])
            })),
        ])
    }

    /// Takes a ticket (the most urgent one the agent can serve, or the one named). When its
    /// customer is connected here, the agent joins the conversation.
    func claim(_ link: AgentLink, ticket id: String?) throws -> [UInt8] {
        if let held = link.ticket { throw ServerError("you are serving \(held): return, resolve or release it first") }
        let now = Date()
        let taken = try queue.withQueue { q -> QueuedTicket? in
            if let id { return try q.claim(id, agent: link.name, at: now) }
            return try q.claimNext(agent: link.name, at: now)
        }
        guard let taken else { return Array("{\"event\":\"claimed\",\"ticket\":null}\n".utf8) }
        link.ticket = taken.id
        let session = lock.withLock { () -> LiveSession? in
            queueDirty = true
            return byTicket[taken.id]
        }
        session?.agentJoined(link)
        logger.info("ticket claimed", metadata: ["ticket": "\(taken.id)", "agent": "\(link.name)", "live": "\(session != nil)"])
        var out: [UInt8] = []
        JSONValue.object([("event", .string("claimed")), ("ticket", .string(taken.id)), ("live", .bool(session != nil)),
                          ("session", .string(taken.session)), ("summary", .string(taken.summary))]).write(to: &out)
        // The packet as stored, spliced in whole.
        out.removeLast()
        out += Array(",\"packet\":".utf8) + Array(taken.packetJSON.utf8) + [0x7D, 0x0A]
        return out
    }

    private func liveSession(_ link: AgentLink) throws -> (String, LiveSession?) {
        guard let ticket = link.ticket else { throw ServerError("you are not serving a ticket: claim one first") }
        return (ticket, lock.withLock { byTicket[ticket] })
    }

    /// The agent's words to the customer; kept with the ticket too.
    func say(_ link: AgentLink, _ text: String) throws {
        let (ticket, session) = try liveSession(link)
        guard let session, !session.isClosed else {
            throw ServerError("the customer of \(ticket) is no longer connected: resolve it after calling back, or release it")
        }
        try queue.withQueue { q in try q.message(ticket, agent: link.name, text: Masking.mask(text), at: Date()) }
        _ = session.agentSaid(text)
    }

    func handBack(_ link: AgentLink) throws {
        let (ticket, session) = try liveSession(link)
        _ = try queue.withQueue { q in try q.move(ticket, .handBack, agent: link.name, note: nil, at: Date()) }
        link.ticket = nil
        ticketClosed(ticket)
        session?.agentReturned()
    }

    func resolve(_ link: AgentLink, note: String?) throws {
        let (ticket, session) = try liveSession(link)
        _ = try queue.withQueue { q in try q.move(ticket, .resolve, agent: link.name, note: note, at: Date()) }
        link.ticket = nil
        ticketClosed(ticket)
        session?.agentResolved()
    }

    func release(_ link: AgentLink) throws {
        let (ticket, session) = try liveSession(link)
        link.ticket = nil
        let status = queue.state(of: ticket)?.status
        if status == .claimed {
            _ = try queue.withQueue { q in try q.move(ticket, .release, agent: link.name, note: nil, at: Date()) }
        }
        lock.withLock { queueDirty = true }
        session?.agentLeft()
    }

    /// Sends each agent the queue they can take, when it changed since the last time.
    func pushQueue() {
        let (dirty, links) = lock.withLock { () -> (Bool, [AgentLink]) in
            defer { queueDirty = false }
            return (queueDirty, Array(agents.values))
        }
        guard dirty else { return }
        for link in links {
            if let view = try? waiting(for: link) { link.send(view) }
        }
    }

    var queueDepth: Int { (try? queue.withQueue { q in try q.waitingCount() }) ?? -1 }
}

/// An agent connected to the server, and the ticket they are serving.
final class AgentLink: @unchecked Sendable {
    let name: String
    let skills: [String]
    private let channel: any Channel
    private let lock = NIOLock()
    private var held: String?

    init(name: String, skills: [String], channel: any Channel) {
        self.name = name
        self.skills = skills
        self.channel = channel
    }

    var ticket: String? {
        get { lock.withLock { held } }
        set { lock.withLock { held = newValue } }
    }

    func send(_ value: JSONValue) {
        var out: [UInt8] = []
        value.write(to: &out)
        out.append(0x0A)
        send(out)
    }

    func send(_ bytes: [UInt8]) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    func customerSaid(_ text: String, ticket: String) {
        send(.object([("event", .string("customer")), ("ticket", .string(ticket)), ("text", .string(text))]))
    }

    func close() { channel.close(promise: nil) }
}
