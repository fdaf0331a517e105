import Foundation
import Yams

/// A reason to hand a conversation to a person (CONTRACT.md section 3).
public enum HandoffReason: String, Sendable, CaseIterable, Codable, Comparable {
    case customerRequest = "customer_request"
    case frustration
    case elderlyAssist = "elderly_assist"
    case repeatedFallback = "repeated_fallback"
    case complaint
    case retention
    case security
    case policy

    public static func < (a: HandoffReason, b: HandoffReason) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How frustration builds over a session (`session_cues:` in `intents/handoff.yaml`). Each message's
/// own score comes from `cues.yaml`; these weights add what only the session shows.
public struct SessionCuePolicy: Sendable, Equatable {
    /// `frustrated: true` at or above this score.
    public var threshold = 0.5
    /// What a calm turn (no frustration signal) keeps of the score.
    public var decay = 0.7
    /// Frustrated customers are offered a person once, at this score.
    public var offerAt = 0.5
    /// At this score a person takes over without asking.
    public var handoffAt = 0.8
    /// The same request again, shortly after the bot answered it.
    public var repeatedQuestion = 0.25
    /// How many earlier requests count as "shortly".
    public var repeatWindow = 3
    /// Each consecutive turn the bot did not understand, from the second on.
    public var fallbackStreak = 0.15
    /// Added when a threat (to complain to the regulator, to leave) is made.
    public var threat = 0.15
    /// The cue labels that are threats.
    public var threatLabels: [String] = ["threat_regulator", "threat_leave"]
    /// Cue labels that only state the request when the customer asks to leave (port out, close).
    public var leavingLabels: [String] = ["threat_leave", "leave_mention"]
    /// An elderly customer is offered a person at this many signs of confusion, and handed to one at
    /// `elderlyHandoffConfusions`.
    public var elderlyOfferConfusions = 1
    public var elderlyHandoffConfusions = 2
    /// A message with elderly cues whose request is understood below this confidence is taken as
    /// being about the person ("my grandson set this phone up"), not as that request.
    public var elderlyRequestConfidence = 0.75

    public init() {}
}

/// Who a conversation goes to, and how urgently (`handoff:` in `intents/handoff.yaml`).
public struct HandoffPolicy: Sendable, Equatable {
    /// How a reason leads to a person.
    public enum Mode: String, Sendable, CaseIterable {
        /// Handed off the moment the reason appears.
        case atOnce = "at_once"
        /// A person is offered first; handed off when accepted or when the reason grows.
        case offerFirst = "offer_first"
        /// The bot does its part (makes the ticket, explains), then hands off.
        case afterBot = "after_bot"
    }

    public struct Rule: Sendable, Equatable {
        public var reason: HandoffReason
        public var priority: Int
        public var mode: Mode
        /// Intents whose flow always ends with a person after the bot's part.
        public var intents: [IntentID] = []
        /// A skill the agent needs for this reason (`security`, `retention`).
        public var skill: String?
    }

    public var rules: [HandoffReason: Rule] = [:]
    /// Added to the priority when the customer complains again within the repeat window.
    public var repeatComplaintBump = 1
    /// Added when the customer is both elderly and frustrated.
    public var elderlyAndFrustratedBump = 1
    public var maxPriority = 4
    /// The domain skill an intent needs, by the intent's first part (`billing`, `fault`).
    public var domains: [String: String] = [:]
    /// Which skills a ticket requires: any of `language`, `dialect`, `domain`.
    public var requiredSkills: Set<String> = ["language", "dialect", "domain"]
    /// Minutes a ticket of each priority may wait before it breaches its SLA.
    public var slaMinutes: [Int: Int] = [4: 2, 3: 5, 2: 10, 1: 20]
    /// A call-back is promised within this many hours when nobody is signed in.
    public var callbackHours = 4
    /// The expected wait per ticket ahead, per agent, until there is history to measure.
    public var averageHandleMinutes = 6
    /// A ticket waits this long for an agent who speaks the customer's dialect; then any agent with
    /// the language (and domain) may take it.
    public var dialectWaitMinutes = 5

    public init() {
        for reason in HandoffReason.allCases {
            rules[reason] = Rule(reason: reason, priority: 1, mode: .atOnce)
        }
    }

    /// The SLA for a priority (the nearest defined one below it, or 30 minutes).
    public func sla(priority: Int) -> Int {
        for p in stride(from: priority, through: 0, by: -1) { if let m = slaMinutes[p] { return m } }
        return 30
    }

    /// The reason that ends each intent's flow with a person (`after_bot` rules), by intent.
    public var afterBotReasons: [IntentID: HandoffReason] {
        var reasons: [IntentID: HandoffReason] = [:]
        for rule in rules.values where rule.mode == .afterBot {
            for intent in rule.intents { reasons[intent] = rule.reason }
        }
        return reasons
    }

    public func mode(_ reason: HandoffReason) -> Mode { rules[reason]?.mode ?? .atOnce }

    /// The priority of a handoff: the highest its reasons give, plus the bumps that apply.
    public func priority(_ reasons: [HandoffReason], elderly: Bool, frustrated: Bool, repeatComplaint: Bool) -> Int {
        var p = reasons.map { rules[$0]?.priority ?? 1 }.max() ?? 1
        if repeatComplaint { p += repeatComplaintBump }
        if elderly && frustrated { p += elderlyAndFrustratedBump }
        return max(1, min(maxPriority, p))
    }

    /// The skills an agent needs: the language, the dialect, and the domain of what the customer
    /// asked about last (or the reason's own skill).
    public func skills(language: Language, dialect: DialectID?, intents: [IntentID], reasons: [HandoffReason]) -> [String] {
        var skills: [String] = []
        if requiredSkills.contains("language") { skills.append(language.rawValue) }
        if requiredSkills.contains("dialect"), let dialect { skills.append(dialect.rawValue) }
        if requiredSkills.contains("domain") {
            for reason in reasons { if let s = rules[reason]?.skill, !skills.contains(s) { skills.append(s) } }
            if !reasons.contains(where: { rules[$0]?.skill != nil }) {
                // The last thing asked for that names a domain (a bill question, a fault).
                for intent in intents.reversed() {
                    let head = intent.rawValue.split(separator: ".").first.map(String.init) ?? ""
                    if let domain = domains[head] {
                        skills.append(domain)
                        break
                    }
                }
            }
        }
        return skills
    }
}

extension RuleFileParser {
    mutating func parseSessionCues(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "session_cues") else { return }
        let numbers: [String: (WritableKeyPath<SessionCuePolicy, Double>, ClosedRange<Double>)] = [
            "threshold": (\.threshold, 0...1), "decay": (\.decay, 0...1), "offer_at": (\.offerAt, 0...1),
            "handoff_at": (\.handoffAt, 0...1.01), "repeated_question": (\.repeatedQuestion, 0...1),
            "fallback_streak": (\.fallbackStreak, 0...1), "threat": (\.threat, 0...1),
            "elderly_request_confidence": (\.elderlyRequestConfidence, 0...1),
        ]
        let counts: [String: WritableKeyPath<SessionCuePolicy, Int>] = [
            "repeat_window": \.repeatWindow, "elderly_offer_confusions": \.elderlyOfferConfusions,
            "elderly_handoff_confusions": \.elderlyHandoffConfusions,
        ]
        reader.checkKeys(pairs, allowed: Array(numbers.keys) + Array(counts.keys) + ["threat_labels", "leaving_labels"],
                         in: "session_cues")
        var policy = SessionCuePolicy()
        for (key, _, value) in pairs {
            if let (path, range) = numbers[key] {
                if let n = reader.number(value, "session_cues \(key)", in: range) { policy[keyPath: path] = n }
            } else if let path = counts[key] {
                if let n = reader.number(value, "session_cues \(key)", in: 1...100) { policy[keyPath: path] = Int(n) }
            } else if key == "threat_labels" {
                policy.threatLabels = reader.strings(value, "threat_labels").map(\.0)
            } else if key == "leaving_labels" {
                policy.leavingLabels = reader.strings(value, "leaving_labels").map(\.0)
            }
        }
        if policy.offerAt > policy.handoffAt {
            reader.error(node, "session_cues: offer_at (\(policy.offerAt)) must not be above handoff_at (\(policy.handoffAt))")
        }
        if policy.elderlyOfferConfusions > policy.elderlyHandoffConfusions {
            reader.error(node, "session_cues: elderly_offer_confusions must not be above elderly_handoff_confusions")
        }
        defs.dialogue.sessionCues = policy
    }

    mutating func parseHandoff(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "handoff") else { return }
        reader.checkKeys(pairs, allowed: ["reasons", "repeat_complaint_bump", "elderly_and_frustrated_bump", "max_priority",
                                          "domains", "required_skills", "sla_minutes", "callback_hours",
                                          "average_handle_minutes", "dialect_wait_minutes", "summary"], in: "handoff")
        var policy = defs.dialogue.handoff
        for (key, _, value) in pairs {
            switch key {
            case "reasons":
                guard let reasons = reader.pairs(value, "handoff reasons") else { continue }
                for (name, keyNode, body) in reasons {
                    guard let reason = HandoffReason(rawValue: name) else {
                        let hint = Spelling.closest(to: name, in: HandoffReason.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
                        reader.error(keyNode, "unknown handoff reason '\(name)'\(hint)")
                        continue
                    }
                    guard let fields = reader.pairs(body, "handoff reason '\(name)'") else { continue }
                    reader.checkKeys(fields, allowed: ["priority", "mode", "intents", "skill"], in: "handoff reason '\(name)'")
                    var rule = HandoffPolicy.Rule(reason: reason, priority: 1, mode: .atOnce)
                    for (field, fieldNode, v) in fields {
                        switch field {
                        case "priority": rule.priority = reader.number(v, "priority", in: 1...9).map(Int.init) ?? 1
                        case "mode":
                            let text = reader.string(v, "mode") ?? ""
                            if let mode = HandoffPolicy.Mode(rawValue: text) { rule.mode = mode } else {
                                reader.error(fieldNode, "handoff reason '\(name)': mode must be one of "
                                             + HandoffPolicy.Mode.allCases.map(\.rawValue).joined(separator: ", ") + ", got '\(text)'")
                            }
                        case "intents":
                            for (intent, n) in reader.strings(v, "intents") {
                                rule.intents.append(IntentID(intent))
                                defs.handoffIntentUses.append((IntentID(intent), reader.location(n)))
                            }
                        case "skill": rule.skill = reader.string(v, "skill")
                        default: break
                        }
                    }
                    if rule.mode == .afterBot && rule.intents.isEmpty {
                        reader.error(keyNode, "handoff reason '\(name)': after_bot needs the intents it follows")
                    }
                    policy.rules[reason] = rule
                }
            case "repeat_complaint_bump":
                policy.repeatComplaintBump = reader.number(value, key, in: 0...9).map(Int.init) ?? policy.repeatComplaintBump
            case "elderly_and_frustrated_bump":
                policy.elderlyAndFrustratedBump = reader.number(value, key, in: 0...9).map(Int.init) ?? policy.elderlyAndFrustratedBump
            case "max_priority": policy.maxPriority = reader.number(value, key, in: 1...9).map(Int.init) ?? policy.maxPriority
            case "callback_hours": policy.callbackHours = reader.number(value, key, in: 1...168).map(Int.init) ?? policy.callbackHours
            case "dialect_wait_minutes":
                policy.dialectWaitMinutes = reader.number(value, key, in: 0...1440).map(Int.init) ?? policy.dialectWaitMinutes
            case "average_handle_minutes":
                policy.averageHandleMinutes = reader.number(value, key, in: 1...600).map(Int.init) ?? policy.averageHandleMinutes
            case "domains":
                for (head, _, v) in reader.pairs(value, "handoff domains") ?? [] { policy.domains[head] = reader.string(v, "domain skill") }
            case "required_skills":
                policy.requiredSkills = []
                for (skill, n) in reader.strings(value, key) {
                    if ["language", "dialect", "domain"].contains(skill) { policy.requiredSkills.insert(skill) } else {
                        reader.error(n, "required_skills lists language, dialect or domain, got '\(skill)'")
                    }
                }
            case "sla_minutes":
                policy.slaMinutes = [:]
                for (p, keyNode, v) in reader.pairs(value, "sla_minutes") ?? [] {
                    guard let priority = Int(p), (1...9).contains(priority) else {
                        reader.error(keyNode, "sla_minutes keys are priorities 1–9, got '\(p)'")
                        continue
                    }
                    policy.slaMinutes[priority] = reader.number(v, "sla_minutes \(p)", in: 1...10_000).map(Int.init)
                }
            case "summary":
                parseSummaryTemplates(value, into: &defs)
            default: break
            }
        }
        defs.dialogue.handoff = policy
    }

    mutating func parseSummaryTemplates(_ node: Node, into defs: inout RuleDefinitions) {
        guard let pairs = reader.pairs(node, "handoff summary") else { return }
        for (key, _, value) in pairs {
            let text = localized(value, "handoff summary '\(key)'")
            for language in Language.allCases where text[language] == nil {
                reader.error(value, "handoff summary '\(key)' has no '\(language.rawValue)' text")
            }
            defs.dialogue.summaryTemplates[key] = text
        }
    }
}
