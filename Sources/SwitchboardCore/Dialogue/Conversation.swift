import Foundation

/// What one customer turn produced: the understanding, the replies, and the transcript events
/// (already masked), in order.
public struct TurnResult: Sendable {
    public var classification: Classification?
    public var replies: [String]
    public var events: [TranscriptEvent]
    /// The conversation went to the human queue in this turn.
    public var handedOff: Bool
    public var ended: Bool

    public init(classification: Classification?, replies: [String], events: [TranscriptEvent], handedOff: Bool, ended: Bool) {
        self.classification = classification
        self.replies = replies
        self.events = events
        self.handedOff = handedOff
        self.ended = ended
    }
}

/// One live conversation: the session, the engine, its data and its clock. Adapters (`chat`,
/// `serve`), the conversation tests and replay all drive the bot through this type, so they see
/// the same behaviour. Not shared between threads.
public final class Conversation {
    public private(set) var session: Session
    public let engine: DialogueEngine
    /// Not shared between threads: `serve` hands each turn the classifier of the thread running it.
    public var classifier: Classifier
    let store: any OperatorData
    /// Where handoffs go. A handoff is told to the customer only once the queue has committed it.
    public let queue: any HandoffQueue
    let clock: @Sendable () -> Date
    private var seq = 0
    /// What the engine said to do this turn (kept, emptied, from turn to turn).
    private let effects = EffectList()
    public private(set) var isClosed = false
    /// Every event so far (masked), up to the last `historyLimit`: the handoff packet carries them.
    /// (The transcript log keeps everything; a session that runs for hours must not grow without end.)
    public private(set) var history: [TranscriptEvent] = []
    public static let historyLimit = 80
    /// The packet sent to the queue, once handed off.
    public private(set) var packet: HandoffPacket?
    /// False when only the session's course matters (replay): no transcript events are made, no
    /// replies are kept (`TurnResult.replies` stays empty), and a handoff queues a bare packet
    /// (reasons, priority, skills, cues), not the summary and the re-explained turns, which cost
    /// more than the rest of a replayed session.
    public var recordsTranscript = true
    /// Told the customer why the queue could not take them (when it fails).
    public var queueFailed: ((any Error) -> Void)?

    public init(id: String, engine: DialogueEngine, classifier: Classifier, store: any OperatorData,
                queue: any HandoffQueue = InMemoryHandoffQueue(), customer: String? = nil, channel: String = "chat",
                clock: @escaping @Sendable () -> Date = { Date() })
    {
        self.queue = queue
        self.session = Self.newSession(id: id, engine: engine, store: store, customer: customer, channel: channel)
        self.engine = engine
        self.classifier = classifier
        self.store = store
        self.clock = clock
    }

    private static func newSession(id: String, engine: DialogueEngine, store: any OperatorData, customer: String?,
                                   channel: String) -> Session
    {
        var session = Session(id: id, language: engine.rules.defaultLanguage, channel: channel)
        if let customer, store.account(phone: customer) != nil { session.customer = customer }
        return session
    }

    /// Starts over as a new conversation with the same engine, store and queue (replay runs
    /// thousands of sessions one after another, and resets the store and queue itself).
    public func restart(id: String, customer: String? = nil, channel: String = "chat") {
        session = Self.newSession(id: id, engine: engine, store: store, customer: customer, channel: channel)
        seq = 0
        isClosed = false
        history.removeAll(keepingCapacity: true)
        packet = nil
    }

    private func remember(_ events: [TranscriptEvent]) {
        history += events
        history.keepLast(Self.historyLimit, slack: 20)
    }

    private func nextSeq() -> Int {
        seq += 1
        return seq
    }

    /// The start event and the bot's greeting.
    public func open() -> TurnResult {
        let now = clock()
        var events = recordsTranscript ? [TranscriptEvent.start(session, seq: nextSeq(), at: now)] : []
        engine.start(&session, data: store, into: effects)
        return finish(effects.items, classification: nil, events: &events, at: now)
    }

    /// One message from the customer.
    public func receive(_ text: String) -> TurnResult {
        let now = clock()
        guard !isClosed, !session.ended else {
            return TurnResult(classification: nil, replies: [], events: [], handedOff: session.handedOff, ended: true)
        }
        var returned = false
        if session.handedOff, let ticket = session.ticket, queue.state(of: ticket)?.status == .returned {
            returned = true
            // The agent gave the conversation back: the bot takes this message itself.
            session.handedOff = false
            session.returnedTickets.append(ticket)
            session.fallbacks = 0
        }
        let waiting = session.handedOff
        let understood = engine.handle(&session, text, at: now, classifier: classifier, data: store, into: effects)
        var events = recordsTranscript ? [TranscriptEvent.customer(session, understood, seq: nextSeq(), at: now)] : []
        if waiting, session.liveAgent != nil, let ticket = session.ticket {
            // Talking with a person: the message is theirs to answer, and kept with the ticket.
            keep(events.first?.maskedText ?? Masking.mask(text), on: ticket, at: now)
            remember(events)
            return TurnResult(classification: understood, replies: [], events: events, handedOff: false, ended: false)
        }
        if waiting {
            return whileWaiting(understood, events: &events, at: now)
        }
        // Said first: the customer should know the bot has them again.
        guard returned else { return finish(effects.items, classification: understood, events: &events, at: now) }
        let back = Effect.reply(text: engine.render("handoff_returned", [:], for: session), key: "handoff_returned")
        return finish([back] + effects.items, classification: understood, events: &events, at: now)
    }

    /// A message while the customer waits for a person: kept with the ticket, and answered with
    /// where they stand (or the agent's outcome, or a call-back booking).
    private func whileWaiting(_ c: Classification, events: inout [TranscriptEvent], at now: Date) -> TurnResult {
        guard let ticket = session.ticket else {
            return finish([], classification: c, events: &events, at: now)
        }
        var replies: [(String, [String: String])] = []
        let masked = events.last?.maskedText ?? Masking.mask(c.text)
        let state = queue.state(of: ticket) ?? TicketState(status: .waiting)
        switch state.status {
        case .resolved:
            replies.append(("handoff_resolved", ["ticket": ticket]))
            session.ended = true
        case .claimed:
            keep(masked, on: ticket, at: now)
            replies.append(("handoff_claimed", ["agent": state.agent ?? "", "ticket": ticket]))
        case .waiting where c.intent == "goodbye", .returned where c.intent == "goodbye":
            // Leaving the queue: the ticket stays, with everything said, for an agent to follow up.
            keep(masked, on: ticket, at: now)
            replies.append(("handoff_left", ["ticket": ticket]))
            session.ended = true
        case .waiting, .returned:
            let nobody = queue.agentsOnline(at: now) == 0
            if !session.callbackBooked && (session.callbackOffered || nobody) {
                // A call-back: a yes books it on the number we have, or a number typed now.
                let phone = c.slots[.phone] ?? session.customer ?? session.claimedPhone
                if c.intent == "affirm" || c.slots[.phone] != nil {
                    if let phone {
                        do {
                            try queue.requestCallback(ticket: ticket, phone: phone, at: now)
                            session.callbackBooked = true
                            session.callbackPhone = phone
                            replies.append(("callback_booked", ["phone": phone, "ticket": ticket,
                                                                "hours": String(engine.dialogue.handoff.callbackHours)]))
                        } catch {
                            queueFailed?(error)
                            replies.append(("handoff_failed", [:]))
                        }
                    } else {
                        replies.append(("callback_ask_phone", [:]))
                    }
                    break
                }
                if session.callbackOffered && (c.intent == "deny" || c.intent == "cancel") {
                    session.callbackOffered = false
                    keep(masked, on: ticket, at: now)
                    replies.append((nobody ? "handoff_waiting_no_agent" : "callback_declined", positionValues(ticket, at: now)))
                    break
                }
            }
            keep(masked, on: ticket, at: now)
            if session.callbackBooked {
                replies.append(("callback_waiting", ["ticket": ticket, "phone": session.callbackPhone ?? "",
                                                     "hours": String(engine.dialogue.handoff.callbackHours)]))
            } else if nobody {
                // No minutes promised when nobody is there to keep the promise.
                replies.append(("handoff_waiting_no_agent", ["ticket": ticket]))
            } else {
                replies.append(("handoff_waiting", positionValues(ticket, at: now)))
            }
        }
        let said = replies.map { key, values in Effect.reply(text: engine.render(key, values, for: session), key: key) }
        return finish(said, classification: c, events: &events, at: now)
    }

    /// Adds a waiting customer's message to their ticket. (It is in the transcript log as well, so
    /// a queue that fails here loses nothing; the failure is reported.)
    private func keep(_ text: String, on ticket: String, at now: Date) {
        do {
            try queue.append(ticket: ticket, role: "customer", text: text, at: now)
        } catch {
            queueFailed?(error)
        }
    }

    private func positionValues(_ ticket: String, at now: Date) -> [String: String] {
        let position = queue.position(of: ticket, at: now)
        return ["ticket": ticket, "place": String(position?.place ?? 1), "wait": String(position?.expectedWaitMinutes ?? 1)]
    }

    private func finish(_ effects: [Effect], classification: Classification?, events: inout [TranscriptEvent],
                        at now: Date) -> TurnResult
    {
        var replies: [String] = []
        var handedOff = false
        var ended = false
        func reply(_ text: String, _ key: String) {
            guard recordsTranscript else { return }
            replies.append(text)
            events.append(.bot(session, text: text, key: key, seq: nextSeq(), at: now))
        }
        // (The values are worked out only for a rendered reply: a quiet engine renders none.)
        func say(_ key: String, _ values: @autoclosure () -> [String: String]) {
            reply(engine.quiet ? key : engine.render(key, values(), for: session), key)
        }
        for effect in effects {
            switch effect {
            case .reply(let text, let key):
                reply(text, key)
            case .handOff:
                // The ticket is committed before the customer hears of the transfer.
                let built = recordsTranscript
                    ? HandoffSummary(engine: engine).packet(session: session, events: history + events, store: store,
                                                            classifier: classifier, at: now)
                    : HandoffSummary.bare(session, at: now)
                do {
                    let ticket = try queue.enqueue(built, at: now)
                    session.ticket = ticket
                    var stored = built
                    stored.ticket = ticket
                    packet = stored
                    handedOff = true
                    if recordsTranscript {
                        events.append(.handoff(session, reasons: session.handoffReasons, priority: session.priority, seq: nextSeq(), at: now))
                    }
                    if queue.agentsOnline(at: now) == 0 {
                        session.callbackOffered = true
                        let phone = session.customer ?? session.claimedPhone
                        say(phone == nil ? "callback_offer_no_phone" : "callback_offer",
                            ["ticket": ticket, "hours": String(engine.dialogue.handoff.callbackHours),
                             "phone": phone.map(Masking.mask) ?? ""])
                    } else {
                        say("handoff", positionValues(ticket, at: now))
                    }
                } catch {
                    // Nothing was queued: the customer is not told they are being transferred, and
                    // keeps the request they were in the middle of.
                    queueFailed?(error)
                    session.handedOff = false
                    session.handoffReasons = []
                    session.flow = session.flowAtHandoff
                    say("handoff_failed", [:])
                }
            case .end:
                ended = true
            }
        }
        if recordsTranscript { remember(events) }
        return TurnResult(classification: classification, replies: replies, events: events, handedOff: handedOff, ended: ended)
    }

    // MARK: - A live agent (`serve`)

    /// An agent took the ticket while the customer is connected: from now on the customer's
    /// messages go to them, and the customer is told who they are talking to.
    public func agentJoined(_ name: String) -> TurnResult {
        let now = clock()
        session.liveAgent = name
        var events = [TranscriptEvent.agentEvent(session, "agent_joined", agent: name, seq: nextSeq(), at: now)]
        return finish([reply("agent_joined", ["agent": name])], classification: nil, events: &events, at: now)
    }

    /// A line the agent wrote, as the customer sees it (`Name: text`).
    public func agentSaid(_ text: String) -> TurnResult {
        let now = clock()
        let name = session.liveAgent ?? ""
        let event = TranscriptEvent.agent(session, name: name, text: text, seq: nextSeq(), at: now)
        remember([event])
        return TurnResult(classification: nil, replies: ["\(name): \(text)"], events: [event], handedOff: false, ended: false)
    }

    /// The agent gave the conversation back: the bot carries on, with everything said kept.
    public func agentReturned() -> TurnResult {
        let now = clock()
        var events: [TranscriptEvent] = []
        if let name = session.liveAgent { events.append(.agentEvent(session, "returned", agent: name, seq: nextSeq(), at: now)) }
        if let ticket = session.ticket { session.returnedTickets.append(ticket) }
        session.handedOff = false
        session.liveAgent = nil
        session.fallbacks = 0
        return finish([reply("handoff_returned", [:])], classification: nil, events: &events, at: now)
    }

    /// The agent closed the case: the customer is told, and the conversation ends.
    public func agentResolved() -> TurnResult {
        let now = clock()
        var events: [TranscriptEvent] = []
        if let name = session.liveAgent { events.append(.agentEvent(session, "resolved", agent: name, seq: nextSeq(), at: now)) }
        session.ended = true
        var result = finish([reply("handoff_resolved", ["ticket": session.ticket ?? ""])], classification: nil, events: &events, at: now)
        result.ended = true
        return result
    }

    /// The agent left without closing the case (released it, or lost their connection): the
    /// ticket is back in the queue, and the customer hears so.
    public func agentLeft() -> TurnResult {
        let now = clock()
        guard let name = session.liveAgent else { return TurnResult(classification: nil, replies: [], events: [], handedOff: false, ended: false) }
        session.liveAgent = nil
        var events = [TranscriptEvent.agentEvent(session, "agent_left", agent: name, seq: nextSeq(), at: now)]
        return finish([reply("agent_gone", ["agent": name, "ticket": session.ticket ?? ""])], classification: nil, events: &events, at: now)
    }

    /// A goodbye the customer did not ask for (`idle_goodbye`, `server_closing`): said, then the
    /// conversation ends. A customer in the human queue hears that their ticket stays.
    public func sayGoodbye(_ key: String) -> TurnResult {
        let now = clock()
        var events: [TranscriptEvent] = []
        let queued = key == "server_closing" && session.handedOff && session.ticket != nil
        let said = [reply(queued ? "server_closing_queued" : key, ["ticket": session.ticket ?? ""])]
        session.ended = true
        var result = finish(said, classification: nil, events: &events, at: now)
        result.ended = true
        return result
    }

    /// The channel authenticated the customer after the session opened (before their first
    /// message): account questions no longer ask for a number and PIN.
    @discardableResult
    public func identify(customer: String) -> Bool {
        guard session.customer == nil, store.account(phone: customer) != nil else { return false }
        session.customer = customer
        return true
    }

    /// The start event as it stands now (for an adapter that logs the opening lazily).
    public func startEvent(at time: Date) -> TranscriptEvent { .start(session, seq: 1, at: time) }

    private func reply(_ key: String, _ values: [String: String]) -> Effect {
        .reply(text: engine.render(key, values, for: session), key: key)
    }

    /// The end event with the outcome; later calls return nothing.
    public func close() -> [TranscriptEvent] {
        guard !isClosed else { return [] }
        isClosed = true
        guard recordsTranscript else { return [] }
        let end = TranscriptEvent.end(session, seq: nextSeq(), at: clock())
        remember([end])
        return [end]
    }
}
