import Foundation

/// The demo data in memory: what replay and the conversation tests run against, so a rule change
/// can be tried without touching anyone's database. Not thread-safe: one per session or per run.
public final class InMemoryOperatorData: OperatorData {
    private var accounts: [String: CustomerAccount] = [:]
    private var pins: [String: String] = [:]
    private var billsByPhone: [String: [Bill]] = [:]
    private var usageByPhone: [String: [UsageMonth]] = [:]
    private var ticketsByPhone: [String: [Ticket]] = [:]
    private var ticketSequence = 0

    /// Seeds the demo accounts of the rule set, with bills and usage dated relative to `now`.
    public init(ruleSet: RuleSet, now: Date) {
        for demo in ruleSet.demoAccounts {
            let phone = demo.account.phone
            accounts[phone] = demo.account
            pins[phone] = demo.pin
            billsByPhone[phone] = demo.bills(now: now, plans: ruleSet.plans, addons: ruleSet.addons)
            usageByPhone[phone] = demo.usageMonths(now: now)
            ticketsByPhone[phone] = demo.openTickets(now: now)
        }
    }

    /// An empty store, until `reset(to:)` fills it.
    public init() {}

    /// Back to `seed`'s data: a copy to change on its own, which shares storage with `seed` until
    /// it is written to (replay reuses one store for the sessions it runs one after another;
    /// seeding the demo data anew would cost more than a replayed session's turns).
    public func reset(to seed: InMemoryOperatorData) {
        accounts = seed.accounts
        pins = seed.pins
        billsByPhone = seed.billsByPhone
        usageByPhone = seed.usageByPhone
        ticketsByPhone = seed.ticketsByPhone
        ticketSequence = seed.ticketSequence
    }

    public func account(phone: String) -> CustomerAccount? { accounts[phone] }

    public func verify(phone: String, pin: String) -> Bool {
        guard let expected = pins[phone] else { return false }
        return expected.utf8.elementsEqual(pin.utf8)
    }

    public func bills(phone: String) -> [Bill] { billsByPhone[phone] ?? [] }

    public func usageHistory(phone: String) -> [UsageMonth] { usageByPhone[phone] ?? [] }

    public func tickets(phone: String) -> [Ticket] { ticketsByPhone[phone] ?? [] }

    public func createTicket(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket {
        guard accounts[draft.phone] != nil else { throw OperatorDataError("no account \(Masking.mask(draft.phone))") }
        ticketSequence += 1
        let ticket = Ticket(id: Self.ticketID(draft.kind, at: time, sequence: ticketSequence), kind: draft.kind,
                            phone: draft.phone, createdAt: time, dueAt: draft.dueAt, summary: draft.summary,
                            owner: draft.owner, faultType: draft.faultType, place: draft.place, isRepeat: draft.isRepeat)
        ticketsByPhone[draft.phone, default: []].insert(ticket, at: 0)
        return ticket
    }

    public func schedulePlanChange(phone: String, to code: String) throws(OperatorDataError) {
        guard accounts[phone] != nil else { throw OperatorDataError("no account \(Masking.mask(phone))") }
        accounts[phone]?.pendingPlanCode = code
    }

    public func setAddon(phone: String, code: String, active: Bool) throws(OperatorDataError) {
        guard var account = accounts[phone] else { throw OperatorDataError("no account \(Masking.mask(phone))") }
        account.addons.removeAll { $0 == code }
        if active { account.addons.append(code) }
        accounts[phone] = account
    }

    /// `RP` + the date (UTC+8) + a sequence number: RP20261129001. Both stores use this shape.
    public static func ticketID(_ kind: TicketKind, at time: Date, sequence: Int) -> String {
        let digits = String(sequence % 1000)
        return kind.prefix + CivilDate(time, offset: 8 * 3600).compact + String(repeating: "0", count: 3 - digits.count) + digits
    }
}
