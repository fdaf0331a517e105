import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore

/// How a connection talks: `text` for a person at `nc`/`telnet` (one reply per line), `jsonl` for
/// a channel gateway (the events of `chat --jsonl`).
public enum WireProtocol: String, Sendable, CaseIterable {
    case text, jsonl
}

/// One customer conversation held by the server. It outlives its connection when the protocol
/// allows a resume (jsonl), and is touched by several tasks: the customer's connection, an agent
/// who joins, the sweeper (idle time) and shutdown. One lock serialises them, so the conversation
/// sees one event at a time and the log and the wire get them in the same order.
final class LiveSession: @unchecked Sendable {
    let id: String
    let wire: WireProtocol
    private unowned let hub: Hub
    private let lock = NIOLock()
    private let conversation: Conversation
    private var channel: (any Channel)?
    /// The opening (start and greeting), logged with the first message, so a connection that
    /// only resumes another session leaves no empty session in the log.
    private var unlogged: [TranscriptEvent] = []
    private let openedAt: Date
    /// Output while the customer is away (jsonl), sent when they resume; bounded.
    private var missed: [UInt8] = []
    private var lastActivity: NIODeadline
    private var detachedAt: NIODeadline?
    private var unwritableSince: NIODeadline?
    private var closed = false
    /// The agent talking with the customer now, if they are on this server.
    private var agent: AgentLink?
    static let missedLimit = 64 * 1024

    init(id: String, wire: WireProtocol, hub: Hub, conversation: Conversation) {
        self.id = id
        self.wire = wire
        self.hub = hub
        self.conversation = conversation
        self.openedAt = Date()
        self.lastActivity = .now()
    }

    var isClosed: Bool { lock.withLock { closed } }

    // MARK: The customer's side

    /// The greeting, on the connection that opened the session.
    func open(on channel: any Channel) {
        lock.withLock {
            self.channel = channel
            let result = conversation.open()
            unlogged = result.events
            write(render(result))
        }
    }

    enum LineOutcome {
        case answered
        /// Answered, and the conversation is over (the connection closes after the answer).
        case ended
        /// Too late: the session had already ended (an agent closed it, or the server is stopping).
        case closed
    }

    /// One message from the customer: understood, answered, logged, and passed to a live agent.
    /// `started` is when the line was read, for the server's turn-time figures.
    func customerSaid(_ text: String, customer: String?, pool: ClassifierPool, started: NIODeadline) -> LineOutcome {
        lock.withLock {
            guard !closed else { return .closed }
            lastActivity = .now()
            if let customer, conversation.identify(customer: customer), !unlogged.isEmpty {
                unlogged[0] = conversation.startEvent(at: openedAt)
            }
            logOpening()
            let result = pool.with { classifier in
                conversation.classifier = classifier
                return conversation.receive(text)
            }
            hub.log.append(result.events)
            var out = render(result)
            let session = conversation.session
            if result.handedOff, let ticket = session.ticket { hub.ticketOpened(ticket, by: self) }
            if session.liveAgent != nil, let said = result.events.first(where: { $0.role == "customer" }) {
                agent?.customerSaid(said.maskedText ?? "", ticket: session.ticket ?? "")
                if wire == .jsonl { out += Self.systemEvent("delivered", session: id) }
            }
            defer { hub.metrics.turn(handoff: result.handedOff, nanoseconds: (NIODeadline.now() - started).nanoseconds) }
            if result.ended || session.ended {
                out += endLocked()
                write(out)
                closeConnection()
                return .ended
            }
            write(out)
            return .answered
        }
    }

    /// The customer ended the conversation (`{"end": true}`): the end event, then the connection closes.
    func end() {
        lock.withLock {
            guard !closed else { return }
            write(endLocked())
            closeConnection()
        }
    }

    /// A refused line, told in the customer's words (responses.yaml): written, not logged.
    func notify(_ code: String, response key: String, _ values: [String: String] = [:]) {
        let message = lock.withLock { hub.bothLanguages(key, values, first: conversation.session) }
        notify(code, message)
    }

    /// A notice that is not a turn (a refused line): written, not logged.
    func notify(_ code: String, _ message: String) {
        lock.withLock {
            lastActivity = .now()
            let out: [UInt8] = wire == .jsonl ? Self.systemEvent("error", session: id, extra: [("code", .string(code)), ("text", .string(message))])
                : Array("(\(message))\n".utf8)
            write(out)
        }
    }

    /// The connection is gone. A jsonl session waits `resumeWindow` for the customer to come
    /// back; otherwise it ends now.
    func connectionClosed(_ channel: any Channel, canResume: Bool) {
        lock.withLock {
            guard !closed, self.channel === channel else { return }
            self.channel = nil
            if canResume {
                detachedAt = .now()
                agent?.send(Self.agentNotice("customer_disconnected", ticket: conversation.session.ticket,
                                             extra: [("resume_seconds", .int(Int(hub.configuration.resumeWindow)))]))
            } else {
                _ = endLocked()
            }
        }
    }

    /// The customer came back on a new connection within the window: they get what they missed.
    func resume(on channel: any Channel) -> Bool {
        lock.withLock {
            guard !closed, self.channel == nil, detachedAt != nil else { return false }
            self.channel = channel
            detachedAt = nil
            lastActivity = .now()
            var out = Self.systemEvent("resumed", session: id, extra: [("state", .string(conversation.session.state))])
            out += missed
            missed = []
            write(out)
            agent?.send(Self.agentNotice("customer_back", ticket: conversation.session.ticket))
            return true
        }
    }

    /// A fresh session dropped because its connection resumed another one: nothing was said in
    /// it, so nothing is logged.
    func discard() {
        lock.withLock {
            closed = true
            channel = nil
            unlogged = []
        }
        hub.sessionClosed(self)
    }

    // MARK: The agent's side

    func agentJoined(_ link: AgentLink) {
        lock.withLock {
            guard !closed else { return }
            agent = link
            lastActivity = .now()
            let result = conversation.agentJoined(link.name)
            hub.log.append(result.events)
            write(render(result))
            if channel == nil { link.send(Self.agentNotice("customer_disconnected", ticket: conversation.session.ticket)) }
        }
    }

    func agentSaid(_ text: String) -> Bool {
        lock.withLock {
            guard !closed else { return false }
            lastActivity = .now()
            let result = conversation.agentSaid(text)
            hub.log.append(result.events)
            write(render(result))
            return true
        }
    }

    func agentReturned() {
        lock.withLock {
            guard !closed else { return }
            agent = nil
            lastActivity = .now()
            let result = conversation.agentReturned()
            hub.log.append(result.events)
            write(render(result))
        }
    }

    func agentResolved() {
        lock.withLock {
            guard !closed else { return }
            agent = nil
            let result = conversation.agentResolved()
            hub.log.append(result.events)
            var out = render(result)
            out += endLocked()
            write(out)
            closeConnection()
        }
    }

    /// The agent released the ticket or lost their connection: the customer is waiting again.
    func agentLeft() {
        lock.withLock {
            guard !closed else { return }
            agent = nil
            let result = conversation.agentLeft()
            hub.log.append(result.events)
            write(render(result))
        }
    }

    // MARK: Time and shutdown

    /// Ends sessions idle too long, sessions whose customer did not come back in time, and
    /// connections that have not read what was written to them for `writeTimeout`.
    func sweep(now: NIODeadline) {
        lock.withLock {
            guard !closed else { return }
            let configuration = hub.configuration
            if let detachedAt {
                if now - detachedAt >= .seconds(Int64(configuration.resumeWindow)) { _ = endLocked() }
                return
            }
            if let channel {
                if channel.isWritable {
                    unwritableSince = nil
                } else if let since = unwritableSince {
                    if now - since >= .milliseconds(Int64(configuration.writeTimeout * 1000)) {
                        // A reader that never reads: stop holding its output.
                        hub.logger.warning("closing a connection that stopped reading", metadata: ["session": "\(id)"])
                        channel.eventLoop.execute { channel.close(promise: nil) }
                        return
                    }
                } else {
                    unwritableSince = now
                }
            }
            if now - lastActivity >= .milliseconds(Int64(configuration.idleTimeout * 1000)) {
                hub.logger.info("session idle", metadata: ["session": "\(id)"])
                finishLocked(with: "idle_goodbye")
            }
        }
    }

    /// The server is stopping: a turn in progress finishes first (it holds the lock), then the
    /// customer is told, the session ends, and the connection closes.
    func shutDown() {
        lock.withLock {
            guard !closed else { return }
            finishLocked(with: "server_closing")
        }
    }

    private func finishLocked(with key: String) {
        let result = conversation.sayGoodbye(key)
        logOpening()
        hub.log.append(result.events)
        var out = render(result)
        out += endLocked()
        write(out)
            closeConnection()
    }

    // MARK: Inside the lock

    private func logOpening() {
        if !unlogged.isEmpty {
            hub.log.append(unlogged)
            unlogged = []
        }
    }

    /// The end event, logged; a customer who leaves while handed off keeps their ticket, which
    /// becomes a call-back when we have a number.
    private func endLocked() -> [UInt8] {
        closed = true
        logOpening()
        let end = conversation.close()
        hub.log.append(end)
        let session = conversation.session
        if session.handedOff, let ticket = session.ticket {
            var callback: String?
            if let phone = session.callbackPhone ?? session.customer ?? session.claimedPhone {
                callback = Masking.mask(phone)
                if !session.callbackBooked {
                    do {
                        try hub.queue.requestCallback(ticket: ticket, phone: phone, at: Date())
                    } catch {
                        hub.logger.error("call-back not recorded", metadata: ["ticket": "\(ticket)", "error": "\(error)"])
                    }
                }
            }
            agent?.send(Self.agentNotice("customer_left", ticket: ticket, extra: [("callback", callback.map { .string($0) } ?? .null)]))
            hub.ticketClosed(ticket)
        }
        agent = nil
        hub.sessionClosed(self)
        return wire == .jsonl ? render(TurnResult(classification: nil, replies: [], events: end, handedOff: false, ended: true)) : []
    }

    private func render(_ result: TurnResult) -> [UInt8] {
        var out: [UInt8] = []
        switch wire {
        case .jsonl:
            for event in result.events where event.role != "customer" {
                event.write(to: &out)
                out.append(0x0A)
            }
        case .text:
            for reply in result.replies {
                out += reply.utf8
                out.append(0x0A)
            }
        }
        return out
    }

    /// Writes to the customer's connection, or keeps the output for a resume. The write runs as
    /// the event loop's next task, never inside this lock: a write that finds the connection reset
    /// closes the channel, and closing calls back into this session. Tasks run in order, so the
    /// customer sees what happened in the order it was logged.
    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        guard let channel else {
            if detachedAt != nil, missed.count + bytes.count <= Self.missedLimit { missed += bytes }
            return
        }
        let buffer = channel.allocator.buffer(bytes: bytes)
        channel.eventLoop.execute { channel.writeAndFlush(buffer, promise: nil) }
    }

    /// Closes the connection after everything written so far (the same queue of tasks).
    private func closeConnection() {
        guard let channel else { return }
        self.channel = nil
        channel.eventLoop.execute { channel.close(promise: nil) }
    }

    static func systemEvent(_ event: String, session: String, extra: [(String, JSONValue)] = []) -> [UInt8] {
        var out: [UInt8] = []
        JSONValue.object([("session", .string(session)), ("role", .string("system")), ("event", .string(event))] + extra).write(to: &out)
        out.append(0x0A)
        return out
    }

    static func agentNotice(_ event: String, ticket: String?, extra: [(String, JSONValue)] = []) -> JSONValue {
        .object([("event", .string(event)), ("ticket", ticket.map { .string($0) } ?? .null)] + extra)
    }
}
