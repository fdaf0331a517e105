import Foundation

/// Steps a `Session` through one customer message: understands it, moves the flow on, and returns
/// what to say and do. Flows, sentences and policy are data (`flows.yaml`, `responses.yaml`); this
/// type holds only the mechanisms. Account data is read and changed through `OperatorData`, so the
/// same steps run against SQLite in `chat` and against an in-memory copy in tests and replay; the
/// clock comes in with each message.
public final class DialogueEngine: Sendable {
    public let rules: RuleSet
    let calendar: Calendar

    /// Intents that steer the conversation rather than ask for a service.
    static let control: Set<IntentID> = ["greeting", "goodbye", "thanks", "affirm", "deny", "cancel", "help"]

    /// The policies a turn reads, held here so a turn does not copy them out of the rule set.
    let cuePolicy: SessionCuePolicy
    let handoffPolicy: HandoffPolicy
    /// The reason that ends each intent's flow with a person (handoff policy, `after_bot`).
    let afterBot: [IntentID: HandoffReason]
    /// Cue labels that speak of frustration (not of age): the frustration trail lists only these.
    let frustrationSignals: Set<String>
    /// True when only the course of the conversation matters (replay): a reply is its response
    /// key, not its filled-in template (which a replayed turn would otherwise spend a third of its
    /// time on), and the rules that fired are not written down for a packet nobody reads.
    public let quiet: Bool

    public init(rules: RuleSet, quiet: Bool = false) {
        self.rules = rules
        self.quiet = quiet
        cuePolicy = rules.dialogue.sessionCues
        handoffPolicy = rules.dialogue.handoff
        afterBot = rules.dialogue.handoff.afterBotReasons
        frustrationSignals = Set(["repeated_punctuation", "shouting", "repetition"]
            + rules.cueGroups.filter { $0.kind == .frustration }.map(\.label))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        self.calendar = calendar
    }

    var dialogue: DialogueData { rules.dialogue }

    // MARK: - Turns

    /// The bot's opening: a greeting, and a person offered at once to a customer aged 65 or more.
    /// The effects are put in `effects` (emptied first), which a conversation keeps from turn to
    /// turn: a list made for each turn cost two allocations a turn.
    func start(_ session: inout Session, data store: any OperatorData, into effects: EffectList) {
        effects.removeAll()
        withUnsafeMutablePointer(to: &session) { session in
            var turn = Turn(engine: self, session: session, effects: effects)
            defer { turn.finish() }
            turn.open(data: store)
        }
    }

    /// One customer message: what was understood; the effects are put in `effects`, as in `start`.
    func handle(_ session: inout Session, _ text: String, at now: Date, classifier: Classifier,
                data store: any OperatorData, into effects: EffectList) -> Classification
    {
        effects.removeAll()
        // "13800000001 123456" answers both questions at once, so a PIN is expected from the phone question on.
        let expectsPIN = session.flow?.awaiting == .pin || session.flow?.awaiting == .phone
        let understood = classifier.classify(text, context: ClassificationContext(expectsPIN: expectsPIN))
        withUnsafeMutablePointer(to: &session) { session in
            var turn = Turn(engine: self, session: session, effects: effects)
            turn.now = now
            turn.store = store
            turn.classifier = classifier
            turn.run(understood, raw: text)
            turn.finish()
        }
        return understood
    }

    /// Renders response `key` for a session (its language and mode), `{name}` placeholders filled.
    public func render(_ key: String, _ values: [String: String], for session: Session) -> String {
        guard !quiet, let template = dialogue.responses[key] else { return key }
        return ResponseTemplate.fill(template.template(session.language, simple: session.simpleMode), values)
    }

    // MARK: - Formatting

    func money(_ cents: Cents) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        return "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
    }

    func gigabytes(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// 12月1日 / 1 Dec, in the operator's time zone.
    func day(_ date: Date, _ language: Language) -> String {
        let d = calendar.dateComponents([.month, .day], from: date)
        switch language {
        case .zh: return "\(d.month ?? 1)月\(d.day ?? 1)日"
        case .en: return "\(d.day ?? 1) \(Self.monthNames[(d.month ?? 1) - 1])"
        }
    }

    /// 12月1日 18:00 / 1 Dec 18:00.
    func dayAndTime(_ date: Date, _ language: Language) -> String {
        let d = calendar.dateComponents([.hour, .minute], from: date)
        let hour = d.hour ?? 0
        let minute = d.minute ?? 0
        return "\(day(date, language)) \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }

    /// `2026-10` → 10月 / October.
    func monthName(_ month: String, _ language: Language) -> String {
        let number = Int(month.split(separator: "-").last ?? "") ?? 1
        switch language {
        case .zh: return "\(number)月"
        case .en: return Self.longMonthNames[max(0, min(11, number - 1))]
        }
    }

    /// The first day of next month: when plan changes take effect.
    func nextBillingCycle(after now: Date) -> Date {
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: now)) ?? now
        return calendar.date(byAdding: .month, value: 1, to: start) ?? now
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let longMonthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"]
}

/// What a turn says and does, in order. A reference, so that saying something does not change
/// the turn itself: the values of a reply can then be worked out only when it is rendered. A
/// conversation keeps one and the engine empties it at the start of each turn.
final class EffectList {
    var items: [Effect] = []
    /// Notes of the dialogue rules that fired (`Turn.fired`).
    var fired: [String] = []

    func removeAll() {
        items.removeAll(keepingCapacity: true)
        fired.removeAll(keepingCapacity: true)
    }
}

/// One turn in progress: the session being changed and the effects gathered.
struct Turn {
    let engine: DialogueEngine
    /// The conversation's session, changed in place for the length of the turn. (Moving the
    /// 680-byte session into a turn and back, around a blank one made to hold its place, cost a
    /// replayed turn about a third of its dialogue step; a copy would retain every member and
    /// copy each array at its first append.)
    private let place: UnsafeMutablePointer<Session>
    var session: Session {
        unsafeAddress { UnsafePointer(place) }
        nonmutating unsafeMutableAddress { place }
    }
    let effects: EffectList
    var now = Date(timeIntervalSince1970: 0)
    var store: (any OperatorData)?
    var classifier: Classifier?
    /// What this turn adds to the session's frustration, and why.
    var turnFrustration = 0.0
    var turnSignals: [String] = []
    var pendingSecond: (FlowDefinition, Classification)? {
        get { session.pendingSecond.map { ($0.definition, $0.classification) } }
        set { session.pendingSecond = newValue.map { Session.PendingQuestion(definition: $0.0, classification: $0.1) } }
    }

    /// `session` must stay where it is, untouched by anything else, until the turn is done.
    init(engine: DialogueEngine, session: UnsafeMutablePointer<Session>, effects: EffectList) {
        self.engine = engine
        self.place = session
        self.effects = effects
    }

    /// The bot's opening (`DialogueEngine.start`).
    mutating func open(data store: any OperatorData) {
        if let phone = session.customer, let account = store.account(phone: phone) {
            session.language = account.language
            if account.age >= engine.dialogue.policy.offerPersonFromAge {
                session.simpleMode = true
                session.elderly = true
                session.offeredPerson = true
                say("elderly_offer")
                return
            }
        }
        say("greeting")
    }

    var rules: RuleSet { engine.rules }
    var policy: DialoguePolicy { engine.dialogue.policy }
    var language: Language { session.language }

    // MARK: Saying things

    /// Renders response `key` with `{name}` placeholders filled, in the session's language and mode.
    /// (The values are worked out only when the reply is rendered, which a quiet engine never does.)
    func say(_ key: String, _ values: @autoclosure () -> [String: String] = [:]) {
        effects.items.append(.reply(text: render(key, values()), key: key))
    }

    func render(_ key: String, _ values: @autoclosure () -> [String: String] = [:]) -> String {
        engine.quiet ? key : engine.render(key, values(), for: session)
    }

    var cuePolicy: SessionCuePolicy { engine.cuePolicy }
    var handoffPolicy: HandoffPolicy { engine.handoffPolicy }
    var frustrated: Bool { session.frustration >= cuePolicy.threshold }

    /// The score moved: the session's flag follows it (transcripts and packets read the flag).
    mutating func frustrationChanged() {
        session.frustrated = frustrated
    }

    /// Hands the conversation to a person: the reasons, priority and skills come from the handoff
    /// policy. What the customer is told comes after the queue has the ticket (`Conversation`).
    mutating func handOff(_ reasons: [HandoffReason]) {
        var all = reasons
        if session.elderly && !all.contains(.elderlyAssist) { all.append(.elderlyAssist) }
        // Wanting to leave is what a retention handoff is about: it is not counted as frustration too.
        // Frustrated now, or a turn or two ago (a calm "yes" to the offer of a person lets the score fade).
        let recently = frustrated || session.cueTrail.suffix(2).contains { $0.frustration >= cuePolicy.threshold }
        if recently && !all.contains(.frustration) && !all.contains(.retention) { all.append(.frustration) }
        session.handoffReasons = all.map(\.rawValue)
        session.handedOff = true
        session.flowAtHandoff = session.flow
        session.flow = nil
        session.offer = nil
        session.priority = handoffPolicy.priority(all, elderly: session.elderly, frustrated: frustrated,
                                                  repeatComplaint: session.repeatComplaint)
        session.skills = handoffPolicy.skills(language: session.language, dialect: session.dialect, intents: session.intents,
                                              reasons: all)
        fired("handoff: \(all.map(\.rawValue).joined(separator: ", ")) → priority \(session.priority)")
        effects.items.append(.handOff)
    }

    /// Notes a dialogue rule that fired, for the handoff packet: gathered with the turn's effects
    /// and added to the session when the turn is done. (The note is written only when kept: a
    /// quiet engine's turns built each one only to drop it.)
    func fired(_ rule: @autoclosure () -> String) {
        guard !engine.quiet else { return }
        effects.fired.append("turn \(session.turns): \(rule())")
    }

    /// The turn is over: the rules that fired join the session's.
    mutating func finish() {
        guard !effects.fired.isEmpty else { return }
        session.rulesFired += effects.fired
        Session.keepRecent(&session.rulesFired)
    }

    /// A turn the bot could not use. An elderly customer is offered a person at the first sign of
    /// confusion and handed to one at the second; anyone else gets a person on the third in a row.
    /// Returns true when the conversation was handed off.
    mutating func confused() -> Bool {
        session.fallbacks += 1
        session.lastTurnWasFallback = true
        if session.failedTurns.last != session.turns {
            session.failedTurns.append(session.turns)
            Session.keepRecent(&session.failedTurns)
        }
        if session.fallbacks >= 2 {
            turnSignals.append("fallback_streak")
            session.frustration = min(1, session.frustration + cuePolicy.fallbackStreak)
            frustrationChanged()
        }
        if session.elderly {
            session.elderlyConfusions += 1
            let mode = handoffPolicy.mode(.elderlyAssist)
            if mode == .atOnce || session.elderlyConfusions >= cuePolicy.elderlyHandoffConfusions {
                fired("elderly confused \(session.elderlyConfusions)×: hand off")
                handOff([.elderlyAssist])
                return true
            }
        }
        if session.fallbacks >= 3 {
            fired("not understood 3× in a row: hand off")
            handOff([.repeatedFallback])
            return true
        }
        return false
    }

    // MARK: The turn

    mutating func run(_ c: Classification, raw: String) {
        guard !session.ended else { return }
        session.turns += 1
        updateCues(c, raw: raw)
        defer { recordCues() }
        // Waiting for a person: `Conversation` answers from the queue.
        if session.handedOff { return }
        // (A weak "a person" read into an elderly customer's words about themselves is not a request.)
        let asksForPerson = c.intent == "human.request" && !(c.cues.elderly && c.confidence < cuePolicy.elderlyRequestConfidence)
        if asksForPerson || (session.simpleMode && isHumanShortcut(raw)) {
            remember("human.request")
            session.offer = nil
            handOff([.customerRequest])
            return
        }
        // An offer made in the last reply ("shall I register a dispute?", "shall I get you a person?")
        // holds for one turn.
        let offer = session.offer
        session.offer = nil
        let choices = session.choices
        session.choices = []
        if offer == "human.request", c.intent == "affirm" {
            understood()
            remember("human.request")
            handOff([.customerRequest])
            return
        }
        // Frustration past the hand-off mark with nothing the bot can answer (venting, a message
        // it cannot read): a person takes over now. A clear question is answered first.
        let serviceable = engine.dialogue.flows[c.intent] != nil || session.flow?.awaiting != nil
        let offeredBefore = session.frustrationOffered
        if session.frustration >= cuePolicy.handoffAt, !serviceable {
            fired("frustration \(DialogueEngine.score(session.frustration)) ≥ \(DialogueEngine.score(cuePolicy.handoffAt)): hand off")
            handOff([.frustration])
            return
        }
        if session.flow?.awaiting == nil, let picked = picked(from: choices, c), let definition = engine.dialogue.flows[picked] {
            // "The first one" after "your balance, or a charge?".
            understood()
            remember(picked)
            fired("picked \(picked.rawValue) from the offered guesses")
            start(definition, c)
        } else if let flow = session.flow, let awaiting = flow.awaiting {
            continueFlow(flow, awaiting: awaiting, c, raw: raw)
        } else if c.cues.elderly, c.confidence < cuePolicy.elderlyRequestConfidence, !DialogueEngine.control.contains(c.intent) {
            // "I'm 76 and my grandson set this phone up": about the person, not a request, however
            // it half-resembles one. Plain words: what the bot can do, and a person on offer.
            understood()
            remember("help")
            // Saying the phone is too hard is the first sign of confusion: the next one brings a person.
            session.elderlyConfusions += 1
            fired("elderly cues with no clear request (\(c.intent.rawValue) \(DialogueEngine.score(c.confidence))): say what the bot can do")
            say("elderly_help")
            session.offer = "human.request"
        } else if let offer, c.intent == "affirm", let definition = engine.dialogue.flows[offer] {
            understood()
            remember(c.intent)
            start(definition, c)
        } else {
            route(c, raw: raw)
        }
        guard !session.handedOff && !session.ended else { return }
        if session.frustration >= cuePolicy.handoffAt && (offeredBefore || session.lastTurnWasFallback) {
            // Answered, and still past the mark after a person was offered: one takes over.
            fired("frustration \(DialogueEngine.score(session.frustration)) ≥ \(DialogueEngine.score(cuePolicy.handoffAt)) after the offer: hand off")
            handOff([.frustration])
            return
        }
        if frustrated && !session.frustrationOffered && handoffPolicy.mode(.frustration) != .atOnce
            && session.frustration >= cuePolicy.offerAt
        {
            // Plainer words from here on, and a person offered once.
            session.frustrationOffered = true
            session.simpleMode = true
            fired("frustration \(DialogueEngine.score(session.frustration)) ≥ \(DialogueEngine.score(cuePolicy.offerAt)): offer a person")
            say("frustration_offer")
            if session.offer == nil { session.offer = "human.request" }
        } else if frustrated && handoffPolicy.mode(.frustration) == .atOnce {
            fired("frustrated: hand off")
            handOff([.frustration])
        } else if session.simpleMode && !effects.items.contains(where: { if case .reply(_, let key) = $0 { key == "elderly_confused" || key == "elderly_help" } else { false } }) {
            say("simple_offer")
        }
    }

    /// "0" (or another shortcut) alone, in simple mode: a person. Shortcuts are short, so a
    /// longer message is not lowered to find out (lower case is at most a third shorter in UTF-8).
    func isHumanShortcut(_ raw: String) -> Bool {
        let trimmed = raw.trimmingSpaces()
        guard trimmed.utf8.count <= 3 * policy.humanShortcuts.reduce(0, { max($0, $1.utf8.count) }) else { return false }
        return policy.humanShortcuts.contains(trimmed.lowercased())
    }

    mutating func updateCues(_ c: Classification, raw: String) {
        // Answer in the customer's language: a message with words in it decides.
        // (Chinese characters or letters, full-width included: digits, emoji and punctuation alone do not decide.)
        if raw.unicodeScalars.contains(where: { u in
            let v = u.value
            return Scalar.isHan(v) || Scalar.isASCIILetter(v) || (0xFF21...0xFF3A).contains(v) || (0xFF41...0xFF5A).contains(v)
                || (v >= 0x80 && v < 0x2000 && u.properties.isAlphabetic)
        }) {
            session.language = c.language
        }
        turnFrustration = c.cues.frustration
        if c.cues.frustration > 0 { turnSignals = c.cues.signals.filter { engine.frustrationSignals.contains($0) } }
        if engine.afterBot[c.intent] == .retention {
            // "I want to port to another carrier" states the request; it is not anger.
            let leaving = turnSignals.filter { cuePolicy.leavingLabels.contains($0) }
            turnFrustration = max(0, turnFrustration - leaving.reduce(0) { $0 + engine.rules.cueWeight($1) })
            let labels = cuePolicy.leavingLabels
            turnSignals.removeAll { labels.contains($0) }
        }
        if turnSignals.contains(where: { cuePolicy.threatLabels.contains($0) }) {
            turnFrustration += cuePolicy.threat
            turnSignals.append("threat")
        }
        // The same request again soon after it was answered (nothing new in it): the answer did not help.
        if session.flow?.awaiting == nil, !session.handedOff, engine.dialogue.flows[c.intent]?.isOneShot == true,
            session.intents.suffix(cuePolicy.repeatWindow).contains(c.intent),
            c.slots.allSatisfy({ $0.name == .pin || session.slots[$0.name] == $0.value })
        {
            turnFrustration += cuePolicy.repeatedQuestion
            turnSignals.append("repeated_question")
        }
        // A turn with a signal adds to the score; a calm turn lets it fade.
        if turnFrustration > 0 {
            session.frustration = min(1, session.frustration + turnFrustration)
        } else {
            session.frustration *= cuePolicy.decay
            if session.frustration < 0.005 { session.frustration = 0 }
        }
        frustrationChanged()
        if c.cues.elderly && !session.elderly {
            session.elderly = true
            session.simpleMode = true
            fired("elderly cues (\(c.cues.signals.joined(separator: ", "))): simple mode")
        }
        if let dialect = c.cues.dialect { session.dialect = dialect }
        for (name, value) in c.slots where name != .pin { session.slots[name] = value }
    }

    /// Records the turn's step of the frustration trail.
    mutating func recordCues() {
        session.cueTrail.append(CueStep(turn: session.turns, frustration: (session.frustration * 1000).rounded() / 1000,
                                        signals: turnSignals))
        Session.keepRecent(&session.cueTrail)
    }

    mutating func remember(_ intent: IntentID) {
        session.intents.append(intent)
    }

    // MARK: Routing a fresh request

    mutating func route(_ c: Classification, raw: String) {
        let intent = c.intent
        if let customer = session.customer, let other = c.slots[.phone], other != customer,
            engine.dialogue.flows[intent]?.identity == true
        {
            // Only the verified account is ever shown; say so rather than answer for the wrong line.
            understood()
            remember(intent)
            say("other_number")
            return
        }
        if let flow = engine.dialogue.flows[intent] {
            understood()
            remember(intent)
            // Two questions joined in one message ("查话费顺便看看流量"): each part is understood on
            // its own, and when they ask for two different answers, both are given.
            if flow.isOneShot, let (first, second) = split(raw), first.intent != second.intent,
                let firstFlow = engine.dialogue.flows[first.intent], firstFlow.isOneShot,
                let secondFlow = engine.dialogue.flows[second.intent], secondFlow.isOneShot
            {
                session.intents.removeLast()
                remember(first.intent)
                start(firstFlow, first)
                pendingSecond = (secondFlow, second)
                if session.flow == nil && !session.handedOff { serveSecond() }
                return
            }
            start(flow, c)
            return
        }
        switch intent.rawValue {
        case "greeting":
            understood()
            remember(intent)
            say("greeting")
        case "help":
            understood()
            remember(intent)
            say("help")
        case "thanks":
            understood()
            remember(intent)
            say("thanks")
        case "goodbye":
            understood()
            remember(intent)
            say("goodbye")
            session.ended = true
            effects.items.append(.end)
        case "cancel":
            understood()
            remember(intent)
            say("nothing_to_cancel")
        case "affirm", "deny":
            understood()
            remember(intent)
            say("ok")
        default:
            // "What about September?" right after a bill: the same question for another month.
            if session.intents.last == "billing.statement", c.slots[.month] != nil || c.slots[.relativeMonth] != nil,
                let statement = engine.dialogue.flows["billing.statement"]
            {
                understood()
                remember("billing.statement")
                start(statement, c)
                return
            }
            fallback(c)
        }
    }

    /// Whether `text` contains (or, `atStart`, begins with) one of `words`, ASCII letters compared
    /// without case: a byte search, as this runs on most turns.
    static func mentions(_ text: String, _ words: [String], atStart: Bool = false) -> Bool {
        ByteSearch.mentions(text, words, atStart: atStart)
    }

    /// The message cut at the first joining word, each side understood alone; nil when it has none.
    func split(_ raw: String) -> (Classification, Classification)? {
        guard let classifier else { return nil }
        // Byte search: Foundation's range(of:) per joiner cost more than classifying the message.
        // (Joiners are lower case; "AND" between two questions is rare.)
        var raw = raw
        for joiner in policy.joiners {
            guard let (left, right) = raw.withUTF8({ bytes -> (String, String)? in
                guard let at = ByteSearch.find(joiner, in: bytes), bytes.count > joiner.utf8.count else { return nil }
                return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<at]), as: UTF8.self).trimmingSpaces(),
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[(at + joiner.utf8.count)...]), as: UTF8.self).trimmingSpaces())
            }) else { continue }
            guard !left.isEmpty, !right.isEmpty else { continue }
            var b = classifier.classify(right)
            // "check my balance and my data": the second part borrows the first part's verb.
            if engine.dialogue.flows[b.intent]?.isOneShot != true, let verb = left.split(separator: " ").first,
                left.contains(" ")
            {
                let borrowed = classifier.classify(verb + " " + right)
                if engine.dialogue.flows[borrowed.intent]?.isOneShot == true { b = borrowed }
            }
            guard b.confidence >= rules.scoring.confidenceFloor, b.intent != .outOfScope,
                engine.dialogue.flows[b.intent]?.isOneShot == true
            else { return nil }
            // The first part is read only when the second asks for a different answer.
            let a = classifier.classify(left)
            guard a.confidence >= rules.scoring.confidenceFloor, a.intent != .outOfScope else { return nil }
            return (a, b)
        }
        return nil
    }

    /// The second question of a two-question message, once the first is answered (after
    /// verification, when the first needed it).
    mutating func serveSecond() {
        guard let (definition, c) = pendingSecond else { return }
        pendingSecond = nil
        remember(definition.intent)
        start(definition, c)
    }

    mutating func understood() {
        session.fallbacks = 0
        session.lastTurnWasFallback = false
    }

    /// Rephrase → the two best guesses (or a menu) → a person. An elderly customer is offered a
    /// person at once instead of guesses.
    mutating func fallback(_ c: Classification) {
        if confused() { return }
        if session.elderly {
            fired("elderly confused once: offer a person")
            say("elderly_confused")
            session.offer = "human.request"
            return
        }
        switch session.fallbacks {
        case 1:
            say("fallback_rephrase")
        default:
            // A message plainly about something else (the weather) gets the menu, not weak guesses.
            let plainlyElse = c.intent == .outOfScope && c.candidates.first?.intent == .outOfScope
            let guesses = plainlyElse ? [] : c.candidates.filter { $0.intent != .outOfScope && $0.confidence >= 0.2 }
                .filter { engine.dialogue.flows[$0.intent] != nil }
            if guesses.count >= 2 {
                say("fallback_choose", ["first": intentName(guesses[0].intent), "second": intentName(guesses[1].intent)])
                session.choices = [guesses[0].intent, guesses[1].intent]
            } else {
                say("fallback_menu")
            }
        }
    }

    func intentName(_ intent: IntentID) -> String {
        render("intent." + intent.rawValue)
    }

    // MARK: Flows

    mutating func start(_ definition: FlowDefinition, _ c: Classification) {
        var flow = Session.ActiveFlow(intent: definition.intent, values: Slots(), awaiting: nil)
        for slot in definition.slots where !slot.freeText {
            if let value = c.slots[slot.name] { flow.values[slot.name] = value }
        }
        for name in [SlotName.amount, .month, .relativeMonth, .plan, .addon, .faultType, .ticket] {
            if let value = c.slots[name] { flow.values[name] = value }
        }
        flow.values["said"] = c.text
        for slot in definition.slots where slot.freeText {
            switch slot.name.rawValue {
            case "usage":
                let (data, voice) = parseUsage(c.text)
                if data > 0 || voice > 0 { flow.values[slot.name] = c.text }
            case "complaint":
                // A complaint told in full in the first message is not asked for again.
                let han = c.text.unicodeScalars.filter { Scalar.isHan($0.value) }.count
                let words = c.text.split(whereSeparator: { $0 == " " }).count
                if han >= 12 || words >= 9 { flow.values[slot.name] = c.text }
            case "place", "since":
                // Told up front ("地址是海淀区…", "从昨天晚上开始"): not asked for again.
                if let value = statedUpFront(slot.name.rawValue, in: c.text) { flow.values[slot.name] = value }
            default:
                break
            }
        }
        if let phone = c.slots[.phone], session.customer == nil { session.claimedPhone = phone }
        advance(flow, definition)
    }

    /// Which offered guess the message picks ("the first one", "第二个"), unless it plainly asks
    /// for something else.
    func picked(from choices: [IntentID], _ c: Classification) -> IntentID? {
        guard choices.count == 2, !(engine.dialogue.flows[c.intent] != nil && c.confidence >= 0.8) else { return nil }
        if Self.mentions(c.text, policy.firstChoiceWords) { return choices[0] }
        if Self.mentions(c.text, policy.secondChoiceWords) { return choices[1] }
        return nil
    }

    /// A place or a start time the first message already gives, found by the policy's words:
    /// the clause after an address marker, or the clause naming when it started.
    func statedUpFront(_ slot: String, in text: String) -> String? {
        // Most reports name neither: a byte search says so before any splitting.
        guard Self.mentions(text, slot == "place" ? policy.placeMarkers : policy.sinceWords) else { return nil }
        let clauses = text.split(whereSeparator: { "，,。.;；！!？?\n".contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch slot {
        case "place":
            for clause in clauses {
                let lower = clause.lowercased()
                for marker in policy.placeMarkers {
                    guard let range = lower.range(of: marker) else { continue }
                    let offset = lower.distance(from: lower.startIndex, to: range.upperBound)
                    let value = String(clause.dropFirst(offset)).trimmingCharacters(in: CharacterSet(charactersIn: " ：:是在"))
                    if value.count >= 2 { return value }
                }
            }
            return nil
        case "since":
            for clause in clauses where Self.mentions(clause, policy.sinceWords) {
                // "家里宽带从昨天晚上开始就连不上了" → 从昨天晚上开始; otherwise the clause itself.
                if let from = clause.range(of: "从"), let start = clause.range(of: "开始", range: from.upperBound..<clause.endIndex) {
                    return String(clause[from.lowerBound..<start.upperBound])
                }
                return clause
            }
            return nil
        default:
            return nil
        }
    }

    /// Asks for what is missing (identity, slots, confirmation), or acts.
    mutating func advance(_ flow: Session.ActiveFlow, _ definition: FlowDefinition) {
        var flow = flow
        if definition.identity && session.customer == nil {
            if session.claimedPhone != nil {
                flow.awaiting = .pin
                session.flow = flow
                say("ask_pin")
            } else {
                flow.awaiting = .phone
                session.flow = flow
                say("ask_phone")
            }
            return
        }
        // A fault that already has an open ticket: said at once, before any question about it.
        if definition.action == .repairTicket, let fault = flow.values[.faultType], let customer = session.customer,
            let open = store?.tickets(phone: customer).first(where: { $0.kind == .repair && $0.status == "open" && $0.faultType == fault })
        {
            session.flow = nil
            say("repair_exists", ["ticket": open.id, "due": engine.dayAndTime(open.dueAt, language)])
            return
        }
        if let missing = definition.slots.first(where: { flow.values[$0.name] == nil && needs($0, flow) }) {
            flow.awaiting = .slot(missing.name)
            session.flow = flow
            ask(missing, flow)
            return
        }
        if definition.confirm, flow.awaiting != .confirmation {
            session.flow = flow
            if disclose(definition, &flow) {
                flow.awaiting = .confirmation
                session.flow = flow
            }
            return
        }
        session.flow = nil
        act(definition, flow)
    }

    /// Whether a slot still has to be asked for (a plan recommendation for a verified customer
    /// reads usage from the account instead of asking).
    func needs(_ slot: FlowSlot, _ flow: Session.ActiveFlow) -> Bool {
        if slot.name == "usage" { return session.customer == nil }
        return true
    }

    mutating func ask(_ slot: FlowSlot, _ flow: Session.ActiveFlow) {
        switch slot.name {
        case .plan: say(slot.ask, ["plans": planList()])
        case .addon: say(slot.ask, ["addons": addonList()])
        default: say(slot.ask)
        }
    }

    mutating func continueFlow(_ flow: Session.ActiveFlow, awaiting: Session.Awaiting, _ c: Classification, raw: String) {
        guard let definition = engine.dialogue.flows[flow.intent] else {
            session.flow = nil
            route(c, raw: raw)
            return
        }
        let answersTheQuestion: Bool
        switch awaiting {
        case .phone: answersTheQuestion = c.slots[.phone] != nil
        case .pin: answersTheQuestion = c.slots[.pin] != nil || c.slots[.phone] != nil
        case .slot(let name): answersTheQuestion = c.slots[name] != nil
        case .confirmation: answersTheQuestion = false
        }
        if awaiting == .confirmation, c.intent == "cancel", definition.action == .unsubscribeAddon,
            Self.mentions(c.text, policy.yesPrefixes, atStart: true)
        {
            // "Yes, cancel it" to "shall I cancel the ringtone?" is a yes.
            understood()
            remember("affirm")
            session.flow = nil
            var next = flow
            next.awaiting = nil
            act(definition, next)
            return
        }
        if awaiting == .confirmation, Self.mentions(c.text, policy.unsureWords) {
            // "maybe": neither yes nor no; ask again.
            say("confirm_again")
            return
        }
        if awaiting == .confirmation && (c.intent == "goodbye" || c.intent == "thanks") {
            understood()
            remember(c.intent)
            session.flow = nil
            say(definition.action == .privacy ? "privacy_done" : "plan_change_cancelled")
            return
        }
        if !answersTheQuestion && (c.intent == "cancel" || (c.intent == "deny" && awaiting != .confirmation)) {
            understood()
            remember(c.intent)
            session.flow = nil
            session.claimedPhone = session.customer == nil ? nil : session.claimedPhone
            say("cancelled")
            return
        }
        switch awaiting {
        case .phone, .pin:
            identify(flow, definition, awaiting, c)
        case .slot(let name):
            let slot = definition.slots.first { $0.name == name }
            if name.rawValue == "usage", session.customer == nil, let phone = c.slots[.phone] {
                // "Use my account instead": verify, then recommend from the real usage.
                understood()
                session.claimedPhone = phone
                var next = flow
                next.awaiting = .pin
                session.flow = next
                say("ask_pin")
                return
            }
            // A place, a time, a complaint: whatever the customer says is the answer, unless it is
            // plainly another question (a balance check while giving the address).
            if slot?.freeText == true && name.rawValue != "usage" {
                if name.rawValue != "complaint" && c.confidence >= 0.9 && digression(c, flow: flow) { return }
                understood()
                var next = flow
                next.values[name] = raw.trimmingSpaces()
                next.awaiting = nil
                advance(next, definition)
                return
            }
            if let value = c.slots[name] {
                understood()
                var next = flow
                next.values[name] = value
                next.awaiting = nil
                advance(next, definition)
            } else if digression(c, flow: flow) {
                return
            } else if name.rawValue == "usage", parseUsage(raw) != (0, 0) {
                understood()
                var next = flow
                next.values[name] = raw.trimmingSpaces()
                next.awaiting = nil
                advance(next, definition)
            } else if slot == nil, name == .amount, let line = lineNamed(raw) {
                // "the roaming calls": the bill line the customer names.
                understood()
                var next = flow
                next.values[.amount] = String(Double(line.amount) / 100)
                next.awaiting = nil
                session.flow = nil
                act(definition, next)
            } else {
                if confused() { return }
                session.lastTurnWasFallback = false
                if let slot {
                    ask(slot, flow)
                } else {
                    // A question the action asked (which charge?): asked again.
                    session.flow = nil
                    act(definition, flow)
                }
            }
        case .confirmation:
            // "确认退订" restates the action: a yes, unless it is negated.
            let soundsLikeYes = c.intent != "deny" && c.intent != "cancel" && Self.mentions(c.text, policy.yesPrefixes, atStart: true)
            if c.intent == "affirm" || soundsLikeYes || (c.intent == flow.intent && !c.text.contains("不")) {
                understood()
                remember(c.intent)
                var next = flow
                next.awaiting = nil
                if next.values["confirmed"] != nil { next.values["confirmed"] = "yes" }
                session.flow = nil
                act(definition, next)
            } else if c.intent == "deny" {
                understood()
                remember(c.intent)
                session.flow = nil
                switch definition.action {
                case .privacy: say("privacy_done")
                case .dispute: say("dispute_declined")
                default: say("plan_change_cancelled")
                }
            } else if digression(c, flow: flow) {
                return
            } else {
                if confused() { return }
                session.lastTurnWasFallback = false
                say("confirm_again")
            }
        }
    }

    /// A question from another flow in the middle of this one: answered, then back to where we were.
    mutating func digression(_ c: Classification, flow: Session.ActiveFlow) -> Bool {
        guard c.intent != flow.intent, let other = engine.dialogue.flows[c.intent], other.isOneShot,
            !other.identity || session.customer != nil
        else { return false }
        understood()
        remember(c.intent)
        let saved = flow
        session.flow = nil
        start(other, c)
        session.flow = saved
        say("resume")
        if let definition = engine.dialogue.flows[saved.intent] {
            switch saved.awaiting {
            case .slot(let name):
                if let slot = definition.slots.first(where: { $0.name == name }) { ask(slot, saved) }
            case .confirmation:
                say("confirm_again")
            case .phone:
                say("ask_phone")
            case .pin:
                say("ask_pin")
            case nil:
                break
            }
        }
        return true
    }

    // MARK: Identity

    mutating func identify(_ flow: Session.ActiveFlow, _ definition: FlowDefinition, _ awaiting: Session.Awaiting,
                           _ c: Classification)
    {
        guard let store else { return }
        if let phone = c.slots[.phone] {
            understood()
            session.claimedPhone = phone
            var next = flow
            next.awaiting = .pin
            session.flow = next
            if let pin = c.slots[.pin] { return check(pin, next, definition, store) }
            say("ask_pin")
            return
        }
        if awaiting == .pin, let pin = c.slots[.pin] {
            understood()
            check(pin, flow, definition, store)
            return
        }
        if Self.mentions(c.text, policy.forgotPINWords) {
            understood()
            say("pin_forgotten")
            return
        }
        // "不知道" is no question of its own: the number is asked for again.
        if !Self.mentions(c.text, policy.dontKnowWords), digression(c, flow: flow) { return }
        if confused() { return }
        session.lastTurnWasFallback = false
        say(awaiting == .pin ? "ask_pin" : "ask_phone")
    }

    mutating func check(_ pin: String, _ flow: Session.ActiveFlow, _ definition: FlowDefinition, _ store: any OperatorData) {
        guard let phone = session.claimedPhone else { return }
        if store.verify(phone: phone, pin: pin) {
            session.customer = phone
            session.failedVerifications = 0
            if let account = store.account(phone: phone), account.age >= policy.offerPersonFromAge {
                session.elderly = true
                session.simpleMode = true
                session.offeredPerson = true
            }
            say("verified")
            var next = flow
            next.awaiting = nil
            advance(next, definition)
            if session.flow == nil && !session.handedOff { serveSecond() }
            return
        }
        session.failedVerifications += 1
        if session.failedVerifications >= policy.pinAttempts {
            fired("\(policy.pinAttempts) failed verifications: hand off")
            say("pin_locked", ["attempts": String(policy.pinAttempts)])
            handOff([.security])
            return
        }
        let unknown = store.account(phone: phone) == nil
        var next = flow
        next.awaiting = unknown ? .phone : .pin
        if unknown { session.claimedPhone = nil }
        session.flow = next
        say(unknown ? "phone_unknown" : "pin_wrong", ["left": String(policy.pinAttempts - session.failedVerifications)])
    }

    // MARK: Lists

    func planName(_ code: String) -> String {
        rules.plans.first { $0.code == code }?.name[language] ?? code
    }

    func addonName(_ code: String) -> String {
        rules.addons.first { $0.code == code }?.name[language] ?? code
    }

    func planList() -> String {
        rules.plans.map { "\($0.name[language] ?? $0.code) ¥\(engine.money(Cents($0.monthlyFee * 100)))" }
            .joined(separator: language == .zh ? "、" : ", ")
    }

    func addonList() -> String {
        rules.addons.map { "\($0.name[language] ?? $0.code) ¥\(engine.money(Cents($0.monthlyFee * 100)))" }
            .joined(separator: language == .zh ? "、" : ", ")
    }
}
