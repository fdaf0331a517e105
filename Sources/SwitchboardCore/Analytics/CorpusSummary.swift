/// What a generated corpus holds: the figures `switchboard corpus` prints, the README quotes and
/// the tests check. Counts are of sessions unless they say otherwise.
public struct CorpusSummary: Sendable, Equatable {
    /// Sessions written (each with its end event).
    public var sessions = 0
    /// Customer messages, over all sessions.
    public var customerTurns = 0
    /// `resolved`, `handoff`, `abandoned` (CONTRACT.md section 3), as the end events record them.
    public var outcomes: [String: Int] = [:]
    /// Sessions per handoff reason.
    public var handoffReasons: [String: Int] = [:]
    /// How the customers wrote: `mandarin`, `english`, or a dialect id.
    public var voices: [String: Int] = [:]
    /// The dialect the bot detected (`dialect` of the end event's cues).
    public var dialectsDetected: [String: Int] = [:]
    /// Sessions per channel (`app`, `web`, `wechat`, `chat`).
    public var channels: [String: Int] = [:]
    /// Sessions in which each intent was understood at least once.
    public var intents: [String: Int] = [:]
    /// Sessions whose channel identified the customer (`customer` on the start event).
    public var identified = 0
    /// Sessions the bot saw as an elderly customer's.
    public var elderly = 0
    /// Sessions in which the customer was frustrated at some turn.
    public var frustrated = 0
    /// Customers back with the same request, within 24 hours of their first visit and after.
    public var repeatsWithinADay = 0
    public var repeatsLater = 0
    /// Sessions ended by the server's idle goodbye (the customer went silent).
    public var idleEndings = 0

    /// Nothing counted yet.
    public init() {}

    /// One line for a terminal.
    public var line: String {
        let outcomes = ["resolved", "handoff", "abandoned"].map { "\($0) \(self.outcomes[$0] ?? 0)" }.joined(
            separator: ", ")
        return "\(sessions) sessions, \(customerTurns) customer turns; \(outcomes); "
            + "\(identified) identified, \(repeatsWithinADay + repeatsLater) repeat contacts "
            + "(\(repeatsWithinADay) within 24 h)"
    }

    /// Everything, as one JSON object (keys sorted).
    public var json: JSONValue {
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(d.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
        }
        return .object([
            ("sessions", .int(sessions)), ("customer_turns", .int(customerTurns)), ("outcomes", counts(outcomes)),
            ("handoff_reasons", counts(handoffReasons)), ("voices", counts(voices)),
            ("dialects_detected", counts(dialectsDetected)),
            ("channels", counts(channels)), ("intents", counts(intents)), ("identified", .int(identified)),
            ("elderly", .int(elderly)), ("frustrated", .int(frustrated)),
            ("repeats_within_a_day", .int(repeatsWithinADay)),
            ("repeats_later", .int(repeatsLater)), ("idle_endings", .int(idleEndings)),
        ])
    }
}
