import Foundation

/// One simulated customer's view of the demo data: reads go to a shared `InMemoryOperatorData`
/// (seeded once a day, never changed), and what the customer changes — a plan booked, an add-on
/// stopped, a ticket made — stays in this overlay. So a session costs a few dictionary entries,
/// not a fresh copy of every account's bills, and a customer who comes back sees their own
/// tickets (a repeat contact gets the same overlay). Ticket ids come from a counter shared by
/// the whole corpus, so they are unique across sessions as in a real store.
final class CorpusOperatorData: OperatorData {
    private let base: InMemoryOperatorData
    private let numbers: TicketNumbers
    private var changedAccounts: [String: CustomerAccount] = [:]
    /// Tickets made through this overlay, newest first.
    private var made: [Ticket] = []

    init(base: InMemoryOperatorData, numbers: TicketNumbers) {
        self.base = base
        self.numbers = numbers
    }

    func account(phone: String) -> CustomerAccount? { changedAccounts[phone] ?? base.account(phone: phone) }

    func verify(phone: String, pin: String) -> Bool { base.verify(phone: phone, pin: pin) }

    func bills(phone: String) -> [Bill] { base.bills(phone: phone) }

    func usageHistory(phone: String) -> [UsageMonth] { base.usageHistory(phone: phone) }

    func tickets(phone: String) -> [Ticket] { made.filter { $0.phone == phone } + base.tickets(phone: phone) }

    func createTicket(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket {
        guard account(phone: draft.phone) != nil else {
            throw OperatorDataError("no account \(Masking.mask(draft.phone))")
        }
        let ticket = Ticket(
            id: numbers.next(draft.kind, at: time), kind: draft.kind, phone: draft.phone, createdAt: time,
            dueAt: draft.dueAt, summary: draft.summary, owner: draft.owner, faultType: draft.faultType,
            place: draft.place, isRepeat: draft.isRepeat)
        made.insert(ticket, at: 0)
        return ticket
    }

    func schedulePlanChange(phone: String, to code: String) throws(OperatorDataError) {
        guard var account = account(phone: phone) else { throw OperatorDataError("no account \(Masking.mask(phone))") }
        account.pendingPlanCode = code
        changedAccounts[phone] = account
    }

    func setAddon(phone: String, code: String, active: Bool) throws(OperatorDataError) {
        guard var account = account(phone: phone) else { throw OperatorDataError("no account \(Masking.mask(phone))") }
        account.addons.removeAll { $0 == code }
        if active { account.addons.append(code) }
        changedAccounts[phone] = account
    }
}

/// Ticket numbers for the whole corpus: one sequence per kind and day (UTC+8), in the stores'
/// `RP20261101001` shape. Shared by every session's overlay, so a reference.
final class TicketNumbers {
    private var counts: [String: Int] = [:]

    func next(_ kind: TicketKind, at time: Date) -> String {
        let day = TranscriptEvent.timestamp(time.addingTimeInterval(8 * 3600)).prefix(10)
        let key = kind.prefix + day
        let n = (counts[key] ?? 0) + 1
        counts[key] = n
        return InMemoryOperatorData.ticketID(kind, at: time, sequence: n)
    }
}
