import Foundation
import SwitchboardCore
import Testing

@testable import SwitchboardStore

/// The queue on a real SQLite file: what an agent and a waiting customer would notice.
@Suite struct SQLiteHandoffQueueTests {
    /// A packet as the bot would send it (only the fields the queue reads matter here).
    static func packet(_ session: String, priority: Int = 2, skills: [String] = ["zh"], reasons: [String] = ["customer_request"],
                       language: String = "zh", dialect: String? = nil) -> HandoffPacket
    {
        HandoffPacket(
            version: HandoffPacket.currentVersion, ticket: "", session: session, channel: "test", createdAt: "", reasons: reasons,
            priority: priority, skills: skills, language: language, dialect: dialect, elderly: false,
            cues: .init(frustration: 0, frustrated: false, elderly: false, dialect: dialect), frustrationTrail: [],
            intents: ["human.request"], slots: [:], pending: nil, failedTurns: [], rulesFired: [], customer: nil, openTickets: [],
            ticketsMade: [], summary: "summary of \(session)", summaries: [:],
            transcript: [TranscriptLine(role: "customer", text: "转人工")])
    }

    static let t0 = Date(timeIntervalSince1970: 1_795_917_600)

    @Test func anEnqueuedTicketIsCommittedAndWholeForAnotherConnection() throws {
        try Fixture.withDatabasePath { path in
            let bot = try SQLiteHandoffQueue(path: path)
            let id = try bot.enqueue(Self.packet("s1"), at: Self.t0)
            #expect(id == "HO202611290001")
            // Another process's view: a fresh connection.
            let agent = try SQLiteHandoffQueue(path: path)
            let stored = try #require(try agent.ticket(id))
            #expect(stored.status == .waiting)
            let packet = try HandoffPacket.decode(Data(stored.packetJSON.utf8))
            #expect(packet.ticket == id)
            #expect(packet.transcript.first?.text == "转人工")
            #expect(packet == { var p = Self.packet("s1"); p.ticket = id; return p }())
        }
    }

    @Test func mostUrgentFirstThenLongestWaitingAndOnlyWhatTheAgentCanTake() throws {
        try Fixture.withDatabasePath { path in
            let queue = try SQLiteHandoffQueue(path: path)
            let routine = try queue.enqueue(Self.packet("a", priority: 1), at: Self.t0)
            let older = try queue.enqueue(Self.packet("b", priority: 3), at: Self.t0.addingTimeInterval(1))
            let newer = try queue.enqueue(Self.packet("c", priority: 3), at: Self.t0.addingTimeInterval(2))
            let cantonese = try queue.enqueue(Self.packet("d", priority: 4, skills: ["zh", "yue"], dialect: "yue"), at: Self.t0.addingTimeInterval(3))
            let now = Self.t0.addingTimeInterval(10)
            #expect(try queue.waiting(at: now).map(\.id) == [cantonese, older, newer, routine])
            #expect(try queue.waiting(at: now, skills: ["zh"]).map(\.id) == [older, newer, routine])
            _ = try queue.login(name: "li", skills: ["zh"], at: now)
            _ = try queue.login(name: "chan", skills: ["zh", "yue"], at: now)
            #expect(try queue.claimNext(agent: "li", at: now)?.id == older)
            #expect(try queue.claimNext(agent: "chan", at: now)?.id == cantonese)
            #expect(queue.position(of: routine, at: now)?.place == 2)
            #expect(queue.position(of: newer, at: now)?.place == 1)
        }
    }

    @Test func aTicketCanBeClaimedOnceAndAWrongClaimSaysWhy() throws {
        try Fixture.withDatabasePath { path in
            let first = try SQLiteHandoffQueue(path: path)
            let second = try SQLiteHandoffQueue(path: path)
            let id = try first.enqueue(Self.packet("s", skills: ["en", "billing"]), at: Self.t0)
            _ = try first.login(name: "ann", skills: ["en", "billing"], at: Self.t0)
            _ = try first.login(name: "bo", skills: ["en", "billing"], at: Self.t0)
            _ = try first.login(name: "zhang", skills: ["zh"], at: Self.t0)
            #expect(throws: QueueError.self) { try first.claim(id, agent: "zhang", at: Self.t0) }
            #expect(try first.claim(id, agent: "ann", at: Self.t0).agent == "ann")
            let lost = #expect(throws: QueueError.self) { try second.claim(id, agent: "bo", at: Self.t0) }
            #expect(lost?.description.contains("claimed by ann") == true)
            #expect(try second.claimNext(agent: "bo", at: Self.t0) == nil)
            #expect(throws: QueueError.self) { try second.claimNext(agent: "nobody", at: Self.t0) }
        }
    }

    @Test func releaseKeepsTheTicketsPlaceAndResolveAndReturnCloseIt() throws {
        try Fixture.withDatabasePath { path in
            let queue = try SQLiteHandoffQueue(path: path)
            let first = try queue.enqueue(Self.packet("a"), at: Self.t0)
            let second = try queue.enqueue(Self.packet("b"), at: Self.t0.addingTimeInterval(5))
            _ = try queue.login(name: "li", skills: ["zh"], at: Self.t0)
            _ = try queue.claim(first, agent: "li", at: Self.t0.addingTimeInterval(10))
            #expect(throws: QueueError.self) { try queue.move(first, .release, agent: "wang", note: nil, at: Self.t0) }
            _ = try queue.move(first, .release, agent: "li", note: nil, at: Self.t0.addingTimeInterval(20))
            #expect(try queue.waiting(at: Self.t0.addingTimeInterval(30)).map(\.id) == [first, second])
            #expect(throws: QueueError.self) { try queue.move(first, .resolve, agent: "li", note: "x", at: Self.t0) }
            _ = try queue.claim(first, agent: "li", at: Self.t0.addingTimeInterval(40))
            let resolved = try queue.move(first, .resolve, agent: "li", note: "refund explained", at: Self.t0.addingTimeInterval(50))
            #expect(resolved.status == .resolved && resolved.note == "refund explained")
            #expect(queue.state(of: first)?.status == .resolved)
            let back = try queue.move(second, .handBack, agent: "li", note: nil, at: Self.t0.addingTimeInterval(60))
            #expect(back.status == .returned)
            #expect(queue.state(of: second)?.status == .returned)
            let history = try queue.log(of: first).filter { $0.kind == "event" }.map(\.text)
            #expect(history == ["queued: priority 2, skills zh", "claimed", "released to the queue", "claimed", "resolved: refund explained"])
        }
    }

    /// A Cantonese speaker waits a while for a Cantonese-speaking agent, then goes to any Chinese one.
    @Test func aDialectTicketWaitsForADialectSpeakerThenForAnyone() throws {
        try Fixture.withDatabasePath { path in
            var policy = HandoffPolicy()
            policy.dialectWaitMinutes = 5
            let queue = try SQLiteHandoffQueue(path: path, policy: policy)
            let id = try queue.enqueue(Self.packet("yue", skills: ["zh", "yue", "billing"], dialect: "yue"), at: Self.t0)
            _ = try queue.login(name: "li", skills: ["zh", "billing"], at: Self.t0)
            #expect(try queue.claimNext(agent: "li", at: Self.t0.addingTimeInterval(4 * 60)) == nil)
            #expect(try queue.waiting(at: Self.t0.addingTimeInterval(4 * 60), skills: ["zh", "billing"]).isEmpty)
            #expect(throws: QueueError.self) { try queue.claim(id, agent: "li", at: Self.t0.addingTimeInterval(4 * 60)) }
            // Five minutes on: a Mandarin-speaking billing agent rather than no one. Billing is still required.
            _ = try queue.login(name: "wang", skills: ["zh", "plans"], at: Self.t0)
            #expect(try queue.claimNext(agent: "wang", at: Self.t0.addingTimeInterval(6 * 60)) == nil)
            #expect(try queue.claimNext(agent: "li", at: Self.t0.addingTimeInterval(6 * 60))?.id == id)
        }
    }

    @Test func aTicketWaitingPastItsSLAIsMarkedBreached() throws {
        try Fixture.withDatabasePath { path in
            var policy = HandoffPolicy()
            policy.slaMinutes = [3: 5, 1: 20]
            let queue = try SQLiteHandoffQueue(path: path, policy: policy)
            let urgent = try queue.enqueue(Self.packet("a", priority: 3), at: Self.t0)
            let routine = try queue.enqueue(Self.packet("b", priority: 1), at: Self.t0)
            let later = Self.t0.addingTimeInterval(6 * 60)
            let waiting = try queue.waiting(at: later)
            #expect(waiting.first { $0.id == urgent }?.breached == true)
            #expect(waiting.first { $0.id == routine }?.breached == false)
            #expect(waiting.first { $0.id == urgent }?.slaDueAt == Self.t0.addingTimeInterval(5 * 60))
            _ = try queue.login(name: "li", skills: ["zh"], at: later)
            // Claimed late: the breach stays on the record.
            let claimed = try queue.claim(routine, agent: "li", at: Self.t0.addingTimeInterval(21 * 60))
            #expect(claimed.breached)
        }
    }

    @Test func waitingCustomersSeeTheirPlaceAndNoAgentsMeansZero() throws {
        try Fixture.withDatabasePath { path in
            var policy = HandoffPolicy()
            policy.averageHandleMinutes = 6
            let queue = try SQLiteHandoffQueue(path: path, policy: policy)
            #expect(queue.agentsOnline(at: Self.t0) == 0)
            let ids = try (0..<3).map { try queue.enqueue(Self.packet("s\($0)"), at: Self.t0.addingTimeInterval(Double($0))) }
            _ = try queue.login(name: "a", skills: ["zh"], at: Self.t0)
            _ = try queue.login(name: "b", skills: ["zh"], at: Self.t0)
            #expect(queue.agentsOnline(at: Self.t0) == 2)
            // Third in line, two agents, six minutes each: nine minutes.
            #expect(queue.position(of: ids[2], at: Self.t0) == QueuePosition(place: 3, expectedWaitMinutes: 9, agentsOnline: 2))
            #expect(try queue.logout(name: "b", at: Self.t0))
            #expect(queue.agentsOnline(at: Self.t0) == 1)
            // An agent not seen for a whole shift no longer counts.
            #expect(queue.agentsOnline(at: Self.t0.addingTimeInterval(13 * 3600)) == 0)
            try queue.append(ticket: ids[0], role: "customer", text: "还要等多久", at: Self.t0)
            try queue.requestCallback(ticket: ids[1], phone: "13800000001", at: Self.t0)
            #expect(try queue.log(of: ids[0]).contains { $0.kind == "message" && $0.text == "还要等多久" })
            #expect(queue.state(of: ids[1])?.callback == true)
            #expect(try queue.log(of: ids[1]).allSatisfy { !$0.text.contains("13800000001") })
        }
    }

    /// Eight connections on eight threads take 400 tickets: each is claimed exactly once.
    @Test func concurrentClaimsNeverShareATicket() async throws {
        try await Fixture.withDatabasePathAsync { path in
            let setup = try SQLiteHandoffQueue(path: path)
            for i in 0..<400 { _ = try setup.enqueue(Self.packet("s\(i)"), at: Self.t0) }
            for a in 0..<8 { _ = try setup.login(name: "agent\(a)", skills: ["zh"], at: Self.t0) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for a in 0..<8 {
                    group.addTask {
                        let queue = try SQLiteHandoffQueue(path: path)
                        var mine: [String] = []
                        while let t = try queue.claimNext(agent: "agent\(a)", at: Self.t0) { mine.append(t.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 400)
            #expect(Set(claimed).count == 400)
            #expect(try setup.waiting(at: Self.t0).isEmpty)
        }
    }
}
