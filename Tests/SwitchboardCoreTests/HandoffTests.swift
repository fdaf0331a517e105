import Foundation
import Testing

@testable import SwitchboardCore

/// Session cues, the handoff policy and the packet, without a database.
@Suite struct HandoffTests {
    /// A conversation whose queue the test holds.
    static func talk(_ messages: [String], customer: String? = nil, queue: InMemoryHandoffQueue) throws -> (Conversation, [TurnResult]) {
        let ruleSet = try Repo.ruleSet()
        let conversation = Conversation(id: "t", engine: DialogueEngine(rules: ruleSet), classifier: Classifier(ruleSet),
                                        store: InMemoryOperatorData(ruleSet: ruleSet, now: ConversationTest.clock), queue: queue,
                                        customer: customer, clock: { ConversationTest.clock })
        var results = [conversation.open()]
        for message in messages { results.append(conversation.receive(message)) }
        return (conversation, results)
    }

    @Test func frustrationBuildsOnSignalsAndFadesOnCalmTurns() throws {
        let policy = try Repo.ruleSet().dialogue.sessionCues
        let (conversation, _) = try Self.talk(["我的流量还剩多少", "我的流量到底还剩多少", "好的谢谢"], customer: "13800000001", queue: InMemoryHandoffQueue())
        let trail = conversation.session.cueTrail
        #expect(trail.map(\.turn) == [1, 2, 3])
        #expect(trail[0].frustration == 0)
        // 到底 (impatience) and the same question again: both count, and both are named.
        #expect(trail[1].frustration > 0.4)
        #expect(trail[1].signals.contains("impatience"))
        #expect(trail[1].signals.contains("repeated_question"))
        // A calm turn keeps `decay` of it.
        #expect(abs(trail[2].frustration - (trail[1].frustration * policy.decay * 1000).rounded() / 1000) < 0.002)
        #expect(trail[2].signals.isEmpty)
    }

    @Test func theHandoffPolicyGivesPriorityAndSkills() throws {
        let policy = try Repo.ruleSet().dialogue.handoff
        #expect(policy.priority([.customerRequest], elderly: false, frustrated: false, repeatComplaint: false) == 2)
        #expect(policy.priority([.elderlyAssist, .frustration], elderly: true, frustrated: true, repeatComplaint: false) == 4)
        #expect(policy.priority([.complaint], elderly: false, frustrated: false, repeatComplaint: true) == 3)
        #expect(policy.priority([.retention], elderly: false, frustrated: false, repeatComplaint: false) == 1)
        let yue = DialectID(rawValue: "yue")
        #expect(policy.skills(language: .zh, dialect: yue, intents: ["billing.dispute", "human.request"], reasons: [.customerRequest])
            == ["zh", "yue", "billing"])
        #expect(policy.skills(language: .en, dialect: nil, intents: ["billing.balance"], reasons: [.security]) == ["en", "security"])
        #expect(policy.afterBotReasons["complaint.file"] == .complaint)
        #expect(policy.afterBotReasons["billing.balance"] == nil)
        #expect(policy.sla(priority: 3) == 5)
    }

    @Test func aQueueThatFailsIsNeverAnnouncedAsATransfer() throws {
        let queue = InMemoryHandoffQueue()
        queue.failure = "disk full"
        let (conversation, results) = try Self.talk(["转人工"], queue: queue)
        #expect(results[1].events.compactMap(\.response) == ["handoff_failed"])
        #expect(!results[1].replies.joined().contains("正在为您转接"))
        #expect(!results[1].handedOff)
        #expect(!conversation.session.handedOff)
        #expect(queue.entries.isEmpty)
        #expect(conversation.session.outcome != .handoff)
        // Half-way through a fault report, the report is still there to finish.
        let (reporting, _) = try Self.talk(["家里宽带断了", "转人工"], customer: "13800000001", queue: queue)
        #expect(reporting.session.flow?.intent == "fault.report")
        #expect(reporting.session.state == "fault.report:ask_place")
    }

    @Test func thePacketCarriesWhatTheAgentNeeds() throws {
        let queue = InMemoryHandoffQueue()
        let (conversation, results) = try Self.talk(["家里宽带断了", "转人工"], customer: "13800000001", queue: queue)
        #expect(results[2].handedOff)
        let packet = try #require(conversation.packet)
        #expect(queue.entries.map(\.packet.ticket) == [packet.ticket])
        #expect(packet.version == HandoffPacket.currentVersion)
        #expect(packet.reasons == ["customer_request"])
        #expect(packet.skills == ["zh", "technical"])
        #expect(packet.intents == ["fault.report", "human.request"])
        #expect(packet.pending?.intent == "fault.report")
        #expect(packet.pending?.missing == ["place", "since"])
        #expect(packet.customer?.phone == "138****0001")
        #expect(packet.customer?.verified == true)
        #expect(packet.transcript.filter { $0.role == "customer" }.map(\.text) == ["家里宽带断了", "转人工"])
        #expect(packet.summary.contains("故障报修"))
        #expect(packet.summaries["en"]?.contains("report a fault") == true)
        #expect(packet.rulesFired.contains { $0.hasPrefix("turn 1: fault.report") })
        // Stored and read back, it is the same packet.
        #expect(try HandoffPacket.decode(packet.encoded()) == packet)
        // The handoff event in the transcript names the ticket.
        #expect(results[2].events.contains { $0.record.event == "handoff" && $0.record.ticket == packet.ticket })
    }

    @Test func theTicketIdGoesIntoEncodedJSONWithoutReencoding() throws {
        let (conversation, _) = try Self.talk([#"我的名字叫"\u0001TICKET\u0001"，转人工"#], queue: InMemoryHandoffQueue())
        var packet = try #require(conversation.packet)
        packet.ticket = HandoffPacket.ticketPlaceholder
        let template = packet.encoded()
        let spliced = try #require(HandoffPacket.encoded(template, ticket: "HO202611290042"))
        packet.ticket = "HO202611290042"
        #expect(spliced == packet.encoded())
        #expect(HandoffPacket.encoded(Data("{}".utf8), ticket: "HO1") == nil)
    }

    @Test func aNewerPacketIsRefusedNotMisread() throws {
        let (conversation, _) = try Self.talk(["转人工"], queue: InMemoryHandoffQueue())
        var packet = try #require(conversation.packet)
        packet.version = HandoffPacket.currentVersion + 1
        #expect(throws: DecodingError.self) { try HandoffPacket.decode(packet.encoded()) }
    }

    @Test func namesAreMaskedForTheAgent() {
        #expect(HandoffSummary.maskName("王建国") == "王**")
        #expect(HandoffSummary.maskName("Emma Clarke") == "Emma C.")
        #expect(HandoffSummary.maskName("") == "")
    }
}

/// The packet's transcript is read back and written by hand (the handoff path's cost): it must
/// say exactly what Foundation's coders would.
struct PacketEncodingTests {
    @Test func handWrittenTranscriptDecodesToTheSamePacket() throws {
        let queue = InMemoryHandoffQueue()
        let (conversation, _) = try HandoffTests.talk(["查话费", "13800000001", "123456", "这个月为什么扣了20块\"/\\ 钱？", "转人工"], queue: queue)
        let packet = try #require(conversation.packet)
        #expect(packet.transcript.count >= 8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let reference = try HandoffPacket.decode(try encoder.encode(packet))
        let fast = try HandoffPacket.decode(packet.encoded())
        #expect(fast == reference)
        #expect(fast.transcript == packet.transcript)
    }

    @Test func eventsReadBackMatchFoundationsReading() throws {
        let queue = InMemoryHandoffQueue()
        let (conversation, _) = try HandoffTests.talk(["我要查流量，号码13800000001", "123456", "人工"], queue: queue)
        for event in conversation.history {
            var bytes: [UInt8] = []
            event.write(to: &bytes)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let line = event.record
            #expect(line.role == object["role"] as? String)
            #expect(line.text == object["text"] as? String)
            #expect(line.seq == object["seq"] as? Int)
            #expect(line.intent == object["intent"] as? String)
            #expect(line.confidence == (object["confidence"] as? NSNumber)?.doubleValue)
            #expect(line.slots == object["slots"] as? [String: String])
            #expect(line.reasons == object["reasons"] as? [String])
            #expect(line.cues?.frustration == ((object["cues"] as? [String: Any])?["frustration"] as? NSNumber)?.doubleValue)
        }
    }
}
