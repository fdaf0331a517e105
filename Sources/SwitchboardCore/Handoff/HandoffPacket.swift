import Foundation

/// Everything an agent needs to take a conversation over without asking the customer to repeat
/// anything (schema: `docs/handoff-packet.md`). Built once, at the handoff, from the session and
/// its masked transcript; stored as JSON in the queue. Nothing in it is unmasked.
public struct HandoffPacket: Codable, Sendable, Equatable {
    /// The schema version this build writes; readers refuse newer ones.
    public static let currentVersion = 1

    public var version: Int
    /// The queue's ticket id (empty until the queue assigns one).
    public var ticket: String
    public var session: String
    public var channel: String
    /// RFC 3339, UTC.
    public var createdAt: String
    public var reasons: [String]
    /// 1 (routine) to the policy's maximum (most urgent).
    public var priority: Int
    /// What the agent must speak or know: language, dialect, domain.
    public var skills: [String]
    public var language: String
    public var dialect: String?
    public var elderly: Bool
    public var cues: Cues
    public var frustrationTrail: [CueStep]
    /// The intents understood, in order.
    public var intents: [String]
    /// Slot values gathered over the conversation, masked.
    public var slots: [String: String]
    /// The request in progress at the handoff: what was filled and what was still missing.
    public var pending: Pending?
    public var failedTurns: [FailedTurn]
    /// Wrong service PINs given in this conversation.
    public var failedVerifications: Int
    /// The classification rules and dialogue rules that fired, per turn.
    public var rulesFired: [String]
    public var customer: Customer?
    public var openTickets: [TicketBrief]
    /// Tickets the bot made in this conversation.
    public var ticketsMade: [TicketBrief]
    /// Earlier handoffs of this conversation that an agent handed back to the bot.
    public var returnedTickets: [String]
    /// The ten-second read, in the language of the ticket (which the agent speaks).
    public var summary: String
    /// The same summary in every language, for an agent who prefers another.
    public var summaries: [String: String]
    /// The whole conversation so far, masked, as transcript events (CONTRACT.md section 5).
    public var transcript: [TranscriptLine]

    public struct Cues: Codable, Sendable, Equatable {
        public var frustration: Double
        public var frustrated: Bool
        public var elderly: Bool
        public var dialect: String?

        public init(frustration: Double, frustrated: Bool, elderly: Bool, dialect: String?) {
            self.frustration = frustration
            self.frustrated = frustrated
            self.elderly = elderly
            self.dialect = dialect
        }
    }

    public struct Pending: Codable, Sendable, Equatable {
        public var intent: String
        /// What the bot was waiting for (`ask_place`, `confirm`, `ask_pin`…), if anything.
        public var awaiting: String?
        public var filled: [String: String]
        public var missing: [String]
    }

    public struct FailedTurn: Codable, Sendable, Equatable {
        public var turn: Int
        public var text: String
        public var intent: String
        public var confidence: Double
    }

    /// The customer as the agent may see them: masked phone, masked name, the account in brief.
    public struct Customer: Codable, Sendable, Equatable {
        public var phone: String
        public var verified: Bool
        public var name: String?
        public var plan: String?
        public var planName: String?
        /// Yuan, e.g. "-128.50" in arrears.
        public var balance: String?
        public var inArrears: Bool?
        public var seniorAccount: Bool?

        enum CodingKeys: String, CodingKey {
            case phone, verified, name, plan, planName = "plan_name", balance, inArrears = "in_arrears"
            case seniorAccount = "senior_account"
        }
    }

    public struct TicketBrief: Codable, Sendable, Equatable {
        public var id: String
        public var kind: String
        public var status: String
        public var summary: String
        public var due: String
    }

    public init(version: Int, ticket: String, session: String, channel: String, createdAt: String, reasons: [String],
                priority: Int, skills: [String], language: String, dialect: String?, elderly: Bool, cues: Cues,
                frustrationTrail: [CueStep], intents: [String], slots: [String: String], pending: Pending?,
                failedTurns: [FailedTurn], failedVerifications: Int = 0, rulesFired: [String], customer: Customer?, openTickets: [TicketBrief],
                ticketsMade: [TicketBrief], returnedTickets: [String] = [], summary: String, summaries: [String: String], transcript: [TranscriptLine])
    {
        self.version = version
        self.ticket = ticket
        self.session = session
        self.channel = channel
        self.createdAt = createdAt
        self.reasons = reasons
        self.priority = priority
        self.skills = skills
        self.language = language
        self.dialect = dialect
        self.elderly = elderly
        self.cues = cues
        self.frustrationTrail = frustrationTrail
        self.intents = intents
        self.slots = slots
        self.pending = pending
        self.failedTurns = failedTurns
        self.failedVerifications = failedVerifications
        self.rulesFired = rulesFired
        self.customer = customer
        self.openTickets = openTickets
        self.ticketsMade = ticketsMade
        self.returnedTickets = returnedTickets
        self.summary = summary
        self.summaries = summaries
        self.transcript = transcript
    }

    enum CodingKeys: String, CodingKey {
        case version, ticket, session, channel, createdAt = "created_at", reasons, priority, skills, language, dialect
        case elderly, cues, frustrationTrail = "frustration_trail", intents, slots, pending, failedTurns = "failed_turns"
        case failedVerifications = "failed_verifications"
        case rulesFired = "rules_fired", customer, openTickets = "open_tickets", ticketsMade = "tickets_made"
        case returnedTickets = "returned_tickets", summary
        case summaries, transcript
    }

    /// Stands in for the ticket id while the packet is encoded ahead of the queue's lock. JSON writes
    /// the control characters as `\u0001`, and a customer's quote is always escaped, so these bytes
    /// (with their quotes) can only be this field's value.
    public static let ticketPlaceholder = "\u{1}TICKET\u{1}"

    /// The JSON of a packet encoded with `ticketPlaceholder` as its ticket, with the real id put in
    /// without encoding again; nil if the placeholder is not there exactly once.
    public static func encoded(_ json: Data, ticket: String) -> Data? {
        let placeholder = Data(#""\u0001TICKET\u0001""#.utf8)
        guard let at = json.range(of: placeholder), json[at.upperBound...].range(of: placeholder) == nil,
            ticket.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
        else { return nil }
        var out = Data(json[..<at.lowerBound])
        out.append(Data("\"\(ticket)\"".utf8))
        out.append(json[at.upperBound...])
        return out
    }

    /// The packet as one line of JSON (keys sorted, so the same packet is always the same bytes).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a plain value; encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// Reads a stored packet; a newer version than this build knows is refused, not misread.
    public static func decode(_ data: Data) throws -> HandoffPacket {
        let packet = try JSONDecoder().decode(HandoffPacket.self, from: data)
        guard packet.version <= currentVersion else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.version],
                                                    debugDescription: "packet version \(packet.version) is newer than this build (\(currentVersion))"))
        }
        return packet
    }
}

/// One transcript event as the packet carries it (CONTRACT.md section 5); absent fields are omitted.
public struct TranscriptLine: Codable, Sendable, Equatable {
    public var session: String?
    public var seq: Int?
    public var ts: String?
    public var role: String
    public var text: String?
    public var intent: String?
    public var confidence: Double?
    public var slots: [String: String]?
    public var state: String?
    public var response: String?
    public var event: String?
    public var reasons: [String]?
    public var priority: Int?
    public var ticket: String?
    public var lang: String?
    public var cues: HandoffPacket.Cues?
    public var customer: String?
    public var channel: String?
    public var outcome: String?
    public var intents: [String]?

    public init(role: String, text: String?, ts: String? = nil) {
        self.role = role
        self.text = text
        self.ts = ts
    }

    /// Reads one transcript line's JSON (as `TranscriptEvent` writes it); nil if it is not an object.
    init?(json: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            let role = object["role"] as? String
        else { return nil }
        self.init(role: role, text: object["text"] as? String, ts: object["ts"] as? String)
        session = object["session"] as? String
        seq = object["seq"] as? Int
        intent = object["intent"] as? String
        confidence = (object["confidence"] as? NSNumber)?.doubleValue
        slots = object["slots"] as? [String: String]
        state = object["state"] as? String
        response = object["response"] as? String
        event = object["event"] as? String
        reasons = object["reasons"] as? [String]
        priority = object["priority"] as? Int
        ticket = object["ticket"] as? String
        lang = object["lang"] as? String
        customer = object["customer"] as? String
        channel = object["channel"] as? String
        outcome = object["outcome"] as? String
        intents = object["intents"] as? [String]
        if let c = object["cues"] as? [String: Any] {
            cues = HandoffPacket.Cues(frustration: (c["frustration"] as? NSNumber)?.doubleValue ?? 0,
                                      frustrated: c["frustrated"] as? Bool ?? false, elderly: c["elderly"] as? Bool ?? false,
                                      dialect: c["dialect"] as? String)
        }
    }
}
