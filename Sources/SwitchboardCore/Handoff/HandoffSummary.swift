import Foundation

/// Builds the handoff packet and its ten-second summary. The summary's sentences are templates
/// (`handoff: summary:` in `intents/handoff.yaml`), so an operator words them without touching Swift.
public struct HandoffSummary {
    /// Template keys the summary uses; `check` reports any missing. Names of reasons (`reason.*`),
    /// ticket kinds (`ticket.*`), dialects (`dialect.*`), slots (`slot.*`) and completed actions
    /// (`done.*`) are optional: the id is shown when a name is missing.
    public static let requiredTemplates = [
        "headline", "who_verified", "who_unverified", "wants_none", "reasons", "done", "pending", "pending_confirm",
        "frustrated", "elderly", "dialect", "failed", "failed_pins", "open_tickets", "separator", "topic", "earlier",
    ] + HandoffReason.allCases.map { "reason." + $0.rawValue }

    /// At most this many open tickets are listed (newest first).
    static let openTicketsShown = 10

    let engine: DialogueEngine
    var templates: [String: [Language: String]] { engine.dialogue.summaryTemplates }

    public init(engine: DialogueEngine) { self.engine = engine }

    /// The packet for a session that has just been handed off. `events` is the masked transcript
    /// so far.
    /// Customer messages re-read with explanations for a packet (the most recent ones).
    public static let explainedTurns = 12

    /// A packet with what routing needs and nothing an agent would read: what replay queues.
    public static func bare(_ session: Session, at now: Date) -> HandoffPacket {
        HandoffPacket(version: HandoffPacket.currentVersion, ticket: "", session: session.id, channel: session.channel,
                      createdAt: TranscriptEvent.timestamp(now), reasons: session.handoffReasons, priority: session.priority,
                      skills: session.skills, language: session.language.rawValue, dialect: session.dialect?.rawValue,
                      elderly: session.elderly,
                      cues: .init(frustration: session.frustration, frustrated: session.frustrated, elderly: session.elderly,
                                  dialect: session.dialect?.rawValue),
                      frustrationTrail: [], intents: session.intents.map(\.rawValue), slots: [:], pending: nil, failedTurns: [],
                      rulesFired: [], customer: nil, openTickets: [], ticketsMade: [], summary: "", summaries: [:], transcript: [])
    }

    public func packet(session: Session, events: [TranscriptEvent], store: any OperatorData, classifier: Classifier,
                       at now: Date) -> HandoffPacket
    {
        let transcript = events.map(\.record)
        var customer: HandoffPacket.Customer?
        var openTickets: [HandoffPacket.TicketBrief] = []
        var made: [HandoffPacket.TicketBrief] = []
        let language = session.language
        if let phone = session.customer, let masked = session.maskedCustomer {
            let account = store.account(phone: phone)
            customer = HandoffPacket.Customer(
                phone: masked, verified: true, name: account.map { Self.maskName($0.name) },
                plan: account?.planCode, planName: account.flatMap { a in engine.rules.plans.first { $0.code == a.planCode }?.name[language] },
                balance: account.map { engine.money($0.balance) }, inArrears: account.map { $0.balance < 0 },
                seniorAccount: account.map { $0.age >= engine.dialogue.policy.offerPersonFromAge })
            func brief(_ ticket: Ticket) -> HandoffPacket.TicketBrief {
                HandoffPacket.TicketBrief(id: ticket.id, kind: ticket.kind.rawValue, status: ticket.status,
                                          summary: Masking.mask(ticket.summary), due: TranscriptEvent.timestamp(ticket.dueAt))
            }
            // Tickets come newest first: this conversation's own, then the most recent open ones.
            var mine = Set(session.ticketsMade)
            for ticket in store.tickets(phone: phone) {
                if mine.remove(ticket.id) != nil {
                    made.append(brief(ticket))
                } else if ticket.status == "open" && openTickets.count < Self.openTicketsShown {
                    openTickets.append(brief(ticket))
                }
                if mine.isEmpty && openTickets.count == Self.openTicketsShown { break }
            }
        } else if let claimed = session.claimedPhone {
            customer = HandoffPacket.Customer(phone: Masking.mask(claimed), verified: false)
        }
        var pending: HandoffPacket.Pending?
        if let flow = session.flowAtHandoff, let definition = engine.dialogue.flows[flow.intent] {
            var filled: [String: String] = [:]
            for (name, value) in flow.values where name.rawValue != "said" && name != .pin { filled[name.rawValue] = Masking.mask(value) }
            var missing = definition.slots.filter { flow.values[$0.name] == nil }.map(\.name.rawValue)
            if definition.identity && session.customer == nil { missing.insert("identity", at: 0) }
            let awaiting: String? = switch flow.awaiting {
            case .slot(let name): "ask_\(name.rawValue)"
            case .confirmation: "confirm"
            case .phone: "ask_phone"
            case .pin: "ask_pin"
            case nil: nil
            }
            pending = HandoffPacket.Pending(intent: flow.intent.rawValue, awaiting: awaiting, filled: filled, missing: missing)
        }
        // Turns the bot could not use, as the customer said them (masked), with how they were read.
        // The transcript may hold only the recent part of a long session: customer turn numbers
        // count back from the session's last turn.
        let customerTurns = transcript.filter { $0.role == "customer" }
        let firstTurn = session.turns - customerTurns.count + 1
        let failed = session.failedTurns.compactMap { turn -> HandoffPacket.FailedTurn? in
            guard turn >= firstTurn, turn <= session.turns, turn - firstTurn < customerTurns.count else { return nil }
            let line = customerTurns[turn - firstTurn]
            return HandoffPacket.FailedTurn(turn: turn, text: line.text ?? "", intent: line.intent ?? "", confidence: line.confidence ?? 0)
        }
        // Which rules read each recent message: classified again with explanations (only at a
        // handoff, and for the last `explainedTurns`: what an agent reads first).
        var fired: [String] = []
        let explained = customerTurns.suffix(Self.explainedTurns)
        for (offset, line) in explained.enumerated() {
            guard let text = line.text else { continue }
            let c = classifier.classify(text, explain: true)
            let hits = (c.explanation?.ruleHits ?? []).filter { $0.intent == c.intent }.prefix(3).map(\.rule)
            let cues = c.cues.signals
            var parts = ["\(c.intent.rawValue) \(DialogueEngine.score(c.confidence))"]
            if !hits.isEmpty { parts.append("rules: " + hits.joined(separator: ", ")) }
            if !cues.isEmpty { parts.append("cues: " + cues.joined(separator: ", ")) }
            if let d = c.cues.dialect { parts.append("dialect: \(d.rawValue)") }
            let turn = firstTurn + (customerTurns.count - explained.count) + offset
            fired.append("turn \(turn): " + parts.joined(separator: "; "))
        }
        fired += session.rulesFired
        let cues = HandoffPacket.Cues(frustration: (session.frustration * 1000).rounded() / 1000,
                                      frustrated: session.frustrated,
                                      elderly: session.elderly, dialect: session.dialect?.rawValue)
        var packet = HandoffPacket(
            version: HandoffPacket.currentVersion, ticket: "", session: session.id, channel: session.channel,
            createdAt: TranscriptEvent.timestamp(now), reasons: session.handoffReasons, priority: session.priority,
            skills: session.skills, language: language.rawValue, dialect: session.dialect?.rawValue, elderly: session.elderly,
            cues: cues, frustrationTrail: session.cueTrail, intents: session.intents.map(\.rawValue),
            slots: Dictionary(session.slots.entries.map { ($0.name.rawValue, Masking.mask($0.value)) }, uniquingKeysWith: { $1 }),
            pending: pending, failedTurns: failed, failedVerifications: session.failedVerifications, rulesFired: fired, customer: customer, openTickets: openTickets,
            ticketsMade: made, returnedTickets: session.returnedTickets, summary: "", summaries: [:], transcript: transcript)
        for l in Language.allCases { packet.summaries[l.rawValue] = summary(packet, in: l) }
        packet.summary = packet.summaries[language.rawValue] ?? ""
        return packet
    }

    /// A few short lines: who and what, why a person, what is done and what is not, how they are.
    public func summary(_ packet: HandoffPacket, in language: Language) -> String {
        func t(_ key: String, _ values: [String: String] = [:]) -> String {
            ResponseTemplate.fill(templates[key]?[language] ?? templates[key]?[.zh] ?? "", values)
        }
        func name(_ key: String, _ fallback: String) -> String {
            templates[key]?[language] ?? fallback
        }
        let separator = t("separator")
        var tags = ["P\(packet.priority)"]
        let service = packet.intents.filter {
            !DialogueEngine.control.contains(IntentID($0)) && $0 != "human.request" && $0 != IntentID.outOfScope.rawValue
        }
        var wants: [String] = []
        for intent in service where !wants.contains(intentName(intent, language)) { wants.append(intentName(intent, language)) }
        let who: String
        if let c = packet.customer, c.verified {
            let plan = engine.rules.plans.first { $0.code == c.plan }?.name[language] ?? c.planName ?? c.plan ?? ""
            who = t("who_verified", ["name": c.name ?? "", "phone": c.phone, "plan": plan,
                                     "balance": c.balance ?? ""])
        } else {
            who = t("who_unverified")
        }
        if packet.elderly { tags.append(name("tag.elderly", "elderly")) }
        if packet.cues.frustrated { tags.append(name("tag.frustrated", "frustrated")) }
        if let d = packet.dialect { tags.append(name("dialect." + d, d)) }
        var lines = [t("headline", ["tags": tags.joined(separator: " · "), "who": who,
                                    "wants": wants.isEmpty ? t("wants_none") : wants.suffix(3).joined(separator: separator)])]
        let reasons = packet.reasons.map { name("reason." + $0, $0) }.joined(separator: separator)
        var second = t("reasons", ["reasons": reasons])
        if packet.cues.frustrated {
            var signals: [String] = []
            for step in packet.frustrationTrail { for s in step.signals where !signals.contains(s) { signals.append(s) } }
            second += t("frustrated", ["score": DialogueEngine.score(packet.cues.frustration),
                                       "signals": signals.map { name("signal." + $0, $0) }.joined(separator: separator)])
        }
        lines.append(second)
        var third = ""
        var done = packet.ticketsMade.map { ticket -> String in
            let brief = "\(name("ticket." + ticket.kind, ticket.kind)) \(ticket.id)"
            // What a complaint is about, in the customer's words (masked, cut short).
            guard ticket.kind == "complaint", !ticket.summary.isEmpty else { return brief }
            let topic = ticket.summary.count > 40 ? ticket.summary.prefix(40) + "…" : Substring(ticket.summary)
            return brief + t("topic", ["topic": String(topic)])
        }
        for line in packet.transcript where line.role == "bot" {
            if let key = line.response, let phrase = templates["done." + key]?[language], !done.contains(phrase) { done.append(phrase) }
        }
        if !done.isEmpty { third += t("done", ["done": done.joined(separator: separator)]) }
        if let p = packet.pending {
            let missing = p.missing.map { name("slot." + $0, $0) }.joined(separator: separator)
            // What the customer already chose (the new plan, the fault), so the agent can finish it.
            let asks = Set(engine.dialogue.flows[IntentID(p.intent)]?.slots.map(\.name.rawValue) ?? [])
            let filled = p.filled.keys.sorted().compactMap { key -> String? in
                guard asks.contains(key), let value = p.filled[key], templates["slot." + key] != nil else { return nil }
                return name("slot." + key, key) + " " + slotValue(key, value, language)
            }
            let intent = intentName(p.intent, language) + (filled.isEmpty ? "" : t("topic", ["topic": filled.joined(separator: separator)]))
            third += p.missing.isEmpty ? t("pending_confirm", ["intent": intent])
                : t("pending", ["intent": intent, "missing": missing])
        }
        if packet.failedVerifications > 0 {
            third += t("failed_pins", ["count": String(packet.failedVerifications), "phone": packet.customer?.phone ?? ""])
        }
        if !packet.failedTurns.isEmpty { third += t("failed", ["count": String(packet.failedTurns.count)]) }
        if !third.isEmpty { lines.append(third) }
        var fourth = ""
        if packet.elderly { fourth += t("elderly") }
        if let d = packet.dialect { fourth += t("dialect", ["dialect": name("dialect." + d, d)]) }
        if !packet.returnedTickets.isEmpty {
            fourth += t("earlier", ["tickets": packet.returnedTickets.joined(separator: separator)])
        }
        if !packet.openTickets.isEmpty {
            fourth += t("open_tickets", ["tickets": packet.openTickets.map { "\(name("ticket." + $0.kind, $0.kind)) \($0.id)" }
                .joined(separator: separator)])
        }
        if !fourth.isEmpty { lines.append(fourth) }
        return lines.map { $0.trimmingSpaces() }.joined(separator: "\n")
    }

    /// A slot value as an agent reads it: a plan's name, a fault's name; otherwise as it is.
    func slotValue(_ slot: String, _ value: String, _ language: Language) -> String {
        switch slot {
        case "plan": return engine.rules.plans.first { $0.code == value }?.name[language] ?? value
        case "addon": return engine.rules.addons.first { $0.code == value }?.name[language] ?? value
        case "fault_type": return engine.dialogue.responses["fault." + value]?.text[language] ?? value
        default: return value
        }
    }

    func intentName(_ intent: String, _ language: Language) -> String {
        if let own = templates["intent." + intent]?[language] { return own }
        return engine.dialogue.responses["intent." + intent]?.text[language] ?? intent
    }

    /// 王建国 → 王**, Emma Clarke → Emma C.: enough to greet, not enough to identify.
    public static func maskName(_ name: String) -> String {
        let trimmed = name.trimmingSpaces()
        guard let first = trimmed.first else { return "" }
        if first.unicodeScalars.first.map({ Scalar.isHan($0.value) }) == true {
            return String(first) + String(repeating: "*", count: max(1, trimmed.count - 1))
        }
        let words = trimmed.split(separator: " ")
        guard words.count > 1, let initial = words.last?.first else { return String(words[0]) }
        return "\(words[0]) \(initial)."
    }
}

extension DialogueEngine {
    /// A score with two decimals (0.93 → "0.93"), without a formatter.
    static func score(_ value: Double) -> String {
        let hundredths = Int((max(0, value) * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
