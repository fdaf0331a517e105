import Foundation
import SwitchboardCore
import SwitchboardStore
import Testing

/// The human queue driven through the binary, as customers and agents use it: `chat` hands off,
/// `agent` works the queue, and the database is read back to check nothing was lost or shared.
@Suite(.serialized) struct HandoffEndToEndTests {
    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    @Test func aCustomerHandedOffInChatIsWorkedByAnAgent() throws {
        let dir = try Repo.temporaryDirectory("handoff")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        let log = dir.appendingPathComponent("log.jsonl").path
        let login = try Binary.run(["agent", "login", "--name", "小王", "--skills", "zh,billing", "--db", db])
        #expect(login.status == 0, "\(login.stderr)")
        let chat = try Binary.run(["chat", "--customer", "13800000001", "--db", db, "--log", log],
                                  stdin: Data("上个月账单多少\n转人工\n还要等多久\n".utf8))
        #expect(chat.status == 0, "\(chat.stderr)")
        #expect(chat.stdoutText.contains("转接单号HO20"))
        #expect(chat.stdoutText.contains("排第1位"))

        let list = try Binary.run(["agent", "list", "--json", "--db", db])
        let waiting = try #require(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        #expect(waiting.count == 1)
        let ticket = try #require(waiting.first?["ticket"] as? String)
        #expect(waiting.first?["reasons"] as? [String] == ["customer_request"])
        #expect(waiting.first?["skills"] as? [String] == ["zh", "billing"])

        // An agent without the skills gets nothing; the right one gets the whole packet.
        _ = try Binary.run(["agent", "login", "--name", "Ann", "--skills", "en", "--db", db])
        #expect(try Binary.run(["agent", "claim", "--next", "--name", "Ann", "--json", "--db", db]).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines) == "null")
        let claim = try Binary.run(["agent", "claim", "--next", "--name", "小王", "--json", "--db", db])
        #expect(claim.status == 0, "\(claim.stderr)")
        let packet = try #require(Self.object(claim.stdoutText))
        #expect(packet["ticket"] as? String == ticket)
        #expect(packet["status"] as? String == "claimed")
        #expect(packet["agent"] as? String == "小王")
        #expect((packet["summary"] as? String)?.contains("客户要求人工") == true)
        #expect((packet["summary"] as? String)?.contains("138****0001") == true)
        let transcript = try #require(packet["transcript"] as? [[String: Any]])
        #expect(transcript.contains { $0["role"] as? String == "customer" && $0["text"] as? String == "上个月账单多少" })
        let messages = try #require(packet["waiting_messages"] as? [[String: Any]])
        #expect(messages.map { $0["text"] as? String } == ["还要等多久"])
        #expect(!claim.stdoutText.contains("13800000001"))

        let show = try Binary.run(["agent", "show", ticket, "--db", db])
        let text = show.stdoutText
        let summaryAt = try #require(text.range(of: "Summary")?.lowerBound)
        let transcriptAt = try #require(text.range(of: "Transcript")?.lowerBound)
        #expect(summaryAt < transcriptAt)
        #expect(text.contains("customer │ 上个月账单多少"))

        #expect(try Binary.run(["agent", "note", ticket, "--note", "called back", "--name", "小王", "--db", db]).status == 0)
        #expect(try Binary.run(["agent", "resolve", ticket, "--note", "bill explained", "--name", "小王", "--db", db]).status == 0)
        let again = try Binary.run(["agent", "resolve", ticket, "--note", "twice", "--db", db])
        #expect(again.status != 0)
        #expect(again.stderr.contains("is resolved"))
        let shown = try #require(Self.object(try Binary.run(["agent", "show", ticket, "--json", "--db", db]).stdoutText))
        #expect(shown["status"] as? String == "resolved")
        #expect((shown["notes"] as? [[String: Any]])?.first?["text"] as? String == "called back")
        #expect(try Binary.run(["agent", "show", "HO000", "--db", db]).status != 0)
    }

    @Test func withNobodySignedInTheCustomerIsOfferedACallBack() throws {
        let dir = try Repo.temporaryDirectory("handoff")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        let chat = try Binary.run(["chat", "--customer", "15000000005", "--db", db, "--log", dir.appendingPathComponent("l.jsonl").path],
                                  stdin: Data("I want to speak to a real person\nyes please\n".utf8))
        #expect(chat.stdoutText.contains("No agent is online"))
        #expect(chat.stdoutText.contains("Call-back booked"))
        #expect(chat.stdoutText.contains("150****0005"))
        let queue = try SQLiteHandoffQueue(path: db)
        let ticket = try #require(try queue.all().first)
        #expect(ticket.callbackPhone == "15000000005")
        #expect(ticket.language == "en")
        // The agent who takes the call-back sees the number to dial; anyone else sees it masked.
        _ = try Binary.run(["agent", "login", "--name", "Ann", "--skills", "en", "--db", db])
        let claimed = try #require(Self.object(try Binary.run(["agent", "claim", "--next", "--name", "Ann", "--json", "--db", db]).stdoutText))
        #expect(claimed["callback"] as? String == "15000000005")
        let other = try #require(Self.object(try Binary.run(["agent", "show", ticket.id, "--json", "--name", "Bo", "--db", db]).stdoutText))
        #expect(other["callback"] as? String == "150****0005")
        let mine = try Binary.run(["agent", "list", "--mine", "--name", "Ann", "--json", "--db", db])
        #expect((try JSONSerialization.jsonObject(with: mine.stdout) as? [[String: Any]])?.map { $0["ticket"] as? String } == [ticket.id])
    }

    /// One `chat --jsonl` process carries two customers side by side; bad session lines get an
    /// error event and harm neither conversation.
    @Test func jsonlCarriesSessionsSideBySide() throws {
        let dir = try Repo.temporaryDirectory("sessions")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = """
            {"session":"a","customer":"13800000001","text":"我的话费还剩多少"}
            {"session":"b","customer":"15000000005","text":"how much data do I have left"}
            {"session":"c d","text":"hi"}
            {"session":"zz","end":true}
            {"session":"a","text":"转人工"}
            {"session":"b","end":true}

            """
        let out = try Binary.run(["chat", "--jsonl", "--db", dir.appendingPathComponent("s.sqlite").path,
                                  "--log", dir.appendingPathComponent("l.jsonl").path], stdin: Data(input.utf8))
        #expect(out.status == 0, "\(out.stderr)")
        let events = out.stdoutText.split(separator: "\n").compactMap { Self.object(String($0)) }
        func said(_ session: String) -> [String] {
            events.filter { $0["session"] as? String == session && $0["role"] as? String == "bot" }.compactMap { $0["response"] as? String }
        }
        #expect(said("a") == ["greeting", "balance", "callback_offer"])
        #expect(said("b") == ["greeting", "usage"])
        #expect(events.filter { $0["event"] as? String == "error" }.count == 2)
        #expect(events.contains { $0["session"] as? String == "b" && $0["event"] as? String == "end" })
        #expect(events.contains { $0["session"] as? String == "a" && $0["event"] as? String == "handoff" })
    }

    /// Eight agent processes claim from 1,000 waiting tickets at once: every ticket is claimed
    /// exactly once, by the agent that printed it.
    @Test func eightAgentProcessesClaimEveryTicketExactlyOnce() throws {
        let dir = try Repo.temporaryDirectory("race")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        let queue = try SQLiteHandoffQueue(path: db)
        let now = Date()
        for i in 0..<1000 {
            _ = try queue.enqueue(Self.packet(session: "race-\(i)", priority: 1 + i % 4), at: now)
        }
        let agents = (0..<8).map { "agent\($0)" }
        for agent in agents { _ = try queue.login(name: agent, skills: ["zh"], at: now) }
        let binary = Binary.url.path
        var processes: [(Process, URL)] = []
        for agent in agents {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let script = """
                while true; do
                  out=$("$0" agent claim --next --name \(agent) --json --db "$1") || { echo "FAILED"; exit 1; }
                  [ "$out" = null ] && exit 0
                  printf '%s\\n' "$out"
                done
                """
            process.arguments = ["-c", script, binary, db]
            let out = dir.appendingPathComponent("\(agent).out")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            try process.run()
            processes.append((process, out))
        }
        var claimedBy: [String: [String]] = [:]
        for (index, (process, out)) in processes.enumerated() {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
            for line in lines {
                let ticket = Self.object(String(line))?["ticket"] as? String
                #expect(ticket != nil, "not a ticket: \(line.prefix(80))")
                if let ticket { claimedBy[ticket, default: []].append(agents[index]) }
            }
        }
        #expect(claimedBy.count == 1000)
        #expect(claimedBy.values.allSatisfy { $0.count == 1 })
        // The database agrees: nothing waiting, each ticket held by the agent who printed it.
        #expect(try queue.waiting(at: Date()).isEmpty)
        for ticket in try queue.all(limit: 2000) {
            #expect(ticket.status == .claimed)
            #expect(claimedBy[ticket.id] == [ticket.agent ?? ""])
        }
        // More than one agent did the work: it was a race, not a queue of one.
        #expect(Set(claimedBy.values.map { $0[0] }).count > 1)
    }

    /// A script hands off 500 sessions through one `chat --jsonl` process, killing it with SIGKILL
    /// at random points and starting it again. Every ticket a customer was told about is in the
    /// queue afterwards, whole.
    @Test func killingTheBotLosesNoAcknowledgedHandoff() throws {
        let dir = try Repo.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        let log = dir.appendingPathComponent("log.jsonl").path
        var acknowledged: [String: String] = [:]  // session → ticket the customer was shown
        var next = 0
        var seed: UInt64 = 0x5EED
        func random(_ range: ClosedRange<Int>) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return range.lowerBound + Int((seed >> 33) % UInt64(range.count))
        }
        var kills = 0
        while next < 500 {
            let bot = try LineProcess(Binary.url, ["chat", "--jsonl", "--db", db, "--log", log])
            let killAfter = next + random(10...80)
            var alive = true
            while alive && next < 500 {
                let session = "kill-\(next)"
                let phrase = next % 2 == 0 ? "转人工" : "let me talk to a real person"
                bot.send("{\"session\":\"\(session)\",\"text\":\"\(phrase)\"}\n")
                if next >= killAfter {
                    // Killed while this handoff may be half done: it was never acknowledged.
                    usleep(UInt32(random(0...3000)))
                    bot.kill()
                    alive = false
                    kills += 1
                    next += 1
                    break
                }
                var ticket: String?
                while let line = bot.line(timeout: 20) {
                    guard let event = Self.object(line), event["session"] as? String == session else { continue }
                    if event["event"] as? String == "handoff" { ticket = event["ticket"] as? String }
                    if event["role"] as? String == "bot", let key = event["response"] as? String, key.hasPrefix("handoff") || key.hasPrefix("callback_offer") {
                        // The customer has been told: from here the ticket must survive.
                        if let ticket, (event["text"] as? String)?.contains(ticket) == true { acknowledged[session] = ticket }
                        break
                    }
                }
                #expect(acknowledged[session] != nil, "no acknowledgement for \(session)")
                next += 1
            }
            if alive { bot.closeInput() }
            bot.wait()
        }
        #expect(kills == 10)
        #expect(acknowledged.count == 490)  // 500 sessions, 10 of them cut short by the kills
        let queue = try SQLiteHandoffQueue(path: db)
        var bySession: [String: QueuedTicket] = [:]
        for ticket in try queue.all(limit: 10_000) { bySession[ticket.session] = ticket }
        for (session, id) in acknowledged {
            let ticket = try #require(bySession[session], "\(session)'s ticket \(id) is gone")
            #expect(ticket.id == id)
            #expect(ticket.status == .waiting)
            let packet = try HandoffPacket.decode(Data(ticket.packetJSON.utf8))
            #expect(packet.ticket == id && packet.session == session)
            #expect(packet.reasons == ["customer_request"])
            #expect(packet.transcript.contains { $0.role == "customer" })
        }
    }

    /// Four bot processes hand off 50 sessions each into one database at the same time: 200
    /// tickets, 200 different ids, none lost.
    @Test func botProcessesShareOneQueue() throws {
        let dir = try Repo.temporaryDirectory("bots")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        // The file is made (and migrated) once before the race, as a deployment would.
        _ = try SQLiteHandoffQueue(path: db)
        var bots: [LineProcess] = []
        for b in 0..<4 {
            let bot = try LineProcess(Binary.url, ["chat", "--jsonl", "--db", db, "--log", dir.appendingPathComponent("l\(b).jsonl").path])
            var input = ""
            for i in 0..<50 { input += "{\"session\":\"b\(b)-\(i)\",\"text\":\"转人工\"}\n" }
            bot.send(input)
            bot.closeInput()
            bots.append(bot)
        }
        var told: [String] = []
        for bot in bots {
            while let line = bot.line(timeout: 60) {
                if let event = Self.object(line), event["event"] as? String == "handoff", let ticket = event["ticket"] as? String {
                    told.append(ticket)
                }
            }
            bot.wait()
            #expect(bot.process.terminationStatus == 0)
        }
        #expect(told.count == 200)
        #expect(Set(told).count == 200)
        let stored = try SQLiteHandoffQueue(path: db).all(limit: 1000)
        #expect(Set(stored.map(\.id)) == Set(told))
        #expect(Set(stored.map(\.session)).count == 200)
    }

    static func packet(session: String, priority: Int) -> HandoffPacket {
        HandoffPacket(
            version: HandoffPacket.currentVersion, ticket: "", session: session, channel: "test", createdAt: "",
            reasons: ["customer_request"], priority: priority, skills: ["zh"], language: "zh", dialect: nil, elderly: false,
            cues: .init(frustration: 0, frustrated: false, elderly: false, dialect: nil), frustrationTrail: [],
            intents: ["human.request"], slots: [:], pending: nil, failedTurns: [], rulesFired: [], customer: nil,
            openTickets: [], ticketsMade: [], summary: "s", summaries: [:], transcript: [TranscriptLine(role: "customer", text: "转人工")])
    }
}

/// A running process fed line by line, its output read line by line.
final class LineProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(_ url: URL, _ arguments: [String]) throws {
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = Repo.root
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func send(_ text: String) {
        // A write to a process that just died raises SIGPIPE in some runtimes; the test ignores it.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    /// The next output line, or nil at end of output or after `timeout` seconds.
    func line(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            // Never block past the deadline on a process that says nothing.
            var poller = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { return nil }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
        return nil
    }

    func kill() { Foundation.kill(process.processIdentifier, SIGKILL) }

    func closeInput() { try? input.fileHandleForWriting.close() }

    func wait() { process.waitUntilExit() }
}
