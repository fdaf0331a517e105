import Foundation

/// The definitions every report echoes (docs/metrics.md, version 1). A change of meaning gets a
/// new version, so figures from different versions are never compared unknowingly.
public enum MetricDefinitions {
    public static let version = "1"
    public static let all: [(String, String)] = [
        ("version", version),
        ("resolved", "no handoff, at least one message understood, and the last customer turn was neither a fallback nor left inside an unfinished flow"),
        ("handoff", "handed to a person at any point in the session"),
        ("abandoned", "neither resolved nor handed off: the customer left on a fallback, in the middle of a flow, or without a message the bot understood"),
        ("deflection_rate", "resolved / sessions"),
        ("contained", "resolved, and the same customer did not come back within 24 hours (end of this session to start of the next) with the same first intent; counted over sessions whose log carries a customer and timestamps"),
        ("first_intent", "the session's first intent other than greeting, thanks, goodbye, affirm, deny or cancel ('none' if there was none)"),
        ("fallback_turn", "a customer turn the bot answered with a fallback (did not understand or could not place)"),
    ]
    public static var json: JSONValue { .object(all.map { ($0.0, .string($0.1)) }) }
}

/// Sessions by outcome, for the whole run or one segment.
public struct OutcomeCounts: Sendable, Equatable {
    public var sessions = 0
    public var resolved = 0
    public var handoff = 0
    public var abandoned = 0

    public mutating func add(_ outcome: Session.Outcome) {
        sessions += 1
        switch outcome {
        case .resolved: resolved += 1
        case .handoff: handoff += 1
        case .abandoned: abandoned += 1
        }
    }

    public mutating func merge(_ other: OutcomeCounts) {
        sessions += other.sessions
        resolved += other.resolved
        handoff += other.handoff
        abandoned += other.abandoned
    }

    public var deflectionRate: Double { Self.rate(resolved, sessions) }

    static func rate(_ part: Int, _ whole: Int) -> Double {
        whole == 0 ? 0 : (Double(part) / Double(whole) * 10_000).rounded() / 10_000
    }

    public var json: JSONValue {
        .object([("sessions", .int(sessions)), ("resolved", .int(resolved)), ("handoff", .int(handoff)),
                 ("abandoned", .int(abandoned)), ("deflection_rate", .double(deflectionRate))])
    }
}

/// Repeat contacts: a resolved session is not contained when the same customer comes back
/// within 24 hours with the same first intent. Holds only the sessions of the last two days of
/// log time, so memory follows the traffic of a window, not the file.
struct RepeatContacts {
    struct Entry {
        var start: Double
        var end: Double
        var intent: String?
        var resolved: Bool
        var repeated = false
    }

    static let window = 24.0 * 3600
    static let perCustomer = 16
    private var byCustomer: [String: [Entry]] = [:]
    private var latest = -Double.infinity
    private var added = 0
    private(set) var identified = 0
    private(set) var contained = 0
    private(set) var repeated = 0
    private(set) var resolvedThenRepeated = 0

    /// A session of an identified customer, with log times.
    struct Visit {
        var customer: String
        var start: Double
        var end: Double
        var intent: String?
        var resolved: Bool

        init?(_ r: borrowing SessionResult) {
            guard let customer = r.customer, let start = r.start else { return nil }
            self.customer = customer
            self.start = start
            self.end = r.end ?? start
            self.intent = r.firstIntent
            self.resolved = r.outcome == .resolved
        }
    }

    mutating func add(_ visit: Visit) {
        // The customer's entries are changed in place: one lookup, and no copy of them.
        let entry = Entry(start: visit.start, end: visit.end, intent: visit.intent, resolved: visit.resolved)
        let dropped = Self.insert(entry, into: &byCustomer[visit.customer, default: []])
        dropped.forEach { count($0) }
        latest = max(latest, visit.end)
        added += 1
        if added % 8192 == 0 { evict(before: latest - 2 * Self.window) }
    }

    /// Marks the repeats between a new session and the customer's earlier ones and adds it;
    /// returns the oldest entries beyond `perCustomer`, taken out to be counted now (a customer
    /// with dozens of sessions in two days, a test account or a shared number, cannot make this
    /// quadratic).
    private static func insert(_ new: Entry, into entries: inout [Entry]) -> [Entry] {
        var entry = new
        for k in entries.indices where entry.intent != nil && entries[k].intent == entry.intent {
            if entries[k].start <= entry.start {
                if entry.start >= entries[k].end - 1, entry.start - entries[k].end <= window { entries[k].repeated = true }
            } else if entries[k].start >= entry.end - 1, entries[k].start - entry.end <= window {
                entry.repeated = true
            }
        }
        entries.append(entry)
        guard entries.count > perCustomer else { return [] }
        let oldest = Array(entries.prefix(entries.count - perCustomer))
        entries.removeFirst(entries.count - perCustomer)
        return oldest
    }

    /// Counts the sessions that can no longer be followed by a repeat, and forgets them.
    mutating func evict(before limit: Double) {
        for (customer, entries) in byCustomer {
            let (old, keep) = (entries.filter { $0.end < limit }, entries.filter { $0.end >= limit })
            guard !old.isEmpty else { continue }
            old.forEach { count($0) }
            byCustomer[customer] = keep.isEmpty ? nil : keep
        }
    }

    mutating func finish() { evict(before: .infinity) }

    private mutating func count(_ e: Entry) {
        identified += 1
        if e.repeated { repeated += 1 }
        if e.resolved && !e.repeated { contained += 1 }
        if e.resolved && e.repeated { resolvedThenRepeated += 1 }
    }
}

/// A temporary file for the long lists of a report (every session's detail, every changed
/// session): the report is written at the end, and these lists must not be held in memory.
final class Spill {
    private let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var count = 0

    init(_ name: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-replay-\(getpid())-\(UUID().uuidString)-\(name)").path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forUpdatingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    func append(_ value: JSONValue) {
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        append(bytes: bytes)
    }

    /// One item already written as JSON.
    func append(bytes: [UInt8]) { append(items: bytes, count: 1) }

    /// `count` items already written as JSON, comma-separated.
    func append(items: [UInt8], count added: Int) {
        guard added > 0 else { return }
        if count > 0 { buffer.append(0x2C) }
        buffer += items
        count += added
        if buffer.count >= 1 << 16 { flush() }
    }

    private func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    /// The items, comma-separated, in blocks.
    func copy(_ sink: (Data) -> Void) {
        flush()
        try? handle.seek(toOffset: 0)
        while let block = try? handle.read(upToCount: 1 << 20), !block.isEmpty { sink(block) }
        _ = try? handle.seekToEnd()
    }
}

/// Before/after for the same sessions: recorded outcomes against the current rules (`compare`),
/// or one rule set against another (`what_if`).
final class Comparison {
    var before = OutcomeCounts()
    var after = OutcomeCounts()
    var transitions: [String: Int] = [:]
    let changed: Spill
    /// The first changed sessions, kept for the HTML page.
    var firstChanged: [JSONValue] = []

    init(_ name: String) throws { changed = try Spill(name) }

    func add(_ session: SessionResult, before: String, beforeReasons: [String]?, beforeIntents: [IntentID]?, after: SessionResult) {
        self.before.add(Session.Outcome(rawValue: before) ?? .abandoned)
        self.after.add(after.outcome)
        guard before != after.outcome.rawValue else { return }
        transitions["\(before)→\(after.outcome.rawValue)", default: 0] += 1
        var fields: [(String, JSONValue)] = [
            ("session", .string(session.id)), ("turns", .array(session.turns.map { .string($0) })),
            ("before", .string(before)), ("after", .string(after.outcome.rawValue)),
        ]
        if let beforeReasons { fields.append(("before_reasons", .array(beforeReasons.map { .string($0) }))) }
        fields.append(("after_reasons", .array(after.handoffReasons.map { .string($0) })))
        if let beforeIntents { fields.append(("before_intents", .array(beforeIntents.map { .string($0.rawValue) }))) }
        fields.append(("after_intents", .array(after.intents.map { .string($0.rawValue) })))
        let entry = JSONValue.object(fields)
        changed.append(entry)
        if firstChanged.count < 200 { firstChanged.append(entry) }
    }

    func head(_ extra: [(String, JSONValue)]) -> [(String, ReportPiece)] {
        extra.map { ($0.0, .value($0.1)) } + [
            ("sessions", .value(.int(before.sessions))),
            ("before", .value(before.json)), ("after", .value(after.json)),
            ("changed", .value(.int(changed.count))),
            ("transitions", .value(.object(transitions.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))),
            ("changed_sessions", .spill(changed)),
        ]
    }
}

/// A part of the written report: a value, a spilled list, or an object of parts.
enum ReportPiece {
    case value(JSONValue)
    case spill(Spill)
    case object([(String, ReportPiece)])

    func write(_ sink: (Data) -> Void) {
        switch self {
        case .value(let v): sink(Data(v.serialized().utf8))
        case .spill(let spill):
            sink(Data("[".utf8))
            spill.copy(sink)
            sink(Data("]".utf8))
        case .object(let members):
            sink(Data("{".utf8))
            for (k, (key, piece)) in members.enumerated() {
                sink(Data(((k > 0 ? "," : "") + JSONValue.string(key).serialized() + ":").utf8))
                piece.write(sink)
            }
            sink(Data("}".utf8))
        }
    }

    /// The same, held in memory, with spilled lists left out (for the HTML page).
    var inMemory: JSONValue? {
        switch self {
        case .value(let v): v
        case .spill: nil
        case .object(let members): .object(members.compactMap { k, p in p.inMemory.map { (k, $0) } })
        }
    }
}

/// Everything a replay report counts, added to one session at a time in input order.
public final class ReplayTally {
    /// What does not depend on the order of sessions: counted by the replaying threads, batch by
    /// batch, and merged here.
    public private(set) var counts = Counts()
    public var outcomes: OutcomeCounts { counts.outcomes }
    public var turns: Int { counts.turns }
    public var fallbackTurns: Int { counts.fallbackTurns }
    /// Sessions whose replayed outcome differs from their recorded `end` outcome.
    public var changed: Int { counts.changed }
    var repeats = RepeatContacts()
    let details: Spill
    let compare: Comparison?
    let whatIf: Comparison?
    let rulesNames: (base: String, other: String)?

    public static let segmentKinds = ["language", "dialect", "elderly", "channel", "first_intent", "handoff_reason"]

    public init(compare: Bool, whatIf rulesNames: (base: String, other: String)?) throws {
        details = try Spill("detail")
        self.compare = compare ? try Comparison("compare") : nil
        self.whatIf = rulesNames == nil ? nil : try Comparison("whatif")
        self.rulesNames = rulesNames
    }

    /// Counts that do not depend on the order sessions come in; `merge` adds one batch's.
    public struct Counts: Sendable {
        public var outcomes = OutcomeCounts()
        public var turns = 0
        public var fallbackTurns = 0
        public var changed = 0
        var reasons: [String: Int] = [:]
        var intents: [String: Int] = [:]
        /// Per kind of segment, in the order of `segmentKinds`: outcomes by value.
        var segments = [[String: OutcomeCounts]](repeating: [:], count: ReplayTally.segmentKinds.count)
        var fallbacks = TextClusterer()
        var complaints = TextClusterer()

        public init() {}

        public mutating func add(_ r: borrowing SessionResult) {
            outcomes.add(r.outcome)
            turns += r.turns.count
            fallbackTurns += r.fallbackTurns
            for reason in r.handoffReasons { reasons[reason, default: 0] += 1 }
            for intent in r.intents { intents[intent.rawValue, default: 0] += 1 }
            if let recorded = r.recordedOutcome, recorded != r.outcome.rawValue { changed += 1 }
            // In the order of `segmentKinds`.
            segment(0, r.language, r.outcome)
            segment(1, r.dialect ?? "none", r.outcome)
            segment(2, r.elderly ? "true" : "false", r.outcome)
            segment(3, r.channel ?? "unknown", r.outcome)
            segment(4, r.firstIntent ?? "none", r.outcome)
            for (k, reason) in r.handoffReasons.enumerated() where !r.handoffReasons[..<k].contains(reason) {
                segment(5, reason, r.outcome)
            }
            for text in r.fallbackTexts { fallbacks.add(text) }
            for text in r.complaintTexts { complaints.add(text) }
        }

        private mutating func segment(_ kind: Int, _ value: String, _ outcome: Session.Outcome) {
            segments[kind][value, default: OutcomeCounts()].add(outcome)
        }

        public mutating func merge(_ other: Counts) {
            outcomes.merge(other.outcomes)
            turns += other.turns
            fallbackTurns += other.fallbackTurns
            changed += other.changed
            reasons.merge(other.reasons, uniquingKeysWith: +)
            intents.merge(other.intents, uniquingKeysWith: +)
            for (kind, values) in other.segments.enumerated() {
                segments[kind].merge(values) { a, b in
                    var sum = a
                    sum.merge(b)
                    return sum
                }
            }
            fallbacks.merge(other.fallbacks)
            complaints.merge(other.complaints)
        }
    }

    /// One session, counted here (tests, small runs), as a batch of one.
    public func add(_ r: SessionResult, other: SessionResult? = nil) {
        var batch = Batch(keepsResults: keepsResults, capacity: 1)
        batch.add(r, other: other)
        add(batch)
    }

    /// Whether a batch must bring its sessions' results back in order: only the before/after
    /// lists of `--compare` and `--rules` read them there.
    var keepsResults: Bool { compare != nil || whatIf != nil }

    /// What a replaying thread makes of a batch of results: the counts that do not depend on
    /// order, the detail entries (comma-separated), the identified sessions for repeat contacts,
    /// and the results themselves only when `keepsResults`. The rest is let go on that thread.
    struct Batch: @unchecked Sendable {
        var count = 0
        var counts = Counts()
        var details: [UInt8] = []
        var visits: [RepeatContacts.Visit] = []
        /// Each session's result under the rules replayed, and under the other rule set (what-if).
        var base: [SessionResult] = []
        var other: [SessionResult] = []
        let keepsResults: Bool

        init(keepsResults: Bool, capacity: Int) {
            self.keepsResults = keepsResults
            details.reserveCapacity(capacity * 256)
        }

        /// Adds a session's result as it is made (and, for what-if, its result under the other
        /// rules). Taken whole, so nothing reads it from an array: reading an element for each
        /// use copied it, a dozen retains and releases each time.
        mutating func add(_ r: consuming SessionResult, other o: consuming SessionResult? = nil) {
            counts.add(r)
            if count > 0 { details.append(0x2C) }
            r.writeDetail(to: &details)
            if let visit = RepeatContacts.Visit(r) { visits.append(visit) }
            count += 1
            guard keepsResults else { return }
            base.append(r)
            if let o { other.append(o) }
        }
    }

    /// A batch counted on a replaying thread, then its sessions' order-dependent parts.
    func add(_ batch: Batch) {
        counts.merge(batch.counts)
        details.append(items: batch.details, count: batch.count)
        for visit in batch.visits { repeats.add(visit) }
        guard keepsResults else { return }
        for (k, r) in batch.base.enumerated() { compare(r, other: k < batch.other.count ? batch.other[k] : nil) }
    }

    /// The before/after lists: recorded outcomes (`--compare`) and the other rule set (`--rules`).
    private func compare(_ r: SessionResult, other: SessionResult?) {
        if let compare, let recorded = r.recordedOutcome {
            compare.add(r, before: recorded, beforeReasons: nil, beforeIntents: nil, after: r)
        }
        if let whatIf, let other {
            whatIf.add(r, before: r.outcome.rawValue, beforeReasons: r.handoffReasons, beforeIntents: r.intents, after: other)
        }
    }

    /// Input problems the reader counted, reported with the figures.
    public struct InputCounts: Sendable {
        public var skippedLines = 0
        public var lateLines = 0
        public var maskedLines = 0
        public var unreadableFiles: [String] = []
        public var peakOpenSessions = 0
        public init() {}
    }

    /// The report (CONTRACT.md section 6, and more), as parts: lists of every session stay on disk.
    func pieces(_ input: InputCounts, clusterLimit: Int) -> ReportPiece {
        repeats.finish()
        var members: [(String, ReportPiece)] = [
            ("report_version", .value(.int(1))), ("definitions", .value(MetricDefinitions.json)),
            ("sessions", .value(.int(outcomes.sessions))), ("turns", .value(.int(turns))),
            ("outcomes", .value(.object([("resolved", .int(outcomes.resolved)), ("handoff", .int(outcomes.handoff)),
                                         ("abandoned", .int(outcomes.abandoned))]))),
            ("deflection_rate", .value(.double(outcomes.deflectionRate))),
            ("contained", .value(repeats.identified == 0 ? .null : .object([
                ("sessions", .int(repeats.contained)), ("rate", .double(OutcomeCounts.rate(repeats.contained, repeats.identified))),
                ("sessions_with_customer_and_time", .int(repeats.identified)), ("repeat_contacts", .int(repeats.repeated)),
                ("resolved_then_repeated", .int(repeats.resolvedThenRepeated)),
            ]))),
            ("handoff_reasons", .value(Self.sortedCounts(counts.reasons))), ("intents", .value(Self.sortedCounts(counts.intents))),
            ("fallback_turns", .value(.int(fallbackTurns))), ("changed", .value(.int(changed))),
            ("skipped_lines", .value(.int(input.skippedLines))), ("late_lines", .value(.int(input.lateLines))),
            ("masked_lines", .value(.int(input.maskedLines))),
            ("unreadable_files", .value(.array(input.unreadableFiles.map { .string($0) }))),
            ("segments", .value(.object(zip(Self.segmentKinds, counts.segments).map { kind, values in
                (kind, .object(values.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }))
            }))),
            ("fallback_clusters", .value(.array(counts.fallbacks.clusters(limit: clusterLimit).map(\.json)))),
            ("fallback_texts", .value(.object([("total", .int(counts.fallbacks.total)), ("not_clustered", .int(counts.fallbacks.overflow))]))),
            ("complaint_clusters", .value(.array(counts.complaints.clusters(limit: clusterLimit).map(\.json)))),
        ]
        if let compare {
            members.append(("compare", .object(compare.head([]))))
        }
        if let whatIf, let rulesNames {
            members.append(("what_if", .object(whatIf.head([("base_rules", .string(rulesNames.base)), ("other_rules", .string(rulesNames.other))]))))
        }
        members.append(("sessions_detail", .spill(details)))
        return .object(members)
    }

    static func sortedCounts(_ counts: [String: Int]) -> JSONValue {
        .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
    }
}
