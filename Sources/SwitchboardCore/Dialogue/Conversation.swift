import Foundation

/// What one customer turn produced: the understanding, the replies, and the transcript events
/// (already masked), in order.
public struct TurnResult: Sendable {
    public var classification: Classification?
    public var replies: [String]
    public var events: [TranscriptEvent]
    public var handedOff: Bool
    public var ended: Bool
}

/// One live conversation: the session, the engine, its data and its clock. Adapters (`chat`,
/// `serve`), the conversation tests and replay all drive the bot through this type, so they see
/// the same behaviour. Not shared between threads.
public final class Conversation {
    public private(set) var session: Session
    public let engine: DialogueEngine
    let classifier: Classifier
    let store: any OperatorData
    let clock: @Sendable () -> Date
    private var seq = 0
    public private(set) var isClosed = false

    public init(id: String, engine: DialogueEngine, classifier: Classifier, store: any OperatorData,
                customer: String? = nil, channel: String = "chat", clock: @escaping @Sendable () -> Date = { Date() })
    {
        var session = Session(id: id, language: engine.rules.defaultLanguage, channel: channel)
        if let customer, store.account(phone: customer) != nil { session.customer = customer }
        self.session = session
        self.engine = engine
        self.classifier = classifier
        self.store = store
        self.clock = clock
    }

    private func nextSeq() -> Int {
        seq += 1
        return seq
    }

    /// The start event and the bot's greeting.
    public func open() -> TurnResult {
        let now = clock()
        var events = [TranscriptEvent.start(session, seq: nextSeq(), at: now)]
        let effects = engine.start(&session, data: store)
        return finish(effects, classification: nil, events: &events, at: now)
    }

    /// One message from the customer.
    public func receive(_ text: String) -> TurnResult {
        let now = clock()
        guard !isClosed, !session.ended else {
            return TurnResult(classification: nil, replies: [], events: [], handedOff: session.handedOff, ended: true)
        }
        let (understood, effects) = engine.handle(&session, text, at: now, classifier: classifier, data: store)
        var events = [TranscriptEvent.customer(session, understood, seq: nextSeq(), at: now)]
        return finish(effects, classification: understood, events: &events, at: now)
    }

    private func finish(_ effects: [Effect], classification: Classification?, events: inout [TranscriptEvent],
                        at now: Date) -> TurnResult
    {
        var replies: [String] = []
        var handedOff = false
        var ended = false
        for effect in effects {
            switch effect {
            case .reply(let text, let key):
                replies.append(text)
                events.append(.bot(session, text: text, key: key, seq: nextSeq(), at: now))
            case .handOff(let reasons, let priority):
                handedOff = true
                events.append(.handoff(session, reasons: reasons, priority: priority, seq: nextSeq(), at: now))
            case .end:
                ended = true
            }
        }
        return TurnResult(classification: classification, replies: replies, events: events, handedOff: handedOff, ended: ended)
    }

    /// The end event with the outcome; later calls return nothing.
    public func close() -> [TranscriptEvent] {
        guard !isClosed else { return [] }
        isClosed = true
        return [.end(session, seq: nextSeq(), at: clock())]
    }
}
