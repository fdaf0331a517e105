import Foundation
import Yams

/// A scripted conversation with expectations (`transcripts/tests/*.yaml`), run by `switchboard test`.
///
/// ```yaml
/// conversations:
///   - name: unordered ringtone charge is refunded
///     customer: "13700000004"          # optional: identified by the channel
///     turns:
///       - say: 我没订过视频彩铃，为什么扣我10块
///         intent: billing.dispute          # how the message was understood
///         reply_contains: [退费, RF2026]   # every phrase must appear in the bot's replies
///         reply_excludes: [人工]           # none may appear
///         response: dispute_refund         # a response key among the replies
///         state: idle                      # the session state after the turn
///         slots: {addon: video_ringtone}   # slots understood in this message
///     outcome: resolved                    # resolved | handoff | abandoned
///     handoff_reasons: []                  # exactly these, in any order
/// ```
///
/// A handoff can be checked in full, and the queue's side played:
///
/// ```yaml
///     agents_online: 0                     # nobody signed in: a call-back is offered (default 1)
///     turns:
///       - say: 还要等多久
///         queue: claimed                   # before this message an agent claims (or resolves, returns) it
///         agent: 小王
///     handoff:                             # the packet the queue received
///       reasons: [customer_request]        # exactly these, in any order
///       priority: 2
///       skills: [zh, billing]              # exactly these, in any order
///       summary_contains: [客户要求人工]     # phrases of the agent's summary
///       summary_excludes: [13800000001]
///       missing: [place]                   # slots the unfinished request still needs
///       elderly: false
///       dialect: yue                       # or null
/// ```
public struct ConversationTest: Sendable {
    public struct Turn: Sendable {
        public var say: String
        public var intent: IntentID?
        public var replyContains: [String]
        public var replyExcludes: [String]
        public var response: String?
        public var state: String?
        public var slots: [(SlotName, String)]
        /// What the agent does to the ticket before this message.
        public var queue: TicketStatus?
        public var agent: String?
        public var line: Int
    }

    /// What the handoff packet must hold.
    public struct HandoffExpectation: Sendable {
        public var reasons: [String]?
        public var priority: Int?
        public var skills: [String]?
        public var summaryContains: [String] = []
        public var summaryExcludes: [String] = []
        public var missing: [String]?
        public var elderly: Bool?
        /// `.some(nil)`: no dialect.
        public var dialect: String??
    }

    public var name: String
    public var file: String
    public var line: Int
    public var customer: String?
    public var turns: [Turn]
    public var outcome: Session.Outcome?
    public var handoffReasons: [String]?
    public var agentsOnline = 1
    public var handoff: HandoffExpectation?

    /// The fixed moment every test conversation happens at, so dates and ticket ids are stable:
    /// 2026-11-29 10:00 in UTC+8.
    public static let clock = Date(timeIntervalSince1970: 1_795_917_600)

    /// What differed, one line each; empty when the conversation went as expected.
    public func run(_ ruleSet: RuleSet, engine: DialogueEngine, classifier: Classifier) -> [String] {
        let store = InMemoryOperatorData(ruleSet: ruleSet, now: Self.clock)
        let queue = InMemoryHandoffQueue(agents: agentsOnline, averageHandleMinutes: engine.dialogue.handoff.averageHandleMinutes)
        let conversation = Conversation(id: "test", engine: engine, classifier: classifier, store: store, queue: queue,
                                        customer: customer, channel: "test", clock: { Self.clock })
        var failures: [String] = []
        let opening = conversation.open()
        var replies = opening.replies
        for (index, turn) in turns.enumerated() {
            if let status = turn.queue {
                if let ticket = conversation.session.ticket {
                    queue.set(ticket, TicketState(status: status, agent: turn.agent))
                } else {
                    failures.append("\(file):\(turn.line): turn \(index + 1): 'queue: \(status.rawValue)' but nothing was handed off")
                }
            }
            let result = conversation.receive(turn.say)
            replies = result.replies
            let said = replies.joined(separator: " / ")
            let keys = result.events.compactMap(\.response)
            let at = "\(file):\(turn.line): turn \(index + 1) ('\(turn.say)')"
            if let intent = turn.intent, let got = result.classification?.intent, got != intent {
                failures.append("\(at): intent expected \(intent), got \(got)")
            }
            for phrase in turn.replyContains where !said.contains(phrase) {
                failures.append("\(at): reply should contain '\(phrase)'; the bot said: \(said)")
            }
            for phrase in turn.replyExcludes where said.contains(phrase) {
                failures.append("\(at): reply should not contain '\(phrase)'; the bot said: \(said)")
            }
            if let response = turn.response, !keys.contains(response) {
                failures.append("\(at): expected response '\(response)', got \(keys.isEmpty ? "none" : keys.joined(separator: ", "))")
            }
            if let state = turn.state, conversation.session.state != state {
                failures.append("\(at): state expected \(state), got \(conversation.session.state)")
            }
            for (name, value) in turn.slots {
                let got = result.classification?.slots[name]
                if got != value { failures.append("\(at): slot \(name) expected '\(value)', got '\(got ?? "none")'") }
            }
        }
        _ = conversation.close()
        let session = conversation.session
        if let outcome, session.outcome != outcome {
            failures.append("\(file):\(line): '\(name)': outcome expected \(outcome.rawValue), got \(session.outcome.rawValue)")
        }
        if let reasons = handoffReasons, Set(reasons) != Set(session.handoffReasons) {
            failures.append("\(file):\(line): '\(name)': handoff reasons expected \(reasons.sorted()), got \(session.handoffReasons.sorted())")
        }
        if let expected = handoff {
            let at = "\(file):\(line): '\(name)': handoff packet"
            if let packet = conversation.packet {
                failures += expected.differences(from: packet).map { "\(at) \($0)" }
                if queue.entries.first(where: { $0.packet.ticket == packet.ticket }) == nil {
                    failures.append("\(at): ticket \(packet.ticket) is not in the queue")
                }
            } else {
                failures.append("\(at): expected, but nothing was handed off")
            }
        }
        return failures
    }

    /// Every conversation in the YAML files at `paths` (files, or folders searched recursively).
    public static func load(_ paths: [String]) -> (tests: [ConversationTest], diagnostics: [Diagnostic]) {
        var tests: [ConversationTest] = []
        var diagnostics: [Diagnostic] = []
        for file in yamlFiles(paths, diagnostics: &diagnostics) {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1), "cannot read file as UTF-8"))
                continue
            }
            var reader = YAMLReader(file: file)
            if let root = reader.compose(text) { tests += parse(root, &reader) }
            diagnostics += reader.diagnostics
        }
        return (tests, diagnostics)
    }

    static func yamlFiles(_ paths: [String], diagnostics: inout [Diagnostic]) -> [String] {
        let (files, missing) = FileSearch.files(paths, suffixes: [".yaml", ".yml"])
        diagnostics += missing.map { Diagnostic(SourceLocation(file: $0, line: 1, column: 1), "no such file or folder") }
        return files
    }

    static func parse(_ root: Node, _ reader: inout YAMLReader) -> [ConversationTest] {
        guard let pairs = reader.pairs(root, "a conversation test file") else { return [] }
        reader.checkKeys(pairs, allowed: ["conversations"], in: "a conversation test file")
        guard let list = pairs.first(where: { $0.key == "conversations" })?.value.sequence else {
            reader.error(root, "a conversation test file needs a 'conversations' list")
            return []
        }
        var tests: [ConversationTest] = []
        for item in list {
            guard let fields = reader.pairs(item, "a conversation") else { continue }
            reader.checkKeys(fields, allowed: ["name", "customer", "turns", "outcome", "handoff_reasons", "agents_online", "handoff"],
                             in: "a conversation")
            let field = { (key: String) in fields.first { $0.key == key }?.value }
            let name = field("name").flatMap { reader.string($0, "name") } ?? "line \(item.mark?.line ?? 0)"
            var test = ConversationTest(name: name, file: reader.file, line: item.mark?.line ?? 1,
                                        customer: field("customer").flatMap { reader.string($0, "customer") }, turns: [],
                                        outcome: nil, handoffReasons: nil)
            if let node = field("outcome"), let text = reader.string(node, "outcome") {
                test.outcome = Session.Outcome(rawValue: text)
                if test.outcome == nil { reader.error(node, "outcome must be resolved, handoff or abandoned, got '\(text)'") }
            }
            if let node = field("handoff_reasons") { test.handoffReasons = reader.strings(node, "handoff_reasons").map(\.0) }
            if let node = field("agents_online") { test.agentsOnline = reader.number(node, "agents_online", in: 0...1000).map(Int.init) ?? 1 }
            if let node = field("handoff") { test.handoff = parseHandoff(node, &reader) }
            for turnNode in field("turns")?.sequence ?? [] {
                guard let t = reader.pairs(turnNode, "a turn") else { continue }
                reader.checkKeys(t, allowed: ["say", "intent", "reply_contains", "reply_excludes", "response", "state", "slots",
                                              "queue", "agent"], in: "a turn")
                let f = { (key: String) in t.first { $0.key == key }?.value }
                guard let say = f("say").flatMap({ reader.string($0, "say") }) else {
                    reader.error(turnNode, "a turn needs 'say'")
                    continue
                }
                var slots: [(SlotName, String)] = []
                if let node = f("slots"), let p = reader.pairs(node, "slots") {
                    for (key, _, value) in p { if let v = reader.string(value, "slot \(key)") { slots.append((SlotName(rawValue: key), v)) } }
                }
                test.turns.append(Turn(
                    say: say, intent: f("intent").flatMap { reader.string($0, "intent") }.map { IntentID(rawValue: $0) },
                    replyContains: f("reply_contains").map { reader.strings($0, "reply_contains").map(\.0) } ?? [],
                    replyExcludes: f("reply_excludes").map { reader.strings($0, "reply_excludes").map(\.0) } ?? [],
                    response: f("response").flatMap { reader.string($0, "response") },
                    state: f("state").flatMap { reader.string($0, "state") }, slots: slots,
                    queue: queueStatus(f("queue"), &reader), agent: f("agent").flatMap { reader.string($0, "agent") },
                    line: turnNode.mark?.line ?? 1))
            }
            if test.turns.isEmpty { reader.error(item, "conversation '\(name)' has no turns") }
            tests.append(test)
        }
        return tests
    }

    static func queueStatus(_ node: Node?, _ reader: inout YAMLReader) -> TicketStatus? {
        guard let node, let text = reader.string(node, "queue") else { return nil }
        guard let status = TicketStatus(rawValue: text) else {
            reader.error(node, "queue must be one of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            return nil
        }
        return status
    }

    static func parseHandoff(_ node: Node, _ reader: inout YAMLReader) -> HandoffExpectation? {
        guard let pairs = reader.pairs(node, "handoff") else { return nil }
        reader.checkKeys(pairs, allowed: ["reasons", "priority", "skills", "summary_contains", "summary_excludes", "missing",
                                          "elderly", "dialect"], in: "handoff")
        var e = HandoffExpectation()
        for (key, _, value) in pairs {
            switch key {
            case "reasons": e.reasons = reader.strings(value, key).map(\.0)
            case "priority": e.priority = reader.number(value, key, in: 1...9).map(Int.init)
            case "skills": e.skills = reader.strings(value, key).map(\.0)
            case "summary_contains": e.summaryContains = reader.strings(value, key).map(\.0)
            case "summary_excludes": e.summaryExcludes = reader.strings(value, key).map(\.0)
            case "missing": e.missing = reader.strings(value, key).map(\.0)
            case "elderly": e.elderly = reader.string(value, key) == "true"
            case "dialect":
                let text = value.scalar?.string
                e.dialect = .some(text == nil || text == "null" || text == "~" ? nil : text)
            default: break
            }
        }
        return e
    }
}

extension ConversationTest.HandoffExpectation {
    /// What in the packet differs from this expectation, one phrase each.
    func differences(from p: HandoffPacket) -> [String] {
        var out: [String] = []
        if let reasons, Set(reasons) != Set(p.reasons) { out.append("reasons expected \(reasons.sorted()), got \(p.reasons.sorted())") }
        if let priority, priority != p.priority { out.append("priority expected \(priority), got \(p.priority)") }
        if let skills, Set(skills) != Set(p.skills) { out.append("skills expected \(skills.sorted()), got \(p.skills.sorted())") }
        for phrase in summaryContains where !p.summary.contains(phrase) {
            out.append("summary should contain '\(phrase)'; it reads: \(p.summary.replacingOccurrences(of: "\n", with: " / "))")
        }
        for phrase in summaryExcludes where p.summary.contains(phrase) { out.append("summary should not contain '\(phrase)'") }
        if let missing, Set(missing) != Set(p.pending?.missing ?? []) {
            out.append("missing slots expected \(missing.sorted()), got \((p.pending?.missing ?? []).sorted())")
        }
        if let elderly, elderly != p.elderly { out.append("elderly expected \(elderly), got \(p.elderly)") }
        if let dialect, dialect != p.dialect { out.append("dialect expected \(dialect ?? "null"), got \(p.dialect ?? "null")") }
        return out
    }
}
