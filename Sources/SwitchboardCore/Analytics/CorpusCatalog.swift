/// What simulated customers know about the operator's data: the plans they may ask for, and the
/// lines of their own bills they may ask about. Read from the rule set once.
struct CorpusCatalog {
    let plans: [Plan]
    let accounts: [DemoAccount]

    static let faultTypes = ["no_signal", "slow_data", "broadband_outage", "call_failure", "sms_failure", "other"]

    init(ruleSet: RuleSet) {
        plans = ruleSet.plans
        accounts = ruleSet.demoAccounts
    }

    func account(_ phone: String) -> DemoAccount? { accounts.first { $0.account.phone == phone } }

    /// A usage or roaming charge on the account's bills that a customer may ask about, if any.
    func chargeAmount(_ demo: DemoAccount) -> String? {
        demo.extraLines.first { $0.line.ordered && $0.line.kind != .addon }.map { Self.yuan(cents: $0.line.amount) }
    }

    /// A service on the last bill that the customer never ordered.
    func hasUnorderedCharge(_ demo: DemoAccount) -> Bool { demo.extraLines.contains { !$0.line.ordered } }

    /// A line of the customer's bill to dispute: an extra charge, or the plan fee itself.
    func disputeAmount(_ demo: DemoAccount, _ rng: inout CorpusRandom) -> String {
        var amounts = demo.extraLines.map { Self.yuan(cents: $0.line.amount) }
        if let plan = plans.first(where: { $0.code == demo.account.planCode }) {
            amounts.append(Self.yuan(plan.monthlyFee))
        }
        return amounts.isEmpty ? "10" : rng.pick(amounts)
    }

    /// A mobile number that is no demo account's.
    func unknownNumber(_ rng: inout CorpusRandom) -> String {
        while true {
            var number = "13" + String(5 + rng.below(5))
            for _ in 0..<8 { number += String(rng.below(10)) }
            if account(number) == nil { return number }
        }
    }

    /// Six digits that are not the PIN.
    func wrongPIN(_ pin: String, _ rng: inout CorpusRandom) -> String {
        while true {
            var digits = ""
            for _ in 0..<6 { digits += String(rng.below(10)) }
            if digits != pin { return digits }
        }
    }

    /// Yuan as customers write them: `12`, `58.50`.
    static func yuan(cents: Int) -> String {
        cents % 100 == 0
            ? String(cents / 100) : String(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") + String(cents % 100)
    }

    static func yuan(_ amount: Double) -> String { yuan(cents: Int((amount * 100).rounded())) }
}
