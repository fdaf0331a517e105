import Foundation

/// One recorded session, gathered from transcript lines.
public struct RecordedSession: Sendable {
    public var id: String
    /// Order of first appearance in the input: reports list sessions by it.
    public var index: Int
    public var customer: String?
    public var channel: String?
    /// Log time of its first and last line, when the lines carry `ts`.
    public var start: Double?
    public var end: Double?
    public var turns: [String] = []
    /// The `outcome` of its `end` event, when the log has one.
    public var recordedOutcome: String?

    public init(id: String, index: Int) {
        self.id = id
        self.index = index
    }
}

/// Groups a stream of transcript lines into sessions, in bounded memory: a session is complete
/// at its `end` event, when the log's clock has moved `gap` seconds past its last line, or at the
/// end of the input. Only sessions still open are held.
public struct SessionAssembler {
    public let gap: Double
    private var open = OpenSessions()
    private var nextIndex = 0
    private var latest = -Double.infinity
    private var sinceSweep = 0
    private var lastSweep = -Double.infinity
    /// Sessions recently completed at their `end` (by the hash of their id): a line for one of
    /// them afterwards is late, not a new session. A ring of the last 65,536 keeps this bounded
    /// too. (Two ids sharing a 64-bit hash among them is not a worry worth the strings.)
    private var closed: Set<UInt64> = []
    private var closedRing: [UInt64] = []
    private var closedNext = 0
    private static let closedLimit = 65_536
    /// Lines for a session already completed by its `end` event.
    public private(set) var lateLines = 0
    /// Customer lines whose text is only a masked number or PIN: nothing to replay, so dropped.
    public private(set) var maskedLines = 0
    /// The most sessions open at once (what bounds memory).
    public private(set) var peakOpen = 0

    public init(gap: Double = 2 * 3600) { self.gap = gap }

    /// Adds a line, whose strings are in `strings` and session id in `ids` (the `LogRecord.Parser`'s
    /// that read it).
    public mutating func add(_ record: LogRecord, strings: borrowing [String], ids: borrowing [UInt8], into done: inout [RecordedSession]) {
        if let time = record.time, time > latest { latest = time }
        let slot: Int
        if let found = ids.withUnsafeBufferPointer({ open.find(record.sessionHash, LogRecord.session(of: record, in: $0)) }) {
            slot = found
        } else {
            if closed.contains(record.sessionHash) {
                lateLines += 1
                return
            }
            let id = ids.withUnsafeBufferPointer { String(decoding: LogRecord.session(of: record, in: $0), as: UTF8.self) }
            var session = RecordedSession(id: id, index: nextIndex)
            session.turns.reserveCapacity(4)  // room for most sessions' turns at once
            slot = open.insert(session, hash: record.sessionHash)
            nextIndex += 1
            peakOpen = max(peakOpen, open.count)
        }
        var ended = false
        var masked = false
        open.update(slot) { Self.update(&$0, with: record, strings: strings, ended: &ended, masked: &masked) }
        if masked { maskedLines += 1 }
        if ended {
            done.append(open.remove(at: slot))
            remember(record.sessionHash)
        }
        // Quiet sessions are looked for each time the log's clock moves on by half a gap (and
        // every 65,536 lines), so at most a gap and a half of sessions is ever open.
        sinceSweep += 1
        if latest >= lastSweep + gap / 2 || sinceSweep >= 65_536 {
            sinceSweep = 0
            lastSweep = latest
            sweep(into: &done)
        }
    }

    /// Every session still open, in order of first appearance.
    public mutating func finish(into done: inout [RecordedSession]) {
        done += open.removeAll().sorted { $0.index < $1.index }
    }

    private static func update(_ s: inout RecordedSession, with record: LogRecord, strings: borrowing [String], ended: inout Bool,
                               masked: inout Bool)
    {
        if s.customer == nil, record.customer != LogRecord.none { s.customer = strings[Int(record.customer)] }
        if record.channel != LogRecord.none { s.channel = strings[Int(record.channel)] }
        if let time = record.time {
            if s.start == nil { s.start = time }
            s.end = time
        }
        switch record.role {
        case .customer:
            guard record.text != LogRecord.none else { return }
            // A line with a masked number, PIN or card ("服务密码是******", "号码138****0001")
            // answers the bot's identity questions, which a replay cannot: the session is
            // replayed as identified instead, from the `customer` its events record.
            if record.masked {
                masked = true
                return
            }
            s.turns.append(strings[Int(record.text)])
        case .system where record.ends:
            s.recordedOutcome = record.outcome == LogRecord.none ? nil : strings[Int(record.outcome)]
            ended = true
        default:
            break
        }
    }

    private mutating func sweep(into done: inout [RecordedSession]) {
        guard latest.isFinite else { return }
        // Taken out from the highest position down, so the positions still to take stay put.
        let quiet = open.sessions.indices.filter { (open.sessions[$0].end ?? latest) < latest - gap }
        done += quiet.reversed().map { open.remove(at: $0) }.sorted { $0.index < $1.index }
    }

    private mutating func remember(_ id: UInt64) {
        if closedRing.count < Self.closedLimit {
            closedRing.append(id)
        } else {
            closed.remove(closedRing[closedNext])
            closedRing[closedNext] = id
            closedNext = (closedNext + 1) % Self.closedLimit
        }
        closed.insert(id)
    }
}

/// One replayed session's result.
public struct SessionResult: Sendable {
    public var id: String
    public var index: Int
    public var outcome: Session.Outcome
    public var handoffReasons: [String]
    public var intents: [IntentID]
    public var recordedOutcome: String?
    public var fallbackTexts: [String]
    /// What the customer said in a complaint (the turn that filed it and those inside its flow).
    public var complaintTexts: [String]
    public var language: String
    public var dialect: String?
    public var elderly: Bool
    public var frustrated: Bool
    public var frustration: Double
    public var channel: String?
    public var customer: String?
    public var start: Double?
    public var end: Double?
    public var turns: [String]
    public var fallbackTurns: Int { fallbackTexts.count }

    /// What the customer came for: the first intent that is not greeting, thanks, goodbye or a
    /// yes/no; nil when there was none.
    public var firstIntent: String? {
        intents.first { !SessionResult.control.contains($0.rawValue) }?.rawValue
    }

    /// (A list: six short strings compare faster than they hash.)
    static let control = ["greeting", "goodbye", "thanks", "affirm", "deny", "cancel"]

    /// Appends the `sessions_detail` entry (CONTRACT.md section 6, plus language, channel and
    /// turns), written by hand: there is one per session, and
    /// building a JSON tree for each cost more than replaying a short session.
    func writeDetail(to out: inout [UInt8]) {
        // Each key with the punctuation around it, appended at once.
        func key(_ k: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount)) }
        func strings<S: Sequence>(_ items: S) where S.Element == String {
            out.append(0x5B)
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(0x2C) }
                JSONValue.writeString(item, to: &out)
            }
            out.append(0x5D)
        }
        func string(_ value: String?) {
            if let value { JSONValue.writeString(value, to: &out) } else { out += "null".utf8 }
        }
        key(#"{"session":"#); JSONValue.writeString(id, to: &out)
        key(#","outcome":"#); JSONValue.writeString(outcome.rawValue, to: &out)
        key(#","handoff_reasons":"#); strings(handoffReasons)
        key(#","intents":"#); strings(intents.lazy.map(\.rawValue))
        key(#","recorded_outcome":"#); string(recordedOutcome)
        // `cues`, member by member.
        key(#","cues":{"frustration":"#)
        out += JSONValue.format((frustration * 1000).rounded() / 1000).utf8
        out += (frustrated ? #","frustrated":true"# : #","frustrated":false"#).utf8
        out += (elderly ? #","elderly":true,"dialect":"# : #","elderly":false,"dialect":"#).utf8
        string(dialect)
        out.append(0x7D)
        key(#","language":"#); JSONValue.writeString(language, to: &out)
        key(#","channel":"#); string(channel)
        key(#","turns":"#); out += String(turns.count).utf8
        out.append(0x7D)
    }
}

/// Re-runs recorded conversations through a rule set (CONTRACT.md section 6): each session's
/// customer turns, in a fresh session against a fresh in-memory copy of the demo data (never the
/// production queue), identified as the `customer` its events record. Not shared between
/// threads: each replaying thread has its own.
public final class Replay {
    public let ruleSet: RuleSet
    let engine: DialogueEngine
    let classifier: Classifier
    let seed: InMemoryOperatorData
    let now: Date
    /// One conversation, store and queue, started over for each session: a session replays
    /// against a fresh copy of the demo data and an empty queue, without allocating either anew.
    private let conversation: Conversation
    private let store = InMemoryOperatorData()
    private let queue = InMemoryHandoffQueue()
    private var accounts: [String: String?] = [:]
    /// A message's classification depends only on its text and whether a PIN is expected, and a
    /// log says 查话费 and 转人工 thousands of times: each replaying thread keeps the last
    /// `rememberedMessages` classifications. Off, every message is classified anew (the
    /// report is the same).
    public var remembersMessages = true {
        didSet { classifier.rememberLimit = remembersMessages ? Self.rememberedMessages : 0 }
    }
    static let rememberedMessages = 50_000
    /// Messages whose classification came from memory.
    public var classifiedFromMemory: Int { classifier.rememberedHits }

    /// `now` is the instant every replayed session runs at (and the demo data is dated from).
    public init(ruleSet: RuleSet, now: Date) {
        self.ruleSet = ruleSet
        self.engine = DialogueEngine(rules: ruleSet, quiet: true)
        self.classifier = Classifier(ruleSet)
        classifier.rememberLimit = Self.rememberedMessages
        self.seed = InMemoryOperatorData(ruleSet: ruleSet, now: now)
        self.now = now
        conversation = Conversation(id: "", engine: engine, classifier: classifier, store: store, queue: queue, clock: { now })
        conversation.recordsTranscript = false
    }

    /// The demo account a recorded (possibly masked) customer number stands for: the visible
    /// digits must agree and match exactly one account.
    public func account(for recorded: String?) -> String? {
        guard let recorded else { return nil }
        if let known = accounts[recorded] { return known }
        let candidates = ruleSet.demoAccounts.map(\.account.phone).filter { phone in
            phone.count == recorded.count && zip(phone, recorded).allSatisfy { $1 == "*" || $0 == $1 }
        }
        let found = candidates.count == 1 ? candidates[0] : nil
        if accounts.count < 10_000 { accounts[recorded] = .some(found) }
        return found
    }

    public func run(_ recorded: RecordedSession) -> SessionResult {
        replay(recorded, account: account(for: recorded.customer))
    }

    private func replay(_ recorded: RecordedSession, account: String?) -> SessionResult {
        store.reset(to: seed)
        queue.removeAll()
        conversation.restart(id: recorded.id, customer: account, channel: recorded.channel ?? "replay")
        _ = conversation.open()
        var fallbacks: [String] = []
        var complaints: [String] = []
        for text in recorded.turns {
            // A complaint's words: the message that filed it, and the answer to "what happened?".
            var describing = false
            if let flow = conversation.session.flow, flow.intent == "complaint.file", case .slot(let name) = flow.awaiting {
                describing = name.rawValue == "complaint"
            }
            let result = conversation.receive(text)
            if conversation.session.failedTurns.last == conversation.session.turns && result.classification != nil { fallbacks.append(text) }
            if describing || result.classification?.intent == "complaint.file" { complaints.append(text) }
            if result.handedOff || result.ended { break }
        }
        _ = conversation.close()
        // Read member by member where it lies: a copy of the whole session (or a blank one made
        // to take its place) cost more than the members read.
        return SessionResult(
            id: recorded.id, index: recorded.index, outcome: conversation.session.outcome,
            handoffReasons: conversation.session.handoffReasons, intents: conversation.session.intents,
            recordedOutcome: recorded.recordedOutcome, fallbackTexts: fallbacks, complaintTexts: complaints,
            language: conversation.session.language.rawValue, dialect: conversation.session.dialect?.rawValue,
            elderly: conversation.session.elderly, frustrated: conversation.session.frustrated,
            frustration: conversation.session.frustration, channel: recorded.channel, customer: recorded.customer,
            start: recorded.start, end: recorded.end, turns: recorded.turns)
    }
}
