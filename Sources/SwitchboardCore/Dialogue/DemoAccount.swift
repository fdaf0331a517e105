import Foundation

/// A demo account as written in `intents/accounts.yaml`: the account, its usage and its story.
/// Bills are generated from it (plan fee and add-ons every month, plus the extra lines it lists),
/// so six months of bills stay consistent with the plan and catalogue.
public struct DemoAccount: Sendable, Equatable {
    /// A bill line beyond the plan and add-on fees, `monthsAgo` months back (1 = last month).
    public struct ExtraLine: Sendable, Equatable {
        public var monthsAgo: Int
        public var line: BillLine
    }

    /// A ticket open when the data is seeded.
    public struct OpenTicket: Sendable, Equatable {
        public var id: String
        public var kind: TicketKind
        public var summary: String
        public var owner: String
        public var faultType: String?
        public var place: String?
        public var createdHoursAgo: Int
        public var dueInHours: Int
    }

    public var account: CustomerAccount
    public var pin: String
    /// Past months' usage, newest first.
    public var usageHistory: [(dataGB: Double, voiceMinutes: Int)]
    public var extraLines: [ExtraLine]
    /// Add-ons on the bills from this many months ago on (nil: on every bill).
    public var addonsSince: [String: Int]
    /// How many of the most recent bills are unpaid.
    public var unpaidBills: Int
    public var tickets: [OpenTicket]
    /// What the account is there to show, for the README and the people trying it.
    public var story: String

    public static func == (a: DemoAccount, b: DemoAccount) -> Bool {
        a.account == b.account && a.pin == b.pin && a.extraLines == b.extraLines && a.unpaidBills == b.unpaidBills
            && a.tickets == b.tickets && a.story == b.story && a.addonsSince == b.addonsSince
            && a.usageHistory.elementsEqual(b.usageHistory) { $0.dataGB == $1.dataGB && $0.voiceMinutes == $1.voiceMinutes }
    }

    /// `YYYY-MM` of the month `monthsAgo` before `now` (UTC+8, the operator's time zone).
    public static func month(_ monthsAgo: Int, before now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let date = calendar.date(byAdding: .month, value: -monthsAgo, to: now) ?? now
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", parts.year ?? 2026, parts.month ?? 1)
    }

    /// Six months of bills ending last month, newest first.
    public func bills(now: Date, plans: [Plan], addons: [Addon]) -> [Bill] {
        (1...6).map { monthsAgo in
            var lines: [BillLine] = []
            if let plan = plans.first(where: { $0.code == account.planCode }) {
                lines.append(BillLine(kind: .plan, code: plan.code,
                                      item: plan.name.mapValues { $0 }, amount: Cents((plan.monthlyFee * 100).rounded()),
                                      rule: plan.terms))
            }
            for code in account.addons where (addonsSince[code] ?? 6) >= monthsAgo {
                guard let addon = addons.first(where: { $0.code == code }) else { continue }
                // Extra lines may restate an add-on (an unordered one): then the extra line stands.
                if extraLines.contains(where: { $0.monthsAgo == monthsAgo && $0.line.code == code }) { continue }
                lines.append(BillLine(kind: .addon, code: code, item: addon.name, amount: Cents((addon.monthlyFee * 100).rounded()),
                                      rule: addon.terms))
            }
            lines += extraLines.filter { $0.monthsAgo == monthsAgo }.map(\.line)
            return Bill(month: Self.month(monthsAgo, before: now), lines: lines, paid: monthsAgo > unpaidBills)
        }
    }

    /// Usage history with month labels, newest first.
    public func usageMonths(now: Date) -> [UsageMonth] {
        usageHistory.enumerated().map { index, usage in
            UsageMonth(month: Self.month(index + 1, before: now), dataGB: usage.dataGB, voiceMinutes: usage.voiceMinutes)
        }
    }

    /// The open tickets, dated relative to `now`.
    public func openTickets(now: Date) -> [Ticket] {
        tickets.map { t in
            Ticket(id: t.id, kind: t.kind, phone: account.phone,
                   createdAt: now.addingTimeInterval(Double(-t.createdHoursAgo) * 3600),
                   dueAt: now.addingTimeInterval(Double(t.dueInHours) * 3600), summary: t.summary, owner: t.owner,
                   faultType: t.faultType, place: t.place)
        }
    }
}
