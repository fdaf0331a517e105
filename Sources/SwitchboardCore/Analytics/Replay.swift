import Foundation

/// Re-runs recorded conversations through the current rules (CONTRACT.md section 6): each
/// session's customer turns, in a fresh session against a fresh in-memory copy of the demo data,
/// so an analyst sees what a rule change would do before it ships.
public struct Replay {
    /// One recorded session, gathered from transcript lines.
    public struct RecordedSession {
        public var id: String
        public var customer: String?
        public var channel: String?
        public var turns: [String] = []
        public var recordedOutcome: String?
    }

    /// One replayed session's result.
    public struct SessionResult {
        public var id: String
        public var outcome: Session.Outcome
        public var handoffReasons: [String]
        public var intents: [IntentID]
        public var recordedOutcome: String?
        public var fallbackTurns: Int
        public var cues: JSONValue
    }

    public let ruleSet: RuleSet
    let engine: DialogueEngine
    let classifier: Classifier

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        self.engine = DialogueEngine(rules: ruleSet)
        self.classifier = Classifier(ruleSet)
    }

    /// Sessions in order of first appearance; malformed lines are counted, never fatal.
    public static func sessions(fromLines lines: some Sequence<Substring>, skipped: inout Int) -> [RecordedSession] {
        var order: [String] = []
        var byID: [String: RecordedSession] = [:]
        for line in lines {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let session = object["session"] as? String, let role = object["role"] as? String
            else {
                skipped += 1
                continue
            }
            if byID[session] == nil {
                order.append(session)
                byID[session] = RecordedSession(id: session)
            }
            if let customer = object["customer"] as? String, byID[session]?.customer == nil { byID[session]?.customer = customer }
            if let channel = object["channel"] as? String { byID[session]?.channel = channel }
            switch role {
            case "customer":
                guard let text = object["text"] as? String else {
                    skipped += 1
                    continue
                }
                // Masked numbers and PINs (identity answers) carry nothing to replay: the session
                // is replayed as identified instead, from the `customer` its events record.
                if !text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) && text.contains("*") { continue }
                byID[session]?.turns.append(text)
            case "system":
                if object["event"] as? String == "end", let outcome = object["outcome"] as? String {
                    byID[session]?.recordedOutcome = outcome
                }
            default:
                break
            }
        }
        return order.compactMap { byID[$0] }
    }

    /// The demo account a recorded (possibly masked) customer number stands for: the visible
    /// digits must agree and match exactly one account.
    func account(for recorded: String?) -> String? {
        guard let recorded else { return nil }
        let candidates = ruleSet.demoAccounts.map(\.account.phone).filter { phone in
            phone.count == recorded.count && zip(phone, recorded).allSatisfy { $1 == "*" || $0 == $1 }
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    public func run(_ recorded: RecordedSession, now: Date) -> SessionResult {
        let store = InMemoryOperatorData(ruleSet: ruleSet, now: now)
        let conversation = Conversation(id: recorded.id, engine: engine, classifier: classifier, store: store,
                                        customer: account(for: recorded.customer), channel: recorded.channel ?? "replay",
                                        clock: { now })
        _ = conversation.open()
        var fallbacks = 0
        for text in recorded.turns {
            let result = conversation.receive(text)
            if conversation.session.lastTurnWasFallback && result.classification != nil { fallbacks += 1 }
            if result.handedOff || result.ended { break }
        }
        _ = conversation.close()
        let session = conversation.session
        return SessionResult(id: recorded.id, outcome: session.outcome, handoffReasons: session.handoffReasons,
                             intents: session.intents, recordedOutcome: recorded.recordedOutcome, fallbackTurns: fallbacks,
                             cues: TranscriptEvent.cues(session))
    }

    /// The report of CONTRACT.md section 6.
    public static func report(_ results: [SessionResult], turns: Int, skipped: Int) -> JSONValue {
        var outcomes: [Session.Outcome: Int] = [.resolved: 0, .handoff: 0, .abandoned: 0]
        var reasons: [String: Int] = [:]
        var intents: [String: Int] = [:]
        var changed = 0
        var fallbackTurns = 0
        for r in results {
            outcomes[r.outcome, default: 0] += 1
            for reason in r.handoffReasons { reasons[reason, default: 0] += 1 }
            for intent in r.intents { intents[intent.rawValue, default: 0] += 1 }
            if let recorded = r.recordedOutcome, recorded != r.outcome.rawValue { changed += 1 }
            fallbackTurns += r.fallbackTurns
        }
        let sessions = results.count
        let rate = sessions == 0 ? 0 : Double(outcomes[.resolved] ?? 0) / Double(sessions)
        return .object([
            ("sessions", .int(sessions)), ("turns", .int(turns)),
            ("outcomes", .object([("resolved", .int(outcomes[.resolved] ?? 0)), ("handoff", .int(outcomes[.handoff] ?? 0)),
                                  ("abandoned", .int(outcomes[.abandoned] ?? 0))])),
            ("deflection_rate", .double((rate * 10_000).rounded() / 10_000)),
            ("handoff_reasons", .object(reasons.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("intents", .object(intents.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("fallback_turns", .int(fallbackTurns)), ("changed", .int(changed)), ("skipped_lines", .int(skipped)),
            ("sessions_detail", .array(results.map { r in
                .object([
                    ("session", .string(r.id)), ("outcome", .string(r.outcome.rawValue)),
                    ("handoff_reasons", .array(r.handoffReasons.map { .string($0) })),
                    ("intents", .array(r.intents.map { .string($0.rawValue) })),
                    ("recorded_outcome", r.recordedOutcome.map { .string($0) } ?? .null), ("cues", r.cues),
                ])
            })),
        ])
    }
}
