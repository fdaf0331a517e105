import Foundation
import Yams

/// The dialogue sections of rule files: `accounts` (demo data), `responses` and `policy`.
extension RuleFileParser {
    mutating func parseAccounts(_ node: Node, into defs: inout RuleDefinitions) {
        guard let sequence = node.sequence else {
            reader.error(node, "accounts must be a list")
            return
        }
        let keys = ["phone", "pin", "name", "language", "age", "plan", "balance", "addons", "addons_since",
                    "data_used_gb", "voice_used_minutes", "usage_history", "bill_extras", "unpaid_bills", "tickets", "story"]
        for item in sequence {
            guard let pairs = reader.pairs(item, "an account") else { continue }
            reader.checkKeys(pairs, allowed: keys, in: "an account")
            let field = { (key: String) in pairs.first { $0.key == key }?.value }
            guard let phoneNode = field("phone"), let phone = reader.string(phoneNode, "phone") else {
                reader.error(item, "account has no 'phone'")
                continue
            }
            if phone.count != 11 || !phone.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
                reader.error(phoneNode, "phone must be 11 digits, got '\(phone)'")
            }
            let pin = field("pin").flatMap { reader.string($0, "pin") } ?? ""
            if pin.count != 6 || !pin.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
                reader.error(field("pin") ?? item, "account \(phone): pin must be 6 digits")
            }
            var language = Language.zh
            if let n = field("language"), let text = reader.string(n, "language") {
                if let l = Language(rawValue: text) { language = l } else { reader.error(n, "language must be 'zh' or 'en', got '\(text)'") }
            }
            func number(_ key: String, _ range: ClosedRange<Double>, default value: Double) -> Double {
                field(key).flatMap { reader.number($0, "account \(phone) \(key)", in: range) } ?? value
            }
            let addons = field("addons").map { reader.strings($0, "addons").map(\.0) } ?? []
            var addonsSince: [String: Int] = [:]
            if let n = field("addons_since"), let since = reader.pairs(n, "addons_since") {
                for (code, _, value) in since {
                    addonsSince[code] = reader.number(value, "addons_since \(code)", in: 1...6).map(Int.init)
                }
            }
            var history: [(dataGB: Double, voiceMinutes: Int)] = []
            if let n = field("usage_history") {
                for entry in n.sequence ?? [] {
                    guard let p = reader.pairs(entry, "a usage month") else { continue }
                    reader.checkKeys(p, allowed: ["data_gb", "voice_minutes"], in: "a usage month")
                    let data = p.first { $0.key == "data_gb" }.flatMap { reader.number($0.value, "data_gb", in: 0...10_000) } ?? 0
                    let voice = p.first { $0.key == "voice_minutes" }.flatMap { reader.number($0.value, "voice_minutes", in: 0...100_000) } ?? 0
                    history.append((data, Int(voice)))
                }
            }
            var extras: [DemoAccount.ExtraLine] = []
            for entry in field("bill_extras")?.sequence ?? [] {
                guard let p = reader.pairs(entry, "a bill line") else { continue }
                reader.checkKeys(p, allowed: ["months_ago", "kind", "code", "item", "amount", "rule", "ordered"], in: "a bill line")
                let f = { (key: String) in p.first { $0.key == key }?.value }
                let monthsAgo = f("months_ago").flatMap { reader.number($0, "months_ago", in: 1...6) } ?? 1
                var kind = BillLineKind.usage
                if let k = f("kind"), let text = reader.string(k, "kind") {
                    if let parsed = BillLineKind(rawValue: text) { kind = parsed } else {
                        reader.error(k, "bill line kind must be one of \(BillLineKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
                    }
                }
                let amount = f("amount").flatMap { reader.number($0, "amount", in: -100_000...100_000) } ?? 0
                let ordered = f("ordered").flatMap { reader.string($0, "ordered") }.map { $0 != "false" } ?? true
                extras.append(.init(monthsAgo: Int(monthsAgo), line: BillLine(
                    kind: kind, code: f("code").flatMap { reader.string($0, "code") }, item: localized(f("item"), "bill line item"),
                    amount: Cents((amount * 100).rounded()), rule: localized(f("rule"), "bill line rule"), ordered: ordered)))
            }
            var tickets: [DemoAccount.OpenTicket] = []
            for entry in field("tickets")?.sequence ?? [] {
                guard let p = reader.pairs(entry, "a ticket") else { continue }
                reader.checkKeys(p, allowed: ["id", "kind", "summary", "owner", "fault_type", "place", "created_hours_ago", "due_in_hours"], in: "a ticket")
                let f = { (key: String) in p.first { $0.key == key }?.value }
                var kind = TicketKind.repair
                if let k = f("kind"), let text = reader.string(k, "kind") {
                    if let parsed = TicketKind(rawValue: text) { kind = parsed } else { reader.error(k, "unknown ticket kind '\(text)'") }
                }
                tickets.append(.init(
                    id: f("id").flatMap { reader.string($0, "id") } ?? "", kind: kind,
                    summary: f("summary").flatMap { reader.string($0, "summary") } ?? "",
                    owner: f("owner").flatMap { reader.string($0, "owner") } ?? "",
                    faultType: f("fault_type").flatMap { reader.string($0, "fault_type") },
                    place: f("place").flatMap { reader.string($0, "place") },
                    createdHoursAgo: Int(f("created_hours_ago").flatMap { reader.number($0, "created_hours_ago", in: 0...10_000) } ?? 0),
                    dueInHours: Int(f("due_in_hours").flatMap { reader.number($0, "due_in_hours", in: -10_000...10_000) } ?? 24)))
            }
            let account = CustomerAccount(
                phone: phone, name: field("name").flatMap { reader.string($0, "name") } ?? "", language: language,
                age: Int(number("age", 0...130, default: 30)), planCode: field("plan").flatMap { reader.string($0, "plan") } ?? "",
                balance: Cents((number("balance", -1_000_000...1_000_000, default: 0) * 100).rounded()), addons: addons,
                dataUsedGB: number("data_used_gb", 0...10_000, default: 0),
                voiceUsedMinutes: Int(number("voice_used_minutes", 0...100_000, default: 0)))
            defs.demoAccounts.append((DemoAccount(
                account: account, pin: pin, usageHistory: history, extraLines: extras, addonsSince: addonsSince,
                unpaidBills: Int(number("unpaid_bills", 0...6, default: 0)), tickets: tickets,
                story: field("story").flatMap { reader.string($0, "story") } ?? ""), reader.location(phoneNode)))
        }
    }
}

extension RuleFileParser {
    mutating func parseFlows(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "flows") else { return }
        for (intent, keyNode, value) in pairs {
            guard let fields = reader.pairs(value, "flow '\(intent)'") else { continue }
            reader.checkKeys(fields, allowed: ["identity", "slots", "confirm", "action"], in: "flow '\(intent)'")
            let field = { (key: String) in fields.first { $0.key == key }?.value }
            guard let actionNode = field("action"), let actionName = reader.string(actionNode, "action") else {
                reader.error(keyNode, "flow '\(intent)' has no 'action'")
                continue
            }
            guard let action = FlowAction(rawValue: actionName) else {
                let names = FlowAction.allCases.map(\.rawValue)
                let hint = Spelling.closest(to: actionName, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                reader.error(actionNode, "flow '\(intent)': unknown action '\(actionName)'\(hint)")
                continue
            }
            var slots: [FlowSlot] = []
            for item in field("slots")?.sequence ?? [] {
                guard let p = reader.pairs(item, "a flow slot") else { continue }
                reader.checkKeys(p, allowed: ["slot", "ask", "free_text"], in: "a flow slot")
                let f = { (key: String) in p.first { $0.key == key }?.value }
                guard let name = f("slot").flatMap({ reader.string($0, "slot") }),
                    let ask = f("ask").flatMap({ reader.string($0, "ask") })
                else {
                    reader.error(item, "flow '\(intent)': a slot needs 'slot' and 'ask'")
                    continue
                }
                slots.append(FlowSlot(name: SlotName(rawValue: name), ask: ask,
                                      freeText: f("free_text").flatMap { reader.string($0, "free_text") } == "true"))
                defs.responseUses.append((ask, reader.location(f("ask"))))
            }
            let flow = FlowDefinition(
                intent: IntentID(intent), identity: field("identity").flatMap { reader.string($0, "identity") } == "true",
                slots: slots, confirm: field("confirm").flatMap { reader.string($0, "confirm") } == "true", action: action)
            if defs.dialogue.flows[flow.intent] != nil { reader.error(keyNode, "flow '\(intent)' is defined twice") }
            defs.dialogue.flows[flow.intent] = flow
            defs.flowLocations.append((flow.intent, reader.location(keyNode)))
        }
    }

    mutating func parseResponses(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "responses") else { return }
        for (key, keyNode, value) in pairs {
            guard let fields = reader.pairs(value, "response '\(key)'") else { continue }
            reader.checkKeys(fields, allowed: ["zh", "en", "zh_simple", "en_simple"], in: "response '\(key)'")
            var template = ResponseTemplate(text: [:], simple: [:])
            for (field, _, text) in fields {
                guard let s = reader.string(text, "response '\(key)' \(field)") else { continue }
                switch field {
                case "zh": template.text[.zh] = s
                case "en": template.text[.en] = s
                case "zh_simple": template.simple[.zh] = s
                case "en_simple": template.simple[.en] = s
                default: break
                }
            }
            for language in Language.allCases where template.text[language] == nil {
                reader.error(keyNode, "response '\(key)' has no '\(language.rawValue)' text")
            }
            if defs.dialogue.responses[key] != nil { reader.error(keyNode, "response '\(key)' is defined twice") }
            defs.dialogue.responses[key] = template
        }
        defs.responsesFile = reader.file
    }

    mutating func parsePolicy(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "policy") else { return }
        let numbers: [String: WritableKeyPath<DialoguePolicy, Int>] = [
            "pin_attempts": \.pinAttempts, "complaint_deadline_hours": \.complaintDeadlineHours,
            "complaint_repeat_days": \.complaintRepeatDays, "repair_hours": \.repairHours, "dispute_days": \.disputeDays,
            "refund_days": \.refundDays, "invoice_hours": \.invoiceHours, "offer_person_from_age": \.offerPersonFromAge,
        ]
        let lists: [String: WritableKeyPath<DialoguePolicy, [String]>] = [
            "human_shortcuts": \.humanShortcuts, "data_units": \.dataUnits, "minute_units": \.minuteUnits,
            "payment_failed_words": \.paymentFailedWords, "why_words": \.whyWords, "joiners": \.joiners, "unsure_words": \.unsureWords, "yes_prefixes": \.yesPrefixes, "forgot_pin_words": \.forgotPINWords, "dont_know_words": \.dontKnowWords,
            "place_markers": \.placeMarkers, "since_words": \.sinceWords,
            "first_choice_words": \.firstChoiceWords, "second_choice_words": \.secondChoiceWords,
        ]
        let owners: [String: WritableKeyPath<DialoguePolicy, [Language: String]>] = [
            "complaint_owner": \.complaintOwner, "repair_owner": \.repairOwner, "billing_owner": \.billingOwner,
        ]
        reader.checkKeys(pairs, allowed: Array(numbers.keys) + Array(lists.keys) + Array(owners.keys),
                         in: "policy")
        for (key, _, value) in pairs {
            if let path = numbers[key] {
                if let n = reader.number(value, "policy \(key)", in: 1...100_000) { defs.dialogue.policy[keyPath: path] = Int(n) }
            } else if let path = lists[key] {
                defs.dialogue.policy[keyPath: path] = reader.strings(value, "policy \(key)").map { $0.0.lowercased() }
            } else if let path = owners[key] {
                defs.dialogue.policy[keyPath: path] = localized(value, "policy \(key)")
            }
        }
    }
}
