import Foundation

/// One conversation's state: a small value the engine steps from turn to turn.
public struct Session: Sendable, Equatable {
    /// What the bot is waiting for inside a flow.
    public enum Awaiting: Sendable, Equatable {
        case slot(SlotName)
        case confirmation
        case phone
        case pin
    }

    /// The flow in progress and what it has collected.
    public struct ActiveFlow: Sendable, Equatable {
        public var intent: IntentID
        public var values: Slots  // a few entries: a short list beats hashing every key
        public var awaiting: Awaiting?
    }

    /// How a session ended (CONTRACT.md section 3).
    public enum Outcome: String, Sendable {
        case resolved, handoff, abandoned
    }

    public var id: String
    public var language: Language
    public var channel: String
    /// The verified (or channel-authenticated) customer's phone.
    public var customer: String? {
        didSet { maskedCustomer = customer.map(Masking.mask) }
    }
    /// The customer's phone as logs show it (masked once, not on every event).
    public private(set) var maskedCustomer: String?
    /// A phone the customer gave, before the PIN.
    public var claimedPhone: String?
    public var failedVerifications = 0
    public var flow: ActiveFlow?
    /// Consecutive turns the bot did not understand.
    public var fallbacks = 0
    public var lastTurnWasFallback = false
    /// Short sentences, one question at a time, a standing offer of a person.
    public var simpleMode = false
    public var frustration = 0.0
    /// At or above the policy's threshold (`session_cues: threshold`), as of the last turn.
    public var frustrated = false
    public var elderly = false
    public var dialect: DialectID?
    /// Intents understood so far, in order.
    public var intents: [IntentID] = []
    /// Slot values gathered over the conversation (masked before they are written anywhere).
    public var slots = Slots()
    /// Why the conversation went to a person (reason ids), once it has.
    public var handoffReasons: [String] = []
    /// With a person (or waiting for one) now.
    public var handedOff = false
    /// The agent talking with the customer live (`serve`), once one has joined.
    public var liveAgent: String?
    /// How urgent and who can take it, set at the handoff by the handoff policy.
    public var priority = 0
    public var skills: [String] = []
    /// The flow in progress when the handoff came: what was filled and what was still missing.
    public var flowAtHandoff: ActiveFlow?
    /// The queue's ticket once the handoff is committed.
    public var ticket: String?
    /// Earlier handoff tickets of this conversation that agents handed back.
    public var returnedTickets: [String] = []
    /// A call-back was offered because nobody was signed in; a yes books it.
    public var callbackOffered = false
    public var callbackBooked = false
    /// The number the call-back was booked on (shown only to the customer who gave it).
    public var callbackPhone: String?
    /// The frustration score after each turn, and the signals that moved it.
    public var cueTrail: [CueStep] = []
    /// Turns the bot did not understand or could not use (1-based turn numbers).
    public var failedTurns: [Int] = []
    /// Signs of confusion since the customer was seen to be elderly.
    public var elderlyConfusions = 0
    /// A person was offered because the customer is frustrated (once a session).
    public var frustrationOffered = false
    /// The customer complained again within the repeat window.
    public var repeatComplaint = false
    /// Tickets the bot made in this conversation.
    public var ticketsMade: [String] = []
    /// Dialogue rules that fired (offers, handoffs, fallback steps), for the agent and for analysts.
    public var rulesFired: [String] = []
    public var ended = false
    public var offeredPerson = false
    public var turns = 0
    /// A follow-up the bot just offered (a dispute after explaining a charge): a yes starts it.
    public var offer: IntentID?
    /// The two guesses the bot just offered ("balance, or a charge?"): "the first one" takes one.
    public var choices: [IntentID] = []
    /// The second of two questions asked in one message, waiting for the first to be answered.
    public var pendingSecond: PendingQuestion?

    /// A question put aside for a moment.
    public struct PendingQuestion: Sendable, Equatable {
        public var definition: FlowDefinition
        public var classification: Classification

        public static func == (a: PendingQuestion, b: PendingQuestion) -> Bool {
            a.definition == b.definition && a.classification.text == b.classification.text
        }
    }

    public init(id: String, language: Language = .zh, channel: String = "chat", customer: String? = nil) {
        self.id = id
        self.language = language
        self.channel = channel
        self.customer = customer
        self.maskedCustomer = customer.map(Masking.mask)
    }

    /// Per-turn records (the cue trail, failed turns, rules fired) keep the last `recentLimit`
    /// entries: an agent reads the recent story, and a session that runs for hours must not grow
    /// (or make its handoff packet grow) without end. Each entry carries its turn number.
    public static let recentLimit = 100

    static func keepRecent<T>(_ list: inout [T]) { list.keepLast(recentLimit, slack: 50) }

    /// The outcome if the session ended now.
    public var outcome: Outcome {
        if handedOff || !handoffReasons.isEmpty { return .handoff }
        if lastTurnWasFallback || flow != nil || intents.isEmpty { return .abandoned }
        return .resolved
    }

    /// A name for where the conversation stands, for transcripts and tests.
    public var state: String {
        if ended { return "ended" }
        if handedOff { return "handed_off" }
        guard let flow else { return "idle" }
        switch flow.awaiting {
        case nil: return flow.intent.rawValue
        case .slot(let name): return "\(flow.intent.rawValue):ask_\(name.rawValue)"
        case .confirmation: return "\(flow.intent.rawValue):confirm"
        case .phone: return "\(flow.intent.rawValue):ask_phone"
        case .pin: return "\(flow.intent.rawValue):ask_pin"
        }
    }
}

/// One step of the frustration trail.
public struct CueStep: Sendable, Equatable, Codable {
    public var turn: Int
    /// The session's score after the turn.
    public var frustration: Double
    /// What raised it this turn (cue labels and session signals); empty on a calm turn.
    public var signals: [String]
}

/// What the runtime does after a turn.
public enum Effect: Sendable, Equatable {
    /// Say this to the customer.
    case reply(text: String, key: String)
    /// Hand the conversation to a person (the session holds the reasons, priority and skills);
    /// the runtime queues it, then tells the customer.
    case handOff
    /// The customer said goodbye.
    case end
}

extension Array {
    /// Drops the oldest elements once there are more than `limit + slack`, keeping the last
    /// `limit` (trimmed in steps, not on every append).
    mutating func keepLast(_ limit: Int, slack: Int) {
        if count > limit + slack { removeFirst(count - limit) }
    }
}
