/// A canonical intent id such as `billing.balance` (CONTRACT.md section 2).
public struct IntentID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: IntentID, rhs: IntentID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The answer when nothing in the rule set is confident enough.
    public static let outOfScope: IntentID = "out_of_scope"

    /// The intents every rule set must define (CONTRACT.md section 2).
    public static let canonical: [IntentID] = [
        "billing.balance", "billing.statement", "billing.dispute", "billing.payment", "billing.invoice",
        "plan.current", "plan.change", "plan.recommend", "usage.data", "addon.subscribe",
        "addon.unsubscribe", "fault.report", "fault.status", "complaint.file", "account.cancel",
        "privacy.concern", "human.request", "greeting", "goodbye", "thanks", "affirm", "deny", "cancel", "help",
    ]
}

/// The name of a slot such as `fault_type`.
public struct SlotName: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: SlotName, rhs: SlotName) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let phone: SlotName = "phone"
    public static let pin: SlotName = "pin"
    public static let amount: SlotName = "amount"
    public static let month: SlotName = "month"
    public static let relativeMonth: SlotName = "relative_month"
    public static let plan: SlotName = "plan"
    public static let addon: SlotName = "addon"
    public static let faultType: SlotName = "fault_type"
    public static let ticket: SlotName = "ticket"
    public static let age: SlotName = "age"
}

/// The id of a dialect lexicon such as `yue`.
public struct DialectID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: DialectID, rhs: DialectID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The language the bot answers in.
public enum Language: String, Sendable, CaseIterable {
    case zh
    case en
}
