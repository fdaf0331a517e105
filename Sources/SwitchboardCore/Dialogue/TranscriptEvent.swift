import Foundation

/// One line of a transcript (CONTRACT.md section 5). Text, slots and the customer's number are
/// masked when the line is made, so nothing unmasked can reach a file.
public struct TranscriptEvent: Sendable {
    /// `customer`, `bot`, `agent` or `system`.
    public let role: String
    /// The response key of a bot event.
    public private(set) var response: String?
    /// A customer event's text as logged (masked).
    public private(set) var maskedText: String?
    /// The JSON object, written as fields are added (without its closing brace): an event is
    /// built once and written once, so no tree of values is kept.
    private var bytes: [UInt8]

    public init(session: String, seq: Int, at time: Date, role: String) {
        self.role = role
        let ts = Self.timestamp(time)
        bytes = []
        bytes.reserveCapacity(320)
        bytes.append(0x7B)
        add("session", string: session)
        add("seq", .int(seq))
        add("ts", string: ts)
        add("role", string: role)
    }

    /// Adds a field (the builders below add each key once).
    mutating func add(_ key: String, _ value: JSONValue) {
        writeKey(key)
        value.write(to: &bytes)
    }

    mutating func add(_ key: String, string: String) {
        writeKey(key)
        JSONValue.writeString(string, to: &bytes)
    }

    private mutating func writeKey(_ key: String) {
        if bytes.count > 1 { bytes.append(0x2C) }
        bytes.append(0x22)
        bytes += key.utf8
        bytes.append(0x22)
        bytes.append(0x3A)
    }

    public var line: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same event as typed fields, for the handoff packet (which carries the transcript). Read
    /// back from the event's own JSON: only a handoff needs it, so no turn pays for it.
    public var record: TranscriptLine {
        var out = bytes
        out.append(0x7D)
        return TranscriptLine(json: out) ?? TranscriptLine(role: role, text: maskedText)
    }

    /// Appends the event as one JSON line (without the newline).
    public func write(to out: inout [UInt8]) {
        out += bytes
        out.append(0x7D)
    }

    /// RFC 3339 in UTC with milliseconds, written by hand (a formatter per event costs more than a turn).
    public static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let c = CivilDate(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        var bytes: [UInt8] = Array("0000-00-00T00:00:00.000Z".utf8)
        CivilDate.put(c.year, at: 0, width: 4, in: &bytes)
        CivilDate.put(c.month, at: 5, width: 2, in: &bytes)
        CivilDate.put(c.day, at: 8, width: 2, in: &bytes)
        CivilDate.put(c.second / 3600, at: 11, width: 2, in: &bytes)
        CivilDate.put(c.second % 3600 / 60, at: 14, width: 2, in: &bytes)
        CivilDate.put(c.second % 60, at: 17, width: 2, in: &bytes)
        CivilDate.put(Int(((ms % 1000) + 1000) % 1000), at: 20, width: 3, in: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TranscriptEvent {
    /// The session's opening event.
    public static func start(_ session: Session, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "system")
        e.add("event", string: "start")
        e.add("channel", string: session.channel)
        if let customer = session.maskedCustomer { e.add("customer", string: customer) }
        e.add("lang", string: session.language.rawValue)
        return e
    }

    /// What the customer said, with how it was understood.
    public static func customer(_ session: Session, _ c: Classification, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "customer")
        var text = Masking.mask(c.text)
        // The service PIN is never logged, not even as a slot: its digits become asterisks.
        // A message that carried a PIN (in one group or two) has every digit masked.
        if c.slots[.pin] != nil { text = String(String.UnicodeScalarView(text.unicodeScalars.map { Scalar.isDigit($0.value) ? "*" : $0 })) }
        // A bare six-digit reply is most likely a PIN typed when nobody asked for one: masked too.
        if text.utf8.count <= 12, text.utf8.reduce(0, { $0 + ((0x30...0x39).contains($1) ? 1 : 0) }) == 6,
            text.utf8.allSatisfy({ (0x30...0x39).contains($0) || $0 == 0x20 })
        {
            text = "******"
        }
        e.add("text", string: text)
        e.maskedText = text
        e.add("intent", string: c.intent.rawValue)
        e.add("confidence", .double(c.confidence))
        var slots = c.slots
        slots[.pin] = nil  // never written, not even masked
        let masked = slots.entries.sorted { $0.name < $1.name }.map { ($0.name.rawValue, Masking.mask($0.value)) }
        e.add("slots", .object(masked.map { ($0.0, .string($0.1)) }))
        e.add("lang", string: c.language.rawValue)
        e.addCues(session)
        return e
    }

    /// What the bot said.
    public static func bot(_ session: Session, text: String, key: String, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "bot")
        let masked = Masking.mask(text)
        e.add("text", string: masked)
        e.add("response", string: key)
        e.response = key
        let state = session.state
        e.add("state", string: state)
        if let customer = session.maskedCustomer { e.add("customer", string: customer) }
        e.add("lang", string: session.language.rawValue)
        return e
    }

    public static func handoff(_ session: Session, reasons: [String], priority: Int, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "system")
        e.add("event", .string("handoff"))
        e.add("reasons", .array(reasons.map { .string($0) }))
        e.add("priority", .int(priority))
        if let ticket = session.ticket { e.add("ticket", string: ticket) }
        e.add("skills", .array(session.skills.map { .string($0) }))
        e.addCues(session)
        e.add("intents", .array(session.intents.map { .string($0.rawValue) }))
        return e
    }

    /// What a live agent wrote to the customer (masked like everything else).
    public static func agent(_ session: Session, name: String, text: String, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "agent")
        e.add("agent", string: name)
        e.add("text", string: Masking.mask(text))
        if let ticket = session.ticket { e.add("ticket", string: ticket) }
        return e
    }

    /// A change in who is serving the customer: an agent `agent_joined`, `agent_left`, or handed
    /// the conversation back (`returned`) or closed it (`resolved`).
    public static func agentEvent(_ session: Session, _ event: String, agent: String, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "system")
        e.add("event", string: event)
        e.add("agent", string: agent)
        if let ticket = session.ticket { e.add("ticket", string: ticket) }
        return e
    }

    public static func end(_ session: Session, seq: Int, at time: Date) -> TranscriptEvent {
        var e = TranscriptEvent(session: session.id, seq: seq, at: time, role: "system")
        e.add("event", .string("end"))
        e.add("outcome", .string(session.outcome.rawValue))
        if !session.handoffReasons.isEmpty { e.add("reasons", .array(session.handoffReasons.map { .string($0) })) }
        e.add("intents", .array(session.intents.map { .string($0.rawValue) }))
        e.addCues(session)
        return e
    }

    /// The `cues` object of every customer, handoff and end event.
    mutating func addCues(_ session: Session) {
        add("cues", Self.cues(session))

    }

    static func cues(_ session: Session) -> JSONValue {
        .object([
            ("frustration", .double((session.frustration * 1000).rounded() / 1000)), ("frustrated", .bool(session.frustrated)),
            ("elderly", .bool(session.elderly)), ("dialect", session.dialect.map { .string($0.rawValue) } ?? .null),
        ])
    }
}
