import Foundation

/// What each flow does once it has what it needs: the mechanisms behind `action:` in flows.yaml.
extension Turn {
    var account: CustomerAccount? { session.customer.flatMap { store?.account(phone: $0) } }

    /// States fee, inclusions, terms and effective date before a change; false when there is
    /// nothing to confirm (the change is refused or needs no confirmation).
    mutating func disclose(_ definition: FlowDefinition, _ flow: inout Session.ActiveFlow) -> Bool {
        switch definition.action {
        case .changePlan:
            guard let account, let code = flow.values[.plan], let plan = rules.plans.first(where: { $0.code == code }) else {
                session.flow = nil
                say("error")
                return false
            }
            if code == account.planCode {
                session.flow = nil
                say("plan_same", ["plan": planName(code)])
                return false
            }
            if let min = plan.minAge, account.age < min {
                session.flow = nil
                say("plan_not_eligible", ["plan": planName(code), "terms": plan.terms[language] ?? ""])
                session.offer = "plan.recommend"  // "Shall I suggest another plan?" — a yes gets one
                return false
            }
            if let max = plan.maxAge, account.age > max {
                session.flow = nil
                say("plan_not_eligible", ["plan": planName(code), "terms": plan.terms[language] ?? ""])
                session.offer = "plan.recommend"  // "Shall I suggest another plan?" — a yes gets one
                return false
            }
            var exit = ""
            if let current = rules.plans.first(where: { $0.code == account.planCode }), let fee = current.earlyExitFee {
                exit = render("plan_exit_fee", ["plan": planName(current.code), "fee": engine.money(Cents(fee * 100))])
            }
            say("plan_disclosure", [
                "plan": planName(code), "fee": engine.money(Cents(plan.monthlyFee * 100)), "data": engine.gigabytes(plan.dataGB),
                "voice": String(plan.voiceMinutes), "terms": plan.terms[language] ?? "",
                "effective": engine.day(engine.nextBillingCycle(after: now), language), "exit_fee": exit,
            ])
            return true
        case .subscribeAddon:
            guard let account, let code = flow.values[.addon], let addon = rules.addons.first(where: { $0.code == code }) else {
                session.flow = nil
                say("error")
                return false
            }
            if account.addons.contains(code) {
                session.flow = nil
                say("addon_already", ["addon": addonName(code)])
                return false
            }
            say("addon_disclosure", [
                "addon": addonName(code), "fee": engine.money(Cents(addon.monthlyFee * 100)), "terms": addon.terms[language] ?? "",
                "effective": engine.day(now, language),
            ])
            return true
        case .unsubscribeAddon:
            guard let account, let code = flow.values[.addon] else {
                session.flow = nil
                say("error")
                return false
            }
            if !account.addons.contains(code) {
                session.flow = nil
                say("addon_not_active", ["addon": addonName(code)])
                return false
            }
            say("addon_cancel_disclosure", ["addon": addonName(code), "effective": engine.day(engine.nextBillingCycle(after: now), language)])
            return true
        case .privacy:
            say("privacy_info")
            return true
        case .balance, .statement, .dispute, .payment, .invoice, .currentPlan, .recommendPlan, .usage, .repairTicket,
            .repairStatus, .complaint, .retention:
            return false
        }
    }

    mutating func act(_ definition: FlowDefinition, _ flow: Session.ActiveFlow) {
        switch definition.action {
        case .balance: balance()
        case .statement: statement(flow)
        case .dispute: dispute(flow)
        case .payment: payment(flow)
        case .invoice: invoice(flow)
        case .currentPlan: currentPlan()
        case .changePlan: changePlan(flow)
        case .recommendPlan: recommend(flow)
        case .usage: usage()
        case .subscribeAddon: setAddon(flow, active: true)
        case .unsubscribeAddon: setAddon(flow, active: false)
        case .repairTicket: repairTicket(flow)
        case .repairStatus: repairStatus()
        case .complaint: complaint(flow)
        case .retention:
            say("cancel_explained")
        case .privacy:
            say("privacy_escalated")
        }
        // Some requests always end with a person once the bot has done its part (handoff policy).
        if !session.handedOff, let reason = engine.afterBot[definition.intent] {
            fired("\(definition.intent) ends with a person: \(reason.rawValue)")
            handOff([reason])
        }
    }

    // MARK: Billing

    mutating func balance() {
        guard let account, let store else { return say("error") }
        if account.balance < 0 {
            let unpaid = store.bills(phone: account.phone).filter { !$0.paid }
            say("balance_arrears", [
                "arrears": engine.money(-account.balance),
                "months": unpaid.map { engine.monthName($0.month, language) }.joined(separator: language == .zh ? "、" : ", "),
            ])
        } else {
            say("balance", ["balance": engine.money(account.balance)])
        }
    }

    /// The bill a flow's month slots point at (last month when none is given).
    func bill(_ flow: Session.ActiveFlow) -> Bill? {
        guard let account, let store else { return nil }
        let bills = store.bills(phone: account.phone)
        if let month = flow.values[.month], let number = Int(month) {
            return bills.first { Int($0.month.split(separator: "-").last ?? "") == number }
        }
        let ago = flow.values[.relativeMonth].flatMap(Int.init).map { max(1, -$0) } ?? 1
        return bills.count >= ago ? bills[ago - 1] : nil
    }

    func lines(_ bill: Bill) -> String {
        bill.lines.map { "\($0.item[language] ?? "") ¥\(engine.money($0.amount))" }.joined(separator: language == .zh ? "；" : "; ")
    }

    /// A charge the customer names by amount or add-on, in the last three bills.
    func charge(_ flow: Session.ActiveFlow) -> (Bill, BillLine)? {
        guard let account, let store else { return nil }
        let bills = store.bills(phone: account.phone).prefix(3)
        if let text = flow.values[.amount], let value = Double(text) {
            let cents = Cents((value * 100).rounded())
            for bill in bills { if let line = bill.lines.first(where: { $0.amount == cents }) { return (bill, line) } }
        }
        if let code = flow.values[.addon] {
            for bill in bills { if let line = bill.lines.first(where: { $0.code == code }) { return (bill, line) } }
        }
        return nil
    }

    mutating func statement(_ flow: Session.ActiveFlow) {
        if flow.values[.amount] != nil, let (bill, line) = charge(flow) {
            return explain(bill, line)
        }
        if flow.values[.relativeMonth] == "0" && flow.values[.month] == nil, let account,
            let plan = rules.plans.first(where: { $0.code == account.planCode })
        {
            // This month has no bill yet: say when it comes and what is known so far.
            return say("statement_not_yet", [
                "fee": engine.money(Cents(plan.monthlyFee * 100)), "data_used": engine.gigabytes(account.dataUsedGB),
                "voice_used": String(account.voiceUsedMinutes), "date": engine.day(engine.nextBillingCycle(after: now), language),
            ])
        }
        guard let bill = bill(flow) else { return say("statement_none") }
        say("statement", [
            "month": engine.monthName(bill.month, language), "total": engine.money(bill.total), "lines": lines(bill),
            "paid": render(bill.paid ? "bill_paid" : "bill_unpaid"),
        ])
    }

    mutating func explain(_ bill: Bill, _ line: BillLine) {
        session.slots[.amount] = engine.money(line.amount)
        say("charge_explained", [
            "month": engine.monthName(bill.month, language), "item": line.item[language] ?? "",
            "amount": engine.money(line.amount), "rule": line.rule[language] ?? "",
        ])
        session.offer = "billing.dispute"
        say("dispute_offer")
    }

    mutating func dispute(_ flow: Session.ActiveFlow) {
        guard let account, let store else { return say("error") }
        var target = charge(flow)
        if target == nil, let explained = session.slots[.amount] {
            var withAmount = flow
            withAmount.values[.amount] = explained
            target = charge(withAmount)
        }
        if target == nil, let last = store.bills(phone: account.phone).first,
            let unordered = last.lines.first(where: { !$0.ordered })
        {
            target = (last, unordered)
        }
        guard let (bill, line) = target else {
            // Which charge? Ask, listing last month's lines.
            var next = flow
            next.awaiting = .slot(.amount)
            session.flow = next
            let last = store.bills(phone: account.phone).first
            say("dispute_which", ["lines": last.map(lines) ?? ""])
            return
        }
        let values = ["item": line.item[language] ?? "", "amount": engine.money(line.amount), "month": engine.monthName(bill.month, language)]
        // An ordinary charge is explained first (the bill line and its tariff rule); a dispute is
        // filed only when the customer still wants one.
        if line.ordered && Turn.mentions(flow.values["said"] ?? "", policy.whyWords) {
            // The charge explained; a yes, or "那我要申请退费", next disputes this one.
            explain(bill, line)
            return
        }
        // Already being handled: say so, never file the same refund or dispute twice.
        if let open = openClaim(bill, line) {
            return say("refund_pending", values.merging(["ticket": open.id, "deadline": engine.day(open.dueAt, language)]) { $1 })
        }
        do {
            if line.kind == .addon && !line.ordered, let code = line.code {
                // Unsolicited value-added service: stop it and refund it, no argument.
                try store.setAddon(phone: account.phone, code: code, active: false)
                let ticket = try fileClaim(.refund, bill, line)
                say("dispute_refund", values.merging(["ticket": ticket.id, "days": String(policy.refundDays)]) { $1 })
            } else {
                let ticket = try fileClaim(.dispute, bill, line)
                say("dispute_ticket", values.merging(["ticket": ticket.id, "deadline": engine.day(ticket.dueAt, language)]) { $1 })
            }
        } catch {
            say("error")
        }
    }

    /// What a refund or dispute ticket's summary ends with: the charge it is about.
    static func claimTag(_ bill: Bill, _ line: BillLine) -> String { "\(line.code ?? line.kind.rawValue) \(bill.month)" }

    /// An open refund or dispute already filed for this charge.
    func openClaim(_ bill: Bill, _ line: BillLine) -> Ticket? {
        guard let account, let store else { return nil }
        let tag = Self.claimTag(bill, line)
        return store.tickets(phone: account.phone).first {
            ($0.kind == .refund || $0.kind == .dispute) && $0.status == "open" && $0.summary.hasSuffix(tag)
        }
    }

    /// Makes a ticket and remembers it as this conversation's work (the agent's summary lists it).
    mutating func create(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket {
        guard let store else { throw OperatorDataError("no operator data") }
        let ticket = try store.createTicket(draft, at: time)
        session.ticketsMade.append(ticket.id)
        return ticket
    }

    /// Files a refund or dispute of one bill line, owned by billing, due in the policy's days.
    mutating func fileClaim(_ kind: TicketKind, _ bill: Bill, _ line: BillLine) throws(OperatorDataError) -> Ticket {
        guard let account, store != nil else { throw OperatorDataError("no verified customer") }
        let days = kind == .refund ? policy.refundDays : policy.disputeDays
        return try create(TicketDraft(
            kind: kind, phone: account.phone, summary: "\(kind.rawValue) \(Self.claimTag(bill, line))",
            owner: policy.billingOwner[.en] ?? "", dueAt: now.addingTimeInterval(Double(days) * 86_400)), at: now)
    }

    mutating func payment(_ flow: Session.ActiveFlow) {
        say(Turn.mentions(flow.values["said"] ?? "", policy.paymentFailedWords) ? "payment_failed" : "payment_ways")
    }

    mutating func invoice(_ flow: Session.ActiveFlow) {
        guard let account, store != nil, let bill = bill(flow) else { return say("statement_none") }
        do {
            let ticket = try create(TicketDraft(
                kind: .invoice, phone: account.phone, summary: "invoice \(bill.month)", owner: policy.billingOwner[.en] ?? "",
                dueAt: now.addingTimeInterval(Double(policy.invoiceHours) * 3600)), at: now)
            say("invoice_sent", ["month": engine.monthName(bill.month, language), "total": engine.money(bill.total), "ticket": ticket.id,
                                 "due": engine.dayAndTime(ticket.dueAt, language)])
        } catch {
            say("error")
        }
    }

    // MARK: Plans and usage

    mutating func currentPlan() {
        guard let account, let plan = rules.plans.first(where: { $0.code == account.planCode }) else { return say("error") }
        say("current_plan", [
            "plan": planName(plan.code), "fee": engine.money(Cents(plan.monthlyFee * 100)), "data": engine.gigabytes(plan.dataGB),
            "voice": String(plan.voiceMinutes), "terms": plan.terms[language] ?? "",
            "addons": account.addons.isEmpty ? "-" : account.addons.map(addonName).joined(separator: language == .zh ? "、" : ", "),
        ])
        if let pending = account.pendingPlanCode {
            say("plan_pending", ["plan": planName(pending), "effective": engine.day(engine.nextBillingCycle(after: now), language)])
        }
    }

    mutating func changePlan(_ flow: Session.ActiveFlow) {
        guard let account, let store, let code = flow.values[.plan] else { return say("error") }
        do {
            try store.schedulePlanChange(phone: account.phone, to: code)
            say("plan_changed", ["plan": planName(code), "effective": engine.day(engine.nextBillingCycle(after: now), language)])
        } catch {
            say("error")
        }
    }

    mutating func usage() {
        guard let account, let plan = rules.plans.first(where: { $0.code == account.planCode }) else { return say("error") }
        let extra = account.addons.compactMap { code in rules.addons.first { $0.code == code }?.dataGB }.reduce(0, +)
        let total = plan.dataGB + extra
        say("usage", [
            "data_left": engine.gigabytes(max(0, total - account.dataUsedGB)), "data_total": engine.gigabytes(total),
            "voice_left": String(max(0, plan.voiceMinutes - account.voiceUsedMinutes)), "voice_total": String(plan.voiceMinutes),
        ])
    }

    /// The cheapest plan the customer may take that covers their heaviest recent month.
    mutating func recommend(_ flow: Session.ActiveFlow) {
        var dataNeed = 0.0
        var voiceNeed = 0
        var age: Int?
        var currentCode: String?
        var currentCost: Double?
        if let account, let store {
            let months = store.usageHistory(phone: account.phone).prefix(3)
            dataNeed = months.map(\.dataGB).max() ?? account.dataUsedGB
            voiceNeed = months.map(\.voiceMinutes).max() ?? account.voiceUsedMinutes
            age = account.age
            currentCode = account.planCode
            // What the customer pays now on average: the bills, not just the plan fee.
            let bills = store.bills(phone: account.phone).prefix(3)
            if !bills.isEmpty { currentCost = Double(bills.map(\.total).reduce(0, +)) / Double(bills.count) / 100 }
        } else if let said = flow.values["usage"] {
            (dataNeed, voiceNeed) = parseUsage(said)
            if let years = session.slots[.age].flatMap(Int.init) { age = years }
        }
        let eligible = rules.plans.filter { plan in
            guard let age else { return plan.minAge == nil && plan.maxAge == nil }
            return (plan.minAge.map { age >= $0 } ?? true) && (plan.maxAge.map { age <= $0 } ?? true)
        }
        let covering = eligible.filter { $0.dataGB >= dataNeed && $0.voiceMinutes >= voiceNeed && $0.roamingDataGBPerDay == nil }
        guard let best = covering.min(by: { $0.monthlyFee < $1.monthlyFee }) ?? eligible.max(by: { $0.dataGB < $1.dataGB }) else {
            return say("error")
        }
        let values = [
            "plan": planName(best.code), "fee": engine.money(Cents(best.monthlyFee * 100)), "data": engine.gigabytes(best.dataGB),
            "voice": String(best.voiceMinutes), "need_data": engine.gigabytes(dataNeed), "need_voice": String(voiceNeed),
        ]
        if best.code == currentCode {
            return say("recommend_keep", values)
        }
        let cost = currentCost ?? 0
        let difference = Cents(((cost - best.monthlyFee) * 100).rounded())
        if currentCost != nil && difference > 0 {
            say("recommend_saving", values.merging(["saving": engine.money(difference)]) { $1 })
        } else if currentCost != nil {
            say("recommend_costs_more", values.merging(["extra": engine.money(-difference)]) { $1 })
        } else {
            say("recommend_plan", values)
        }
    }

    /// "每月20个G，300分钟" / "about 15 GB and 200 minutes": numbers followed by a unit word.
    func parseUsage(_ text: String) -> (Double, Int) {
        let lower = text.lowercased()
        var data = 0.0
        var voice = 0
        var number = ""
        var index = lower.startIndex
        func unit(after i: String.Index) -> String {
            String(lower[i...].drop { $0 == " " }.prefix(8))
        }
        while index < lower.endIndex {
            let ch = lower[index]
            if ch.isASCII && (ch.isNumber || (ch == "." && !number.isEmpty)) {
                number.append(ch)
            } else if !number.isEmpty {
                let rest = unit(after: index)
                if let value = Double(number) {
                    if policy.dataUnits.contains(where: { rest.hasPrefix($0) }) { data = max(data, value) }
                    else if policy.minuteUnits.contains(where: { rest.hasPrefix($0) }) { voice = max(voice, Int(value)) }
                }
                number = ""
            }
            index = lower.index(after: index)
        }
        return (data, voice)
    }

    // MARK: Add-ons

    mutating func setAddon(_ flow: Session.ActiveFlow, active: Bool) {
        guard let account, let store, let code = flow.values[.addon] else { return say("error") }
        do {
            try store.setAddon(phone: account.phone, code: code, active: active)
            if active {
                return say("addon_subscribed", ["addon": addonName(code)])
            }
            // A service the customer never ordered is refunded as well as stopped.
            if let (bill, line) = store.bills(phone: account.phone).prefix(3).lazy
                .compactMap({ bill in bill.lines.first { $0.code == code && !$0.ordered }.map { (bill, $0) } }).first
            {
                let ticket = try openClaim(bill, line) ?? fileClaim(.refund, bill, line)
                say("addon_unsubscribed_refund", [
                    "addon": addonName(code), "amount": engine.money(line.amount), "ticket": ticket.id, "days": String(policy.refundDays),
                ])
            } else {
                say("addon_unsubscribed", ["addon": addonName(code), "effective": engine.day(engine.nextBillingCycle(after: now), language)])
            }
        } catch {
            say("error")
        }
    }

    /// The line of the last three bills whose item shares a word with `text`.
    func lineNamed(_ text: String) -> BillLine? {
        guard let account, let store else { return nil }
        // A bare amount ("58.50", "12块") names the line that charged it.
        let numbers = text.split(whereSeparator: { !($0.isASCII && ($0.isNumber || $0 == ".")) }).compactMap { Double($0) }
        for value in numbers {
            let cents = Cents((value * 100).rounded())
            for bill in store.bills(phone: account.phone).prefix(3) {
                if let line = bill.lines.first(where: { $0.amount == cents }) { return line }
            }
        }
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            .filter { ($0.count >= 3 && !["the", "and", "for"].contains($0)) || ($0.count >= 2 && $0.unicodeScalars.allSatisfy { Scalar.isHan($0.value) }) }
            .map(String.init)
        guard !words.isEmpty else { return nil }
        for bill in store.bills(phone: account.phone).prefix(3) {
            for line in bill.lines where Turn.mentions(line.item[language] ?? "", words) { return line }
        }
        return nil
    }

    // MARK: Faults and complaints

    mutating func repairTicket(_ flow: Session.ActiveFlow) {
        guard let account, let store else { return say("error") }
        let fault = flow.values[.faultType] ?? "other"
        // One fault, one ticket: an open one for the same fault is reported, not duplicated.
        if let open = store.tickets(phone: account.phone).first(where: { $0.kind == .repair && $0.status == "open" && $0.faultType == fault }) {
            return say("repair_exists", ["ticket": open.id, "due": engine.dayAndTime(open.dueAt, language)])
        }
        let place = flow.values["place"] ?? ""
        let since = flow.values["since"] ?? ""
        do {
            let ticket = try create(TicketDraft(
                kind: .repair, phone: account.phone, summary: "\(fault); since: \(Masking.mask(since))", owner: policy.repairOwner[.en] ?? "",
                dueAt: now.addingTimeInterval(Double(policy.repairHours) * 3600), faultType: fault, place: Masking.mask(place)), at: now)
            say("repair_ticket", ["ticket": ticket.id, "fault": render("fault." + fault), "place": place,
                                  "due": engine.dayAndTime(ticket.dueAt, language)])
        } catch {
            say("error")
        }
    }

    mutating func repairStatus() {
        guard let account, let store else { return say("error") }
        guard let ticket = store.tickets(phone: account.phone).first(where: { $0.kind == .repair && $0.status == "open" }) else {
            return say("repair_none")
        }
        let what = ticket.faultType.map { render("fault." + $0) } ?? ticket.summary
        let summary = [what, ticket.place ?? ""].filter { !$0.isEmpty }.joined(separator: language == .zh ? "，" : ", ")
        say("repair_status", ["ticket": ticket.id, "summary": summary, "owner": ticket.owner == policy.repairOwner[.en] ? policy.repairOwner[language] ?? ticket.owner : ticket.owner,
                              "due": engine.dayAndTime(ticket.dueAt, language)])
    }

    mutating func complaint(_ flow: Session.ActiveFlow) {
        guard let account, let store else { return say("error") }
        let window = now.addingTimeInterval(-Double(policy.complaintRepeatDays) * 86_400)
        let repeatComplaint = store.tickets(phone: account.phone).contains { $0.kind == .complaint && $0.createdAt >= window }
        let owner = policy.complaintOwner[language] ?? ""
        do {
            let ticket = try create(TicketDraft(
                kind: .complaint, phone: account.phone, summary: Masking.mask(flow.values["complaint"] ?? ""),
                owner: policy.complaintOwner[.en] ?? owner,
                dueAt: now.addingTimeInterval(Double(policy.complaintDeadlineHours) * 3600), isRepeat: repeatComplaint), at: now)
            say("complaint_ticket", ["ticket": ticket.id, "owner": owner, "deadline": engine.dayAndTime(ticket.dueAt, language)])
            if repeatComplaint {
                session.repeatComplaint = true
                fired("repeat complaint within \(policy.complaintRepeatDays) days: priority up")
                say("complaint_repeat")
            }
        } catch {
            say("error")
        }
    }
}
