import Foundation

/// Who a simulated customer is: how they write, where they write from, whose number and PIN they
/// hold, and whether the channel has already told the bot (`customer` on the start event).
struct CorpusPersona {
    var voice: CorpusVoice
    var channel: String
    var account: DemoAccount
    var identified: Bool
    var elderly: Bool
}

/// One simulated customer in one session: what they came for, and how they answer each reply of
/// the bot. They read the session the way a person reads the screen (is it asking for my number,
/// my PIN, a yes, which plan, where the fault is?) and answer in their own voice, with the noise
/// people type; between requests they may lose patience, ask for a person, go quiet, or leave.
struct SimulatedCustomer {
    /// What the customer does after a reply.
    enum Move: Equatable {
        case say(String)
        /// Closes the chat window: the session ends with nothing more said.
        case leave
        /// Stops answering: the server ends the session after its idle timeout.
        case fallSilent
    }

    /// What they came for (one intent of CONTRACT.md section 2 each, and a few ways of not having one).
    enum Goal: Equatable {
        case balance, statement, chargeQuestion, dispute, payment, invoice
        case planCurrent, planChange, planRecommend, usage, addonSubscribe, addonUnsubscribe
        case faultReport(String)
        case faultStatus, complaint, accountCancel, privacy, person, outOfScope
        case elderlySelf, elderlyRequest, greeting, help

        /// Asked again word for word when the answer is slow to satisfy (frustration builds on these).
        var isRepeatable: Bool {
            switch self {
            case .balance, .statement, .usage, .planCurrent, .faultStatus, .payment: true
            case .chargeQuestion, .dispute, .invoice, .planChange, .planRecommend, .addonSubscribe, .addonUnsubscribe,
                .faultReport,
                .complaint, .accountCancel, .privacy, .person, .outOfScope, .elderlySelf, .elderlyRequest, .greeting,
                .help:
                false
            }
        }

        /// A reason to come back within a day or two with the same request.
        var bringsRepeatContact: Bool {
            switch self {
            case .faultReport, .faultStatus, .complaint, .dispute, .payment, .balance, .usage, .statement,
                .addonUnsubscribe:
                true
            case .chargeQuestion, .invoice, .planCurrent, .planChange, .planRecommend, .addonSubscribe, .accountCancel,
                .privacy,
                .person, .outOfScope, .elderlySelf, .elderlyRequest, .greeting, .help:
                false
            }
        }
    }

    /// Something that happens to the conversation besides the requests.
    enum Twist {
        case none
        /// The same question again, more impatient each time.
        case frustration
        /// Asks for a person while the bot is collecting something.
        case personMidFlow
        /// Stops answering while the bot is collecting something.
        case silentMidFlow
        /// Closes the window while the bot is collecting something.
        case leaveMidFlow
    }

    enum Ending {
        case thanks, goodbye, thanksGoodbye, leave, silent, person
    }

    /// How a customer the channel did not identify gets through the number-and-PIN check.
    enum Verification {
        case straight, together, wrongPINFirst, unknownNumberFirst, threeWrongPINs, givesUp
    }

    static let maxMessages = 16

    let persona: CorpusPersona
    private(set) var goals: [Goal]
    let twist: Twist
    let ending: Ending
    let verification: Verification
    /// A return visit: says "again" where it has the words.
    let isRepeat: Bool
    private var rng: CorpusRandom
    private let catalog: CorpusCatalog
    private var values: [String: String] = [:]

    private var current: Goal?
    private var attempts = 0
    private var outOfScopeLeft = 0
    private var question: String?
    private var impatience = 0
    private var twistDone = false
    private var thanked = false
    private var phoneAttempts = 0
    private var pinAttempts = 0
    private var confirmations = 0
    private var callbackAnswered = false
    private var waitingLeft: Int
    private var planCode: String?
    private var addonCode: String?
    private var faultType: String?
    private var outOfScopeTheme: Int?
    private(set) var messages = 0

    init(
        persona: CorpusPersona, goals: [Goal], twist: Twist, ending: Ending, isRepeat: Bool, catalog: CorpusCatalog,
        rng: CorpusRandom
    ) {
        self.persona = persona
        self.goals = goals
        self.twist = twist
        self.ending = ending
        self.isRepeat = isRepeat
        self.catalog = catalog
        self.rng = rng
        verification = self.rng.weighted([
            (.straight, 55), (.together, 12), (.wrongPINFirst, 10), (.unknownNumberFirst, 6),
            (.threeWrongPINs, 3), (.givesUp, 14),
        ])
        waitingLeft = self.rng.between(0...2)
        let phone = persona.account.account.phone
        values["phone"] = phone
        values["phoneSpaced"] = "\(phone.prefix(3)) \(phone.dropFirst(3).prefix(4)) \(phone.suffix(4))"
        values["phoneDashed"] = "\(phone.prefix(3))-\(phone.dropFirst(3).prefix(4))-\(phone.suffix(4))"
        values["pin"] = persona.account.pin
        // Months with a bill (the last six); now and then one without.
        let monthsAgo = self.rng.weighted([(1, 6), (2, 3), (3, 2), (4, 1), (6, 1), (8, 1)])
        let month = (11 - monthsAgo + 11) % 12 + 1
        values["month"] = String(month)
        values["monthName"] = Self.monthNames[month - 1]
    }

    /// Whether the customer's dialect has words of its own for the request.
    static func hasOwnWords(_ goal: Goal, _ persona: CorpusPersona) -> Bool {
        let lists: [PhraseList]
        switch goal {
        case .balance: lists = [CorpusPhrases.balance]
        case .statement: lists = [CorpusPhrases.statement]
        case .dispute: lists = [CorpusPhrases.ringtoneDispute]
        case .usage: lists = [CorpusPhrases.usage]
        case .planChange: lists = [CorpusPhrases.planChangeNamed, CorpusPhrases.planChange]
        case .addonSubscribe: lists = Array(CorpusPhrases.addonSubscribe.values)
        case .addonUnsubscribe: lists = persona.account.account.addons.compactMap { CorpusPhrases.addonUnsubscribe[$0] }
        case .faultReport(let type): lists = CorpusPhrases.faults[type].map { [$0] } ?? []
        case .privacy: lists = [CorpusPhrases.privacy]
        case .person: lists = [CorpusPhrases.human]
        case .chargeQuestion, .payment, .invoice, .planCurrent, .planRecommend, .faultStatus, .complaint, .accountCancel,
            .outOfScope, .elderlySelf, .elderlyRequest, .greeting, .help:
            lists = []
        }
        if goal == .dispute && !persona.account.extraLines.contains(where: { !$0.line.ordered }) { return false }
        return lists.contains { $0.dialects[persona.voice] != nil }
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ]

    /// The customer's first message.
    mutating func opening() -> Move { counted(nextGoalOrEnd()) }

    /// What the customer does after the bot's reply (`keys`: the reply's response keys).
    mutating func next(after keys: [String], in session: Session) -> Move {
        guard messages < Self.maxMessages else { return .leave }
        return counted(decide(after: keys, in: session))
    }

    private mutating func counted(_ move: Move) -> Move {
        if case .say = move { messages += 1 }
        return move
    }

    private mutating func decide(after keys: [String], in session: Session) -> Move {
        if session.handedOff { return whileWaiting(keys, session) }
        if let awaiting = session.flow?.awaiting {
            if !twistDone {
                switch twist {
                case .silentMidFlow:
                    twistDone = true
                    return .fallSilent
                case .leaveMidFlow:
                    twistDone = true
                    return .leave
                case .personMidFlow:
                    twistDone = true
                    return say(CorpusPhrases.human)
                case .none, .frustration:
                    break
                }
            }
            return answer(awaiting, in: session)
        }
        if session.offer == "human.request", let move = answerOfferOfAPerson() { return move }
        if let offer = session.offer, offer != "human.request" {
            let choice = rng.weighted([(0, 50), (1, 35), (2, 15)])
            if choice == 0 { return say(CorpusPhrases.yes) }
            if choice == 1 { return say(CorpusPhrases.no) }
        }
        if !session.choices.isEmpty, rng.chance(0.4) { return say(CorpusPhrases.pick) }
        if outOfScopeLeft > 0 {
            outOfScopeLeft -= 1
            return say(CorpusPhrases.outOfScope[outOfScopeTheme ?? 0], noisy: true)
        }
        if session.lastTurnWasFallback, let goal = current, goal != .outOfScope, attempts < 3 {
            attempts += 1
            return .say(fill(opener(goal)))
        }
        if twist == .frustration, let question, impatience < 3 {
            impatience += 1
            let level = CorpusPhrases.impatience[impatience - 1]
            var escalated = values
            escalated["q"] = question
            escalated["Q"] = question.uppercased()
            return .say(fill(pick(level), escalated))
        }
        return nextGoalOrEnd()
    }

    // MARK: Requests

    private mutating func nextGoalOrEnd() -> Move {
        guard !goals.isEmpty else { return end() }
        let goal = goals.removeFirst()
        current = goal
        attempts = 1
        if goal == .outOfScope {
            outOfScopeTheme = rng.below(CorpusPhrases.outOfScope.count)
            outOfScopeLeft = rng.weighted([(0, 3), (1, 4), (2, 3)])
            return say(CorpusPhrases.outOfScope[outOfScopeTheme!], noisy: true)
        }
        let text = fill(opener(goal))
        if goal.isRepeatable { question = text }
        return .say(goal == .greeting || goal == .help ? text : noise(text))
    }

    /// The words for a request (a template, filled by the caller).
    private mutating func opener(_ goal: Goal) -> String {
        switch goal {
        case .balance: return pick(CorpusPhrases.balance)
        case .statement: return pick(CorpusPhrases.statement)
        case .chargeQuestion:
            values["amount"] = catalog.chargeAmount(persona.account)
            return pick(CorpusPhrases.chargeQuestion)
        case .dispute:
            if catalog.hasUnorderedCharge(persona.account) { return pick(CorpusPhrases.ringtoneDispute) }
            return pick(CorpusPhrases.dispute)
        case .payment: return pick(CorpusPhrases.payment)
        case .invoice: return pick(CorpusPhrases.invoice)
        case .planCurrent: return pick(CorpusPhrases.planCurrent)
        case .planChange:
            choosePlan()
            return rng.chance(0.6) ? pick(CorpusPhrases.planChangeNamed) : pick(CorpusPhrases.planChange)
        case .planRecommend: return pick(CorpusPhrases.planRecommend)
        case .usage: return pick(CorpusPhrases.usage)
        case .addonSubscribe:
            let code = addonCode ?? rng.weighted([("data_10g", 7), ("video_ringtone", 3)])
            addonCode = code
            if rng.chance(0.75), let phrases = CorpusPhrases.addonSubscribe[code] { return pick(phrases) }
            return pick(CorpusPhrases.addonGeneric)
        case .addonUnsubscribe:
            let code = addonCode ?? persona.account.account.addons.first ?? rng.pick(["data_10g", "video_ringtone"])
            addonCode = code
            return pick(CorpusPhrases.addonUnsubscribe[code]!)
        case .faultReport(let type):
            faultType = type
            if isRepeat, let again = CorpusPhrases.faultsAgain[type] { return pick(again) }
            return rng.chance(0.8) ? pick(CorpusPhrases.faults[type]!) : pick(CorpusPhrases.faultGeneric)
        case .faultStatus: return pick(CorpusPhrases.faultStatus)
        case .complaint:
            if isRepeat { return pick(CorpusPhrases.complaintAgain) }
            if rng.chance(0.25) {
                let text = complaintText()
                return persona.voice.language == .en ? "I want to make a complaint: " + text : "我要投诉，" + text
            }
            return pick(CorpusPhrases.complaintOpener)
        case .accountCancel: return pick(CorpusPhrases.accountCancel)
        case .privacy: return pick(CorpusPhrases.privacy)
        case .person: return pick(CorpusPhrases.human)
        case .outOfScope: return pick(CorpusPhrases.outOfScope[outOfScopeTheme ?? 0])
        case .elderlySelf: return pick(CorpusPhrases.elderlySelf)
        case .elderlyRequest: return pick(CorpusPhrases.elderlyRequest)
        case .greeting: return pick(CorpusPhrases.greeting)
        case .help: return pick(CorpusPhrases.help)
        }
    }

    private mutating func choosePlan() {
        guard planCode == nil else { return }
        let current = persona.account.account.planCode
        let others = catalog.plans.filter { $0.code != current }
        // Mostly a plan they may take; now and then the one they have, or one for another age group.
        let plan = rng.chance(0.06) ? (catalog.plans.first { $0.code == current } ?? others[0]) : rng.pick(others)
        planCode = plan.code
        values["fee"] = CorpusCatalog.yuan(plan.monthlyFee)
        let names =
            persona.voice.language == .en
            ? [plan.name[.en] ?? plan.code, "the \(CorpusCatalog.yuan(plan.monthlyFee)) plan"]
            : [plan.name[.zh] ?? plan.code, "\(CorpusCatalog.yuan(plan.monthlyFee))元套餐"]
        values["plan"] = rng.pick(names)
    }

    private mutating func complaintText() -> String {
        let theme = rng.below(CorpusPhrases.complaints.count)
        return fill(pick(CorpusPhrases.complaints[theme]))
    }

    // MARK: Answers

    private mutating func answer(_ awaiting: Session.Awaiting, in session: Session) -> Move {
        switch awaiting {
        case .phone:
            phoneAttempts += 1
            switch verification {
            case .givesUp:
                let choice = rng.weighted([(0, 2), (1, 1), (2, 1)])
                if choice == 0 { return say(CorpusPhrases.giveUpIdentity) }
                if choice == 1 { return .leave }
                return say(CorpusPhrases.human)
            case .together where phoneAttempts == 1:
                return say(CorpusPhrases.phoneAndPIN)
            case .unknownNumberFirst where phoneAttempts == 1:
                var unknown = values
                unknown["phone"] = catalog.unknownNumber(&rng)
                return .say(fill(pick(CorpusPhrases.phone), unknown))
            default:
                return say(CorpusPhrases.phone)
            }
        case .pin:
            pinAttempts += 1
            if verification == .threeWrongPINs || (verification == .wrongPINFirst && pinAttempts == 1) {
                var wrong = values
                wrong["pin"] = catalog.wrongPIN(persona.account.pin, &rng)
                return .say(fill(pick(CorpusPhrases.pin), wrong))
            }
            return say(CorpusPhrases.pin)
        case .confirmation:
            confirmations += 1
            return confirm(session.flow?.intent)
        case .slot(let name):
            // Now and then a quick question in the middle of a flow (the bot answers it and resumes).
            // (Not where any text is taken as the answer: a complaint would swallow it.)
            if session.customer != nil, ["plan", "addon", "fault_type"].contains(name.rawValue), rng.chance(0.05) {
                return say(CorpusPhrases.balance)
            }
            return slot(name)
        }
    }

    private mutating func confirm(_ intent: IntentID?) -> Move {
        let again = confirmations > 1
        switch intent?.rawValue {
        case "plan.change":
            let choice = again ? rng.weighted([(0, 7), (1, 3)]) : rng.weighted([(0, 60), (1, 20), (2, 10), (3, 10)])
            return say([CorpusPhrases.yes, CorpusPhrases.no, CorpusPhrases.never, CorpusPhrases.unsure][choice])
        case "addon.subscribe":
            let choice = again ? 0 : rng.weighted([(0, 65), (1, 20), (2, 15)])
            return say([CorpusPhrases.yes, CorpusPhrases.no, CorpusPhrases.never][choice])
        case "addon.unsubscribe":
            return rng.chance(0.85) ? say(CorpusPhrases.yes) : say(CorpusPhrases.no)
        case "privacy.concern":
            return rng.chance(0.35) ? say(CorpusPhrases.yes) : say(CorpusPhrases.no)
        default:
            return say(CorpusPhrases.yes)
        }
    }

    private mutating func slot(_ name: SlotName) -> Move {
        switch name.rawValue {
        case "plan":
            choosePlan()
            return say(CorpusPhrases.planChoice)
        case "usage":
            return say(CorpusPhrases.usageAnswer)
        case "addon":
            let code = addonCode ?? "data_10g"
            return say(CorpusPhrases.addonChoice[code] ?? CorpusPhrases.dontKnow)
        case "fault_type":
            let type = faultType ?? rng.pick(CorpusCatalog.faultTypes)
            faultType = type
            return say(CorpusPhrases.faults[type]!)
        case "place":
            return say(CorpusPhrases.place)
        case "since":
            return say(CorpusPhrases.since)
        case "complaint":
            return .say(complaintText())
        case "amount":
            values["amount"] = catalog.disputeAmount(persona.account, &rng)
            return say(CorpusPhrases.disputeAmount)
        default:
            return say(CorpusPhrases.dontKnow)
        }
    }

    /// A person offered (the customer is frustrated, elderly, or the bot could not help).
    private mutating func answerOfferOfAPerson() -> Move? {
        if twist == .frustration, rng.chance(0.45) { return say(CorpusPhrases.yes) }
        if persona.elderly {
            let choice = rng.weighted([(0, 35), (1, 30), (2, 35)])
            if choice == 0 { return say(CorpusPhrases.elderlyPerson) }
            if choice == 1 { return say(CorpusPhrases.elderlyConfused) }
            if goals.isEmpty { goals.append(rng.pick([.balance, .payment, .usage])) }
        }
        return nil
    }

    /// In the human queue: a call-back answered, a question or two while waiting, then gone.
    private mutating func whileWaiting(_ keys: [String], _ session: Session) -> Move {
        if keys.contains("callback_ask_phone") { return say(CorpusPhrases.phone) }
        if session.callbackOffered && !session.callbackBooked && !callbackAnswered {
            callbackAnswered = true
            let choice = rng.weighted([(0, 5), (1, 3), (2, 2)])
            if choice == 0 { return say(CorpusPhrases.yes) }
            if choice == 1 { return say(CorpusPhrases.no) }
        }
        if waitingLeft > 0 {
            waitingLeft -= 1
            return say(CorpusPhrases.waiting)
        }
        return .leave
    }

    private mutating func end() -> Move {
        switch ending {
        case .thanks, .thanksGoodbye:
            if !thanked {
                thanked = true
                return say(persona.elderly && rng.chance(0.5) ? CorpusPhrases.elderlyThanks : CorpusPhrases.thanks)
            }
            return ending == .thanks ? .leave : say(CorpusPhrases.goodbye)
        case .goodbye:
            return say(CorpusPhrases.goodbye)
        case .leave:
            return .leave
        case .silent:
            return .fallSilent
        case .person:
            if !thanked {
                thanked = true
                return say(persona.elderly ? CorpusPhrases.elderlyPerson : CorpusPhrases.human)
            }
            return .leave
        }
    }

    // MARK: Words

    private mutating func say(_ phrases: PhraseList, noisy: Bool = false) -> Move {
        let text = fill(pick(phrases))
        return .say(noisy ? noise(text) : text)
    }

    /// A phrase in the customer's voice: a dialect speaker uses their dialect's words where there
    /// are some, mostly.
    private mutating func pick(_ phrases: PhraseList) -> String {
        if persona.voice.isDialect, let own = phrases.dialects[persona.voice], !own.isEmpty, rng.chance(0.9) {
            return rng.pick(own)
        }
        return rng.pick(persona.voice.language == .en ? phrases.en : phrases.zh)
    }

    private mutating func fill(_ template: String) -> String { fill(template, values) }

    /// Replaces each `{name}` with the session's value, or a filler (`nameEn` first for English).
    private mutating func fill(_ template: String, _ values: [String: String]) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            if let value = values[name] {
                out += value
            } else if persona.voice.language == .en, let list = CorpusPhrases.fillers[name + "En"] {
                out += rng.pick(list)
            } else if let list = CorpusPhrases.fillers[name] {
                out += rng.pick(list)
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// What people add when they type: greetings and fillers, dropped or doubled punctuation,
    /// lower case, a slipped letter.
    private mutating func noise(_ text: String) -> String {
        var text = text
        if persona.voice.language == .en {
            if rng.chance(0.25), let first = text.first { text = first.lowercased() + text.dropFirst() }
            if rng.chance(0.15), text.last == "?" || text.last == "." { text.removeLast() }
            if rng.chance(0.06) {
                text = text.replacingOccurrences(of: "what's", with: "whats").replacingOccurrences(
                    of: "I'd", with: "id")
            }
            if rng.chance(0.06) { text = typo(text) }
            if rng.chance(0.1) { text = rng.pick(CorpusPhrases.enOpeners) + text }
            if rng.chance(0.08), !text.hasSuffix("?") { text += rng.pick(CorpusPhrases.enEndings) }
        } else {
            if rng.chance(0.2) { text = rng.pick(CorpusPhrases.zhOpeners) + text }
            if rng.chance(0.25), let last = text.unicodeScalars.last, !"？！。?!".unicodeScalars.contains(last) {
                text += rng.pick(CorpusPhrases.zhEndings)
            }
            if rng.chance(0.1) { text = text.replacingOccurrences(of: "，", with: rng.chance(0.5) ? " " : ",") }
        }
        return text
    }

    /// Two neighbouring letters swapped inside a longer word (the commonest typo).
    private mutating func typo(_ text: String) -> String {
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let long = words.indices.filter { words[$0].count >= 5 && words[$0].allSatisfy(\.isLetter) }
        guard !long.isEmpty else { return text }
        let w = rng.pick(long)
        var letters = Array(words[w])
        let i = 1 + rng.below(letters.count - 2)
        letters.swapAt(i, i + 1)
        words[w] = String(letters)
        return words.joined(separator: " ")
    }
}
