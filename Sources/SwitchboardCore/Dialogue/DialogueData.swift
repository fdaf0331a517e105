import Foundation

/// What a flow ends in: the mechanism in Swift, named from `flows.yaml`.
public enum FlowAction: String, Sendable, CaseIterable {
    case balance, statement, dispute, payment, invoice
    case currentPlan = "current_plan", changePlan = "change_plan", recommendPlan = "recommend_plan"
    case usage, subscribeAddon = "subscribe_addon", unsubscribeAddon = "unsubscribe_addon"
    case repairTicket = "repair_ticket", repairStatus = "repair_status", complaint
    case retention, privacy
}

/// One slot a flow asks for before it acts.
public struct FlowSlot: Sendable, Equatable {
    public var name: SlotName
    /// The response key of the question.
    public var ask: String
    /// Any answer is the value (a place, a time): the slot scanners have no vocabulary for it.
    public var freeText: Bool
}

/// A flow as data: the intent it serves, whether it needs a verified customer, the slots it asks
/// for, whether it confirms before acting, and its action.
public struct FlowDefinition: Sendable, Equatable {
    public var intent: IntentID
    public var identity: Bool
    public var slots: [FlowSlot]
    public var confirm: Bool
    public var action: FlowAction
    /// One question answered at once (no slots to ask, no confirmation): can be served beside
    /// another in the same message, or as a digression inside another flow.
    public var isOneShot: Bool { slots.allSatisfy { $0.freeText == false } && !confirm && action.answersAtOnce }
}

extension FlowAction {
    /// Actions that answer from the account without asking anything further.
    var answersAtOnce: Bool {
        switch self {
        case .balance, .statement, .currentPlan, .usage, .repairStatus, .payment: true
        case .dispute, .invoice, .changePlan, .recommendPlan, .subscribeAddon, .unsubscribeAddon, .repairTicket,
            .complaint, .retention, .privacy:
            false
        }
    }
}

/// A customer-facing sentence in both languages, with plain-language variants for simple mode.
public struct ResponseTemplate: Sendable, Equatable {
    public var text: [Language: String]
    public var simple: [Language: String]

    /// `{name}` → value in one pass (Foundation's replacingOccurrences cost more than a turn);
    /// a placeholder without a value is left as it is.
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        guard !values.isEmpty, text.utf8.contains(0x7B) else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if let value = values[name] { out += value } else { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    /// The template for a language and mode; simple mode falls back to the normal text.
    public func template(_ language: Language, simple useSimple: Bool) -> String {
        if useSimple, let s = simple[language] { return s }
        return text[language] ?? text[.zh] ?? ""
    }
}

/// Numbers and words the dialogue's policy rests on (`policy:` in responses.yaml).
public struct DialoguePolicy: Sendable, Equatable {
    public var pinAttempts = 3
    public var complaintDeadlineHours = 48
    public var complaintRepeatDays = 30
    public var complaintOwner: [Language: String] = [.zh: "投诉处理中心", .en: "Complaints team"]
    /// Who owns repair and billing tickets, as customers are told (the English name is stored).
    public var repairOwner: [Language: String] = [.zh: "维修班组", .en: "the repair team"]
    public var billingOwner: [Language: String] = [.zh: "账务中心", .en: "Billing"]
    public var repairHours = 24
    public var disputeDays = 7
    public var refundDays = 3
    public var invoiceHours = 24
    /// Accounts whose holder is this old or older are offered a person in the first reply.
    public var offerPersonFromAge = 65
    /// Replies that mean "a person, please" in simple mode ("0").
    public var humanShortcuts: [String] = ["0"]
    /// Words after a number that make it gigabytes or minutes, when a customer says what they use.
    public var dataUnits: [String] = ["g", "gb", "个g"]
    public var minuteUnits: [String] = ["分钟", "min", "mins", "minutes"]
    /// "I forgot my PIN": how to reset it, instead of the PIN question again.
    public var forgotPINWords: [String] = ["forgot my pin", "忘了密码", "忘记密码"]
    /// "I don't know" at a question: asked again, never read as a question of its own.
    public var dontKnowWords: [String] = ["不知道", "i don't know", "no idea"]
    /// How a yes starts ("yes, cancel it" to "shall I cancel it?").
    public var yesPrefixes: [String] = ["yes", "yeah", "sure", "是", "好", "对", "确认"]
    /// Neither yes nor no ("maybe"): a confirmation is asked again, nothing is cancelled.
    public var unsureWords: [String] = ["maybe", "perhaps", "not sure", "也许", "可能吧", "不确定", "再想想"]
    /// Words that join two questions in one message ("查话费顺便看看流量").
    public var joiners: [String] = ["顺便", "另外", "还有", " and ", " also "]
    /// Words that make a contested charge a question ("为什么扣我12块"): explained before a dispute.
    public var whyWords: [String] = ["为什么", "为啥", "怎么会", "why", "what is this", "what's this"]
    /// Words before an address in a fault report ("地址是…", "my address is …"): the rest of the
    /// clause is the place, not asked for again.
    public var placeMarkers: [String] = ["地址是", "地址：", "地址:", "地址在", "住在", "my address is", "the address is"]
    /// Words that say when a fault started ("从昨天晚上开始", "since yesterday"): that clause is the start time.
    public var sinceWords: [String] = ["昨天", "前天", "今天", "刚才", "since", "yesterday", "this morning", "last night"]
    /// Words that pick the first or the second of two offered guesses.
    public var firstChoiceWords: [String] = ["第一个", "前面那个", "前一个", "the first", "first one", "former"]
    public var secondChoiceWords: [String] = ["第二个", "后面那个", "后一个", "the second", "second one", "latter"]
    /// Words that say a payment failed.
    public var paymentFailedWords: [String] = ["失败", "没成功", "failed", "didn't go through", "declined"]

    public init() {}
}

/// The dialogue's data: flows, responses and policy.
public struct DialogueData: Sendable {
    public var flows: [IntentID: FlowDefinition] = [:]
    public var responses: [String: ResponseTemplate] = [:]
    public var policy = DialoguePolicy()
    public var sessionCues = SessionCuePolicy()
    public var handoff = HandoffPolicy()
    /// The sentences of the agent-facing handoff summary (`handoff: summary:`), by key and language.
    public var summaryTemplates: [String: [Language: String]] = [:]

    public init() {}

    /// Every response key the engine uses; `check` reports the ones missing from responses.yaml.
    public static let requiredResponses: [String] = [
        "greeting", "help", "thanks", "goodbye", "nothing_to_cancel", "cancelled", "ok",
        "fallback_rephrase", "fallback_choose", "fallback_menu", "handoff", "handoff_waiting", "simple_offer",
        "elderly_offer", "elderly_help", "elderly_confused", "frustration_offer", "handoff_claimed", "handoff_left", "handoff_resolved", "handoff_returned", "handoff_failed", "agent_joined", "agent_gone", "idle_goodbye", "connection_busy", "line_too_long", "line_not_utf8", "server_closing", "server_closing_queued", "callback_offer", "callback_offer_no_phone", "handoff_waiting_no_agent", "callback_waiting", "pin_locked", "callback_booked", "callback_ask_phone", "callback_declined", "ended", "ask_phone", "ask_pin", "pin_wrong", "phone_unknown", "verified", "resume",
        "error", "balance", "balance_arrears", "statement", "statement_none", "charge_explained", "dispute_which",
        "dispute_refund", "dispute_ticket", "payment_ways", "payment_failed", "invoice_sent", "current_plan",
        "plan_pending", "ask_plan", "plan_same", "plan_not_eligible", "plan_disclosure", "plan_exit_fee", "plan_changed",
        "plan_change_cancelled", "recommend_saving", "recommend_costs_more", "recommend_keep", "ask_usage", "usage",
        "ask_addon", "addon_already", "addon_disclosure", "addon_subscribed", "addon_not_active",
        "addon_cancel_disclosure", "addon_unsubscribed", "addon_unsubscribed_refund", "ask_fault_type", "ask_place",
        "ask_since", "repair_ticket", "repair_status", "repair_none", "ask_complaint", "complaint_ticket",
        "complaint_repeat", "refund_pending", "dispute_offer", "dispute_declined", "statement_not_yet", "other_number", "pin_forgotten", "repair_exists", "recommend_plan", "cancel_explained", "privacy_info", "privacy_escalated", "privacy_done", "confirm_again",
    ]
}
