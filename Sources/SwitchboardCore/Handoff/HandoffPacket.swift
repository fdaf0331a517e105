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
        // The transcript (most of the packet) is written by hand and put in place of an empty
        // one: Foundation's encoder spent most of a handoff on it.
        var rest = self
        rest.transcript = []
        // Every field is a plain value; encoding cannot fail.
        guard let head = try? encoder.encode(rest) else { return Data("{}".utf8) }
        let marker = Data(#""transcript":[]"#.utf8)
        guard let at = head.range(of: marker) else { return head }
        var lines: [UInt8] = Array(#""transcript":["#.utf8)
        lines.reserveCapacity(transcript.count * 300)
        for (i, line) in transcript.enumerated() {
            if i > 0 { lines.append(0x2C) }
            line.write(to: &lines)
        }
        lines.append(0x5D)
        var out = Data(head[..<at.lowerBound])
        out.append(contentsOf: lines)
        out.append(head[at.upperBound...])
        return out
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
    /// The agent who wrote an `agent` line (live conversations in `serve`).
    public var agent: String?

    public init(role: String, text: String?, ts: String? = nil) {
        self.role = role
        self.text = text
        self.ts = ts
    }

    /// Reads one transcript line's JSON (as `TranscriptEvent` writes it); nil if it is not an object.
    init?(json: [UInt8]) {
        guard let object = JSONReader.parse(json)?.object, let role = object["role"]?.string else { return nil }
        self.init(role: role, text: object["text"]?.string, ts: object["ts"]?.string)
        session = object["session"]?.string
        seq = object["seq"]?.int
        intent = object["intent"]?.string
        confidence = object["confidence"]?.double
        if let pairs = object["slots"]?.object {
            var values: [String: String] = [:]
            for (key, value) in pairs { if let text = value.string { values[key] = text } }
            slots = values
        }
        state = object["state"]?.string
        response = object["response"]?.string
        event = object["event"]?.string
        reasons = object["reasons"]?.strings
        priority = object["priority"]?.int
        ticket = object["ticket"]?.string
        lang = object["lang"]?.string
        customer = object["customer"]?.string
        channel = object["channel"]?.string
        outcome = object["outcome"]?.string
        intents = object["intents"]?.strings
        agent = object["agent"]?.string
        if let c = object["cues"]?.object {
            cues = HandoffPacket.Cues(frustration: c["frustration"]?.double ?? 0, frustrated: c["frustrated"]?.bool ?? false,
                                      elderly: c["elderly"]?.bool ?? false, dialect: c["dialect"]?.string)
        }
    }

    /// The line as `JSONEncoder` with sorted keys writes it (keys in order, nil fields left out),
    /// written by hand: a packet carries up to a conversation's worth of lines.
    func write(to out: inout [UInt8]) {
        var first = true
        func key(_ name: String) {
            out.append(first ? 0x7B : 0x2C)
            first = false
            JSONValue.writeString(name, to: &out)
            out.append(0x3A)
        }
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONValue.writeString(value, to: &out)
        }
        func strings(_ name: String, _ value: [String]?) {
            guard let value else { return }
            key(name)
            JSONValue.array(value.map { .string($0) }).write(to: &out)
        }
        string("agent", agent)
        string("channel", channel)
        if let confidence {
            key("confidence")
            JSONValue.double(confidence).write(to: &out)
        }
        if let cues {
            key("cues")
            var fields: [(String, JSONValue)] = []
            if let dialect = cues.dialect { fields.append(("dialect", .string(dialect))) }
            fields += [("elderly", .bool(cues.elderly)), ("frustrated", .bool(cues.frustrated)), ("frustration", .double(cues.frustration))]
            JSONValue.object(fields).write(to: &out)
        }
        string("customer", customer)
        string("event", event)
        string("intent", intent)
        strings("intents", intents)
        string("lang", lang)
        string("outcome", outcome)
        if let priority {
            key("priority")
            JSONValue.int(priority).write(to: &out)
        }
        strings("reasons", reasons)
        string("response", response)
        string("role", role)
        if let seq {
            key("seq")
            JSONValue.int(seq).write(to: &out)
        }
        string("session", session)
        if let slots {
            key("slots")
            JSONValue.object(slots.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).write(to: &out)
        }
        string("state", state)
        string("text", text)
        string("ticket", ticket)
        string("ts", ts)
        if first { out.append(0x7B) }
        out.append(0x7D)
    }

}
