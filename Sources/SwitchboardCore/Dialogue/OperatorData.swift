import Foundation

/// Money in fen (cents), so bills add up exactly.
public typealias Cents = Int

/// A customer account as the flows see it. The PIN never leaves the store: `OperatorData.verify`
/// checks it.
public struct CustomerAccount: Sendable, Equatable {
    public var phone: String
    public var name: String
    public var language: Language
    public var age: Int
    public var planCode: String
    /// A plan change waiting for the next billing cycle.
    public var pendingPlanCode: String?
    /// Negative when the account is in arrears.
    public var balance: Cents
    /// Active add-on codes.
    public var addons: [String]
    /// Data and minutes used so far this cycle.
    public var dataUsedGB: Double
    public var voiceUsedMinutes: Int

    public init(phone: String, name: String, language: Language, age: Int, planCode: String,
                pendingPlanCode: String? = nil, balance: Cents, addons: [String], dataUsedGB: Double,
                voiceUsedMinutes: Int)
    {
        self.phone = phone
        self.name = name
        self.language = language
        self.age = age
        self.planCode = planCode
        self.pendingPlanCode = pendingPlanCode
        self.balance = balance
        self.addons = addons
        self.dataUsedGB = dataUsedGB
        self.voiceUsedMinutes = voiceUsedMinutes
    }
}

/// What a bill line charges for.
public enum BillLineKind: String, Sendable, Equatable, CaseIterable {
    case plan, addon, usage, roaming, adjustment
}

/// One line of a monthly bill, with the tariff rule that produced it.
public struct BillLine: Sendable, Equatable {
    public var kind: BillLineKind
    /// The plan or add-on code, when the line is for one.
    public var code: String?
    public var item: [Language: String]
    public var amount: Cents
    /// The tariff rule behind the charge, said when a customer asks why.
    public var rule: [Language: String]
    /// False for a value-added service the customer never ordered.
    public var ordered: Bool

    public init(kind: BillLineKind, code: String?, item: [Language: String], amount: Cents,
                rule: [Language: String], ordered: Bool = true)
    {
        self.kind = kind
        self.code = code
        self.item = item
        self.amount = amount
        self.rule = rule
        self.ordered = ordered
    }
}

/// One month's bill.
public struct Bill: Sendable, Equatable {
    /// `YYYY-MM`.
    public var month: String
    public var lines: [BillLine]
    public var paid: Bool
    public var total: Cents { lines.reduce(0) { $0 + $1.amount } }

    public init(month: String, lines: [BillLine], paid: Bool) {
        self.month = month
        self.lines = lines
        self.paid = paid
    }
}

/// Data and minutes used in one past month.
public struct UsageMonth: Sendable, Equatable {
    public var month: String
    public var dataGB: Double
    public var voiceMinutes: Int

    public init(month: String, dataGB: Double, voiceMinutes: Int) {
        self.month = month
        self.dataGB = dataGB
        self.voiceMinutes = voiceMinutes
    }
}

/// What a ticket is for.
public enum TicketKind: String, Sendable, Equatable, CaseIterable {
    case repair, complaint, dispute, refund, invoice

    /// The id prefix (`ticket_prefixes` in entities.yaml lists them for the slot scanner).
    public var prefix: String {
        switch self {
        case .repair: "RP"
        case .complaint: "CP"
        case .dispute: "DS"
        case .refund: "RF"
        case .invoice: "IV"
        }
    }
}

/// A repair, complaint, dispute, refund or invoice ticket.
public struct Ticket: Sendable, Equatable {
    public var id: String
    public var kind: TicketKind
    public var phone: String
    public var status: String
    public var createdAt: Date
    public var dueAt: Date
    public var summary: String
    public var owner: String
    public var faultType: String?
    public var place: String?
    /// A complaint from a customer who complained within the repeat window before.
    public var isRepeat: Bool

    public init(id: String, kind: TicketKind, phone: String, status: String = "open", createdAt: Date, dueAt: Date,
                summary: String, owner: String, faultType: String? = nil, place: String? = nil, isRepeat: Bool = false)
    {
        self.id = id
        self.kind = kind
        self.phone = phone
        self.status = status
        self.createdAt = createdAt
        self.dueAt = dueAt
        self.summary = summary
        self.owner = owner
        self.faultType = faultType
        self.place = place
        self.isRepeat = isRepeat
    }
}

/// A ticket to be created; the store gives it an id.
public struct TicketDraft: Sendable, Equatable {
    public var kind: TicketKind
    public var phone: String
    public var summary: String
    public var owner: String
    public var dueAt: Date
    public var faultType: String?
    public var place: String?
    public var isRepeat: Bool

    public init(kind: TicketKind, phone: String, summary: String, owner: String, dueAt: Date, faultType: String? = nil,
                place: String? = nil, isRepeat: Bool = false)
    {
        self.kind = kind
        self.phone = phone
        self.summary = summary
        self.owner = owner
        self.dueAt = dueAt
        self.faultType = faultType
        self.place = place
        self.isRepeat = isRepeat
    }
}

/// A store failure the customer must not see; the engine answers politely and logs the detail.
public struct OperatorDataError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The operator's account data the dialogue reads and changes: SQLite in production
/// (`SwitchboardStore`), an in-memory copy of the demo data for replay and tests.
public protocol OperatorData: AnyObject {
    func account(phone: String) -> CustomerAccount?
    /// Whether `pin` is the account's service PIN (constant time in the SQLite store).
    func verify(phone: String, pin: String) -> Bool
    /// The last bills, newest first.
    func bills(phone: String) -> [Bill]
    /// Past months' usage, newest first.
    func usageHistory(phone: String) -> [UsageMonth]
    /// Every ticket of the customer, newest first.
    func tickets(phone: String) -> [Ticket]
    func createTicket(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket
    /// Schedules a plan change for the next billing cycle.
    func schedulePlanChange(phone: String, to code: String) throws(OperatorDataError)
    /// Starts or stops an add-on.
    func setAddon(phone: String, code: String, active: Bool) throws(OperatorDataError)
}
