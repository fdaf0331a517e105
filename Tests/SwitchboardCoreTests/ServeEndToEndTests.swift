#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SwitchboardStore
import Testing

/// `switchboard serve` over real loopback sockets: the server is the built binary, clients are
/// plain sockets, as a web channel or a person at `nc` would be.
@Suite(.serialized) struct ServeEndToEndTests {
    @Test func aTextConversationFromGreetingToGoodbye() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        #expect(client.line()?.contains("智能客服") == true)
        client.send("查话费")
        #expect(client.line()?.contains("手机号码") == true)
        client.send("13800000001")
        #expect(client.line()?.contains("服务密码") == true)
        client.send("123456")
        let answer = client.lines(until: { $0.contains("余额") })
        #expect(answer.last?.contains("86.50") == true, "balance answered after the PIN: \(answer)")
        client.send("再见")
        #expect(client.line() != nil)
        #expect(client.waitForClose(), "the server closes the connection after the goodbye")
        #expect(server.stop() == 0, "a clean stop")
        let events = try server.events()
        let customer = events.filter { $0["role"] as? String == "customer" }
        #expect(customer.map { $0["text"] as? String } == ["查话费", "138****0001", "******", "再见"], "masked in the log")
        #expect(events.last?["event"] as? String == "end")
        #expect(events.last?["outcome"] as? String == "resolved")
    }

    @Test func aJSONLConversationAsAChannelSpeaksIt() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        let start = client.json()
        #expect(start?["event"] as? String == "start")
        let session = try #require(start?["session"] as? String)
        #expect(client.json()?["response"] as? String == "greeting")
        client.send(#"{"text":"查一下话费","customer":"13800000001"}"#)
        let reply = client.json()
        #expect(reply?["response"] as? String == "balance", "an identified customer gets the balance at once")
        #expect(reply?["session"] as? String == session)
        client.send(#"{"end":true}"#)
        let end = client.json()
        #expect(end?["event"] as? String == "end")
        #expect(end?["outcome"] as? String == "resolved")
        #expect(client.waitForClose())
        #expect(server.stop() == 0, "a clean stop")
        let start0 = try server.events().first
        #expect(start0?["customer"] as? String == "138****0001", "the start event names the (masked) customer")
    }

    @Test func anAgentTakesOverLiveAndHandsBackToTheBot() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let agent = try LineSocket(port: server.agentPort)
        agent.send(#"{"cmd":"login","name":"小王","skills":["zh","billing","general"]}"#)
        #expect(agent.json()?["event"] as? String == "welcome")
        #expect(agent.json()?["event"] as? String == "queue")

        let customer = try LineSocket(port: server.port)
        _ = customer.json()
        _ = customer.json()
        customer.send(#"{"text":"查一下话费","customer":"13800000001"}"#)
        #expect(customer.json()?["response"] as? String == "balance")
        customer.send(#"{"text":"我要转人工"}"#)
        let handoff = customer.jsons(until: { $0["role"] as? String == "bot" })
        let ticket = try #require(handoff.first(where: { $0["event"] as? String == "handoff" })?["ticket"] as? String)

        // The queue view updates by itself, then the agent claims and reads the packet.
        let update = agent.jsons(until: { ($0["waiting"] as? Int ?? 0) > 0 })
        #expect((update.last?["tickets"] as? [[String: Any]])?.first?["live"] as? Bool == true)
        agent.send(#"{"cmd":"claim"}"#)
        let claimed = agent.jsons(until: { $0["event"] as? String == "claimed" }).last
        #expect(claimed?["ticket"] as? String == ticket)
        #expect(claimed?["live"] as? Bool == true)
        let transcript = (claimed?["packet"] as? [String: Any])?["transcript"] as? [[String: Any]] ?? []
        #expect(transcript.contains { $0["text"] as? String == "查一下话费" }, "the agent sees everything said before")

        let joined = customer.jsons(until: { $0["role"] as? String == "bot" }).last
        #expect(joined?["response"] as? String == "agent_joined")
        #expect((joined?["text"] as? String)?.contains("小王") == true, "the customer sees the agent's name")

        customer.send(#"{"text":"上个月多扣了我20块"}"#)
        #expect(customer.json()?["event"] as? String == "delivered")
        let heard = agent.jsons(until: { $0["event"] as? String == "customer" }).last
        #expect(heard?["text"] as? String == "上个月多扣了我20块")

        agent.send(#"{"cmd":"say","text":"我看到了，是一笔流量包费用，已为您退回。"}"#)
        let said = customer.json()
        #expect(said?["role"] as? String == "agent")
        #expect(said?["agent"] as? String == "小王")
        #expect(said?["text"] as? String == "我看到了，是一笔流量包费用，已为您退回。")

        agent.send(#"{"cmd":"return"}"#)
        #expect(agent.jsons(until: { $0["event"] as? String == "returned" }).last?["ticket"] as? String == ticket)
        let back = customer.jsons(until: { $0["role"] as? String == "bot" }).last
        #expect(back?["response"] as? String == "handoff_returned")
        // The bot has the customer again, still identified.
        customer.send(#"{"text":"流量还剩多少"}"#)
        let usage = customer.json()
        #expect(usage?["role"] as? String == "bot")
        #expect(usage?["state"] as? String != "handed_off")

        #expect(server.stop() == 0, "a clean stop")
        let queue = try SQLiteHandoffQueue(path: server.db)
        #expect(try queue.ticket(ticket)?.status == .returned)
        let log = try queue.log(of: ticket)
        #expect(log.contains { $0.role == "agent" && $0.author == "小王" && $0.text.contains("流量包") })
        #expect(log.contains { $0.role == "customer" && $0.text.contains("多扣了我20块") })
        let events = try server.events()
        #expect(events.contains { $0["role"] as? String == "agent" && $0["agent"] as? String == "小王" })
    }

    @Test func theTerminalAgentClientResolvesALiveCase() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let customer = try LineSocket(port: server.port)
        _ = customer.line()
        customer.send("转人工")
        #expect(customer.lines(until: { $0.contains("HO") }).last?.contains("HO") == true)
        let agent = try LineProcess(Binary.url, ["agent", "connect", "--name", "Ana", "--skills", "zh,general",
                                                 "--port", String(server.agentPort)])
        defer { agent.kill() }
        #expect(agent.lines(until: { $0.contains("1 waiting") }, timeout: 5) != nil, "the queue shows the waiting customer")
        agent.send("/claim\n")
        #expect(agent.lines(until: { $0.contains("Customer: 转人工") }, timeout: 5) != nil, "the transcript so far")
        #expect(customer.lines(until: { $0.contains("Ana") }).last?.contains("Ana") == true)
        agent.send("您好，请问有什么可以帮您？\n")
        #expect(customer.line() == "Ana: 您好，请问有什么可以帮您？")
        customer.send("我想问一下账单")
        #expect(agent.lines(until: { $0.contains("Customer: 我想问一下账单") }, timeout: 5) != nil)
        agent.send("/resolve 解答了账单问题\n")
        #expect(customer.lines(until: { $0.contains("处理完毕") }).last?.contains("处理完毕") == true)
        #expect(customer.waitForClose(), "resolving closes the customer's chat")
        agent.send("/quit\n")
        agent.wait()
    }

    @Test func aCustomerWhoLeavesAnAgentBecomesACallBack() throws {
        let server = try ServerProcess(["--protocol", "jsonl", "--resume-window", "0.5"])
        defer { server.stop() }
        let agent = try LineSocket(port: server.agentPort)
        agent.send(#"{"cmd":"login","name":"Bo","skills":"zh,general,billing"}"#)
        let customer = try LineSocket(port: server.port)
        _ = customer.jsons(until: { $0["role"] as? String == "bot" })
        customer.send(#"{"text":"转人工","customer":"13800000002"}"#)
        _ = customer.jsons(until: { $0["role"] as? String == "bot" })
        agent.send(#"{"cmd":"claim"}"#)
        let claimed = agent.jsons(until: { $0["event"] as? String == "claimed" }).last
        let ticket = try #require(claimed?["ticket"] as? String)
        customer.close()
        #expect(agent.jsons(until: { $0["event"] as? String == "customer_disconnected" }).isEmpty == false)
        let left = agent.jsons(until: { $0["event"] as? String == "customer_left" }, timeout: 5).last
        #expect(left?["callback"] as? String == "138****0002")
        agent.send(#"{"cmd":"say","text":"还在吗"}"#)
        #expect((agent.jsons(until: { $0["event"] as? String == "error" }).last?["text"] as? String)?.contains("no longer connected") == true)
        #expect(server.stop() == 0, "a clean stop")
        let queue = try SQLiteHandoffQueue(path: server.db)
        #expect(try queue.ticket(ticket)?.callbackPhone == "13800000002")
    }

    /// An agent (Chinese skills) signs in; a customer connects and asks for a person; the agent
    /// claims the ticket. What each side saw is handed back for the test to check.
    static func claimedByAnAgent(on server: ServerProcess, named name: String) throws
        -> (agent: LineSocket, customer: LineSocket, session: String?, ticket: String, claimedTicket: String?, told: String?)
    {
        let agent = try LineSocket(port: server.agentPort)
        agent.send(#"{"cmd":"login","name":"\#(name)","skills":["zh"]}"#)
        let customer = try LineSocket(port: server.port)
        let session = customer.jsons(until: { $0["role"] as? String == "bot" }).first?["session"] as? String
        customer.send(#"{"text":"转人工"}"#)
        let ticket = try #require(customer.jsons(until: { $0["role"] as? String == "bot" })
            .first(where: { $0["event"] as? String == "handoff" })?["ticket"] as? String)
        agent.send(#"{"cmd":"claim"}"#)
        let claimed = agent.jsons(until: { $0["event"] as? String == "claimed" }).last?["ticket"] as? String
        let told = customer.jsons(until: { $0["role"] as? String == "bot" }).last?["response"] as? String
        return (agent, customer, session, ticket, claimed, told)
    }

    @Test func anAgentWhoDisconnectsPutsTheCustomerBackInTheQueue() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let claim = try Self.claimedByAnAgent(on: server, named: "Cai")
        let (agent, customer, ticket) = (claim.agent, claim.customer, claim.ticket)
        #expect(claim.claimedTicket == ticket)
        #expect(claim.told == "agent_joined")
        agent.reset()
        let told = customer.jsons(until: { $0["role"] as? String == "bot" }).last
        #expect(told?["response"] as? String == "agent_gone", "the customer hears the agent left")
        #expect((told?["text"] as? String)?.contains(ticket) == true)
        // The next agent finds the ticket waiting again.
        let next = try LineSocket(port: server.agentPort)
        next.send(#"{"cmd":"login","name":"Dai","skills":["zh"]}"#)
        let queue = next.jsons(until: { $0["event"] as? String == "queue" }).last
        #expect((queue?["tickets"] as? [[String: Any]])?.first?["ticket"] as? String == ticket)
    }

    @Test func whatAnAgentSaidWhileTheCustomerWasAwayArrivesOnResume() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let claim = try Self.claimedByAnAgent(on: server, named: "Eve")
        let (agent, first) = (claim.agent, claim.customer)
        let session = try #require(claim.session)
        first.reset()
        #expect(agent.jsons(until: { $0["event"] as? String == "customer_disconnected" }).isEmpty == false)
        agent.send(#"{"cmd":"say","text":"我先帮您查一下，稍等"}"#)
        _ = agent.jsons(until: { $0["event"] as? String == "sent" })
        let second = try LineSocket(port: server.port)
        _ = second.jsons(until: { $0["role"] as? String == "bot" })
        second.send(#"{"resume":"\#(session)"}"#)
        let back = second.jsons(until: { $0["role"] as? String == "agent" })
        #expect(back.first?["event"] as? String == "resumed")
        #expect(back.last?["text"] as? String == "我先帮您查一下，稍等", "the missed message is delivered")
        #expect(agent.jsons(until: { $0["event"] as? String == "customer_back" }).isEmpty == false)
    }

    @Test func theMetricsPageCountsWhatHappened() throws {
        let server = try ServerProcess(["--metrics-port", "0"])
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        _ = client.line()
        client.send("查话费")
        _ = client.line()
        client.sendBytes([0xFF, 0x0A])
        _ = client.line()
        let page = try LineSocket(port: server.metricsPort)
        let lines = page.lines(until: { $0.hasPrefix("switchboard_resident_bytes") })
        #expect(lines.first == "HTTP/1.0 200 OK\r")
        #expect(lines.contains("switchboard_sessions_open 1"))
        #expect(lines.contains("switchboard_turns_total 1"))
        #expect(lines.contains("switchboard_lines_rejected_total 1"))
    }

    @Test func aDroppedJSONLSessionResumesWhereItWas() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let first = try LineSocket(port: server.port)
        let session = try #require(first.json()?["session"] as? String)
        _ = first.json()
        first.send(#"{"text":"查话费"}"#)
        #expect(first.json()?["response"] as? String == "ask_phone")
        first.reset()

        let second = try LineSocket(port: server.port)
        _ = second.jsons(until: { $0["role"] as? String == "bot" })
        second.send(#"{"resume":"\#(session)"}"#)
        let resumed = second.json()
        #expect(resumed?["event"] as? String == "resumed")
        #expect(resumed?["state"] as? String == "billing.balance:ask_phone")
        second.send(#"{"text":"13800000001"}"#)
        let next = second.json()
        #expect(next?["response"] as? String == "ask_pin", "the flow goes on where it stopped")
        #expect(next?["session"] as? String == session)

        let third = try LineSocket(port: server.port)
        _ = third.jsons(until: { $0["role"] as? String == "bot" })
        third.send(#"{"resume":"s-0000000000000000"}"#)
        #expect(third.json()?["code"] as? String == "resume_failed")
        #expect(server.stop() == 0, "a clean stop")
        // The connection that resumed left no empty session behind.
        let sessions = Set(try server.events().compactMap { $0["session"] as? String })
        #expect(sessions.count == 2, "the resumed session and the third connection's, not the second's: \(sessions)")
    }

    @Test func badInputGetsAnErrorAndTheConnectionStays() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        _ = client.jsons(until: { $0["role"] as? String == "bot" })
        client.send(String(repeating: "话", count: 2000))  // 6,000 bytes
        #expect(client.json()?["code"] as? String == "line_too_long")
        client.sendBytes([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A])
        #expect(client.json()?["code"] as? String == "invalid_utf8")
        client.send("not json")
        #expect(client.json()?["code"] as? String == "bad_json")
        // A character split across two TCP writes.
        let bytes = Array(#"{"text":"你好"}"#.utf8) + [0x0A]
        client.sendBytes(Array(bytes[..<10]))
        usleep(100_000)
        client.sendBytes(Array(bytes[10...]))
        let greeting = client.json()
        #expect(greeting?["response"] as? String == "greeting", "你 arrived whole: \(String(describing: greeting))")
        client.send("{\"text\":\"查\\u0007话\\u0001费\"}")
        #expect(client.json()?["response"] as? String == "ask_phone", "control characters are spaces, not errors")
        #expect(server.stop() == 0, "a clean stop")
        let customer = try server.events().filter { $0["role"] as? String == "customer" }
        #expect(customer.count == 2, "refused lines are not turns")
    }

    @Test func theTextProtocolRefusesBadBytesToo() throws {
        let server = try ServerProcess(["--max-line-bytes", "100"])
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        _ = client.line()
        client.sendBytes(Array(repeating: 0x61, count: 300) + [0x0A])
        #expect(client.line()?.contains("too long") == true)
        client.sendBytes([0xE4, 0xBD, 0x0A])  // half a character, then the newline
        #expect(client.line()?.contains("UTF-8") == true)
        client.send("你好")
        #expect(client.line()?.contains("您好") == true, "the connection stays usable")
    }

    @Test func connectionsBeyondTheLimitAreToldTheLinesAreBusy() throws {
        let server = try ServerProcess(["--max-connections", "2"])
        defer { server.stop() }
        let a = try LineSocket(port: server.port)
        let b = try LineSocket(port: server.port)
        #expect(a.line() != nil)
        #expect(b.line() != nil)
        let c = try LineSocket(port: server.port)
        #expect(c.line()?.contains("busy") == true)
        #expect(c.waitForClose())
        a.close()
        usleep(200_000)
        let d = try LineSocket(port: server.port)
        #expect(d.line()?.contains("智能客服") == true, "a freed place is taken again")
    }

    @Test func anIdleSessionEndsWithAGoodbye() throws {
        let server = try ServerProcess(["--protocol", "jsonl", "--idle-timeout", "1"])
        defer { server.stop() }
        let client = try LineSocket(port: server.port)
        _ = client.jsons(until: { $0["role"] as? String == "bot" })
        client.send(#"{"text":"查话费"}"#)
        _ = client.json()
        let goodbye = client.jsons(until: { $0["event"] as? String == "end" }, timeout: 4)
        #expect(goodbye.first?["response"] as? String == "idle_goodbye")
        #expect(goodbye.last?["outcome"] as? String == "abandoned", "left in the middle of a flow")
        #expect(client.waitForClose())
    }

    @Test func halfClosedAndResetConnections() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        // Half-closed: every line sent before the FIN is answered.
        let half = try LineSocket(port: server.port)
        half.send("你好")
        half.send("查话费")
        half.shutdownWrite()
        let answers = half.lines(until: { _ in false }, timeout: 3)
        #expect(answers.count >= 3, "greeting and both answers: \(answers)")
        #expect(answers.last?.contains("手机号码") == true)
        // Reset in the middle of a session: the server carries on.
        let reset = try LineSocket(port: server.port)
        _ = reset.line()
        reset.send("查话费")
        reset.reset()
        let next = try LineSocket(port: server.port)
        #expect(next.line()?.contains("智能客服") == true)
        #expect(server.stop() == 0, "a clean stop")
        let ends = try server.events().filter { $0["event"] as? String == "end" }
        #expect(ends.count == 3, "every session ended in the log")
    }

    @Test func aClientThatNeverReadsCannotGrowTheServer() throws {
        let server = try ServerProcess(["--protocol", "jsonl", "--write-timeout", "2"])
        defer { server.stop() }
        let before = server.residentBytes()
        // Questions whose answers are never read, until the server stops taking them.
        let line = Array(#"{"text":"帮我查一下这个月的话费账单和流量使用情况"}"#.utf8) + [0x0A]
        var block: [UInt8] = []
        for _ in 0..<1000 { block += line }
        let flood = try LineSocket(port: server.port)
        let (sent, stalled) = flood.flood(block, stallSeconds: 1.5, limitSeconds: 30)
        #expect(stalled, "the server stopped reading from a client that does not read (after \(sent >> 20) MB)")
        let other = try LineSocket(port: server.port)
        #expect(other.json()?["event"] as? String == "start", "others are still served")
        let growth = server.residentBytes() - before
        #expect(growth < 64 << 20, "server memory grew \(growth >> 20) MB")
        // The stalled reader is disconnected after --write-timeout (2 s).
        let deadline = Date().addingTimeInterval(6)
        var cut = false
        while !cut && Date() < deadline {
            usleep(200_000)
            cut = !flood.stillOpenForSending()
        }
        #expect(cut, "the connection was closed")
    }

    @Test func sigtermUnderLoadLosesNothingAcknowledged() throws {
        let server = try ServerProcess(["--protocol", "jsonl"])
        // 24 customers, each writing as fast as the answers come, some handing off.
        let record = Acknowledged()
        let port = server.port
        let group = DispatchGroup()
        for i in 0..<24 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let client = try? LineSocket(port: port) else { return }
                guard let session = client.json()?["session"] as? String else { return }
                _ = client.json()
                let script = i % 4 == 0 ? ["查话费", "我要转人工", "等多久", "好的", "还要多久"] : ["查话费", "你好", "宽带坏了", "算了", "流量还剩多少"]
                var n = 0
                while true {
                    client.send("{\"text\":\"\(script[n % script.count])\",\"customer\":\"13800000001\"}")
                    n += 1
                    let events = client.jsons(until: { $0["role"] as? String == "bot" || $0["event"] as? String == "end" }, timeout: 5)
                    guard events.last?["role"] as? String == "bot" else { return }
                    record.add(session: session, events: events)
                }
            }.start()
        }
        usleep(1_500_000)
        let status = server.stop()
        #expect(group.wait(timeout: .now() + 10) == .success, "every client was let go")
        #expect(status == 0, "a clean exit")
        let logged = try server.events().filter { $0["role"] as? String == "customer" }
        var bySession: [String: Int] = [:]
        for e in logged { bySession[e["session"] as? String ?? "", default: 0] += 1 }
        let (acknowledged, tickets) = record.snapshot
        let total = acknowledged.values.reduce(0, +)
        #expect(total > 200, "load was running: \(total) turns")
        for (session, count) in acknowledged {
            #expect(bySession[session, default: 0] >= count, "session \(session): \(count) answered, \(bySession[session, default: 0]) logged")
        }
        let queue = try SQLiteHandoffQueue(path: server.db)
        #expect(!tickets.isEmpty)
        for ticket in tickets { #expect(try queue.ticket(ticket) != nil, "handoff \(ticket) is in the queue") }
        let ends = try server.events().filter { $0["event"] as? String == "end" }
        #expect(Set(ends.compactMap { $0["session"] as? String }).isSuperset(of: acknowledged.keys), "every session ended in the log")
    }
}

/// What the server answered, gathered from many client threads.
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var turns: [String: Int] = [:]
    private var tickets: [String] = []

    func add(session: String, events: [[String: Any]]) {
        lock.lock()
        defer { lock.unlock() }
        // A turn is acknowledged by its answer; the shutdown notice answers nothing.
        if (events.last?["response"] as? String)?.hasPrefix("server_closing") != true { turns[session, default: 0] += 1 }
        for e in events where e["event"] as? String == "handoff" { tickets.append(e["ticket"] as? String ?? "") }
    }

    var snapshot: ([String: Int], [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (turns, tickets)
    }
}

/// A `switchboard serve` child process on free ports with its own database and log.
final class ServerProcess {
    let process = Process()
    let folder: URL
    let port: Int
    let agentPort: Int
    let metricsPort: Int
    var db: String { folder.appendingPathComponent("serve.sqlite").path }
    var log: String { folder.appendingPathComponent("transcripts.jsonl").path }
    private var status: Int32?

    init(_ extra: [String] = []) throws {
        folder = try Repo.temporaryDirectory("serve")
        process.executableURL = Binary.url
        process.arguments = ["serve", "--port", "0", "--agent-port", "0", "--rules", Repo.rules, "--lexicons", Repo.lexicons,
                             "--db", folder.appendingPathComponent("serve.sqlite").path,
                             "--log", folder.appendingPathComponent("transcripts.jsonl").path, "--log-level", "warning"] + extra
        let out = Pipe()
        process.standardOutput = out
        // The server's log, for the message when it does not start.
        let errURL = folder.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte.first == 0x0A { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        func number(after marker: String) -> Int {
            guard let range = text.range(of: marker) else { return 0 }
            return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        port = number(after: "customers on 127.0.0.1:")
        agentPort = number(after: "agents on 127.0.0.1:")
        metricsPort = number(after: "metrics on 127.0.0.1:")
        guard port > 0, agentPort > 0 else {
            process.waitUntilExit()
            let log = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw ServeTestError("server did not start (exit \(process.terminationStatus)): \(text) \(log.suffix(2000))")
        }
    }

    /// SIGTERM and wait; the exit status, or -1 when the server did not stop within 15 s (it is
    /// then killed, so a hung shutdown fails the test instead of hanging the run).
    @discardableResult
    func stop() -> Int32 {
        if let status { return status }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            status = -1
            return -1
        }
        status = process.terminationStatus
        return process.terminationStatus
    }

    func events() throws -> [[String: Any]] { try Repo.jsonLines(log) }

    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking loopback client reading whole lines with a timeout.
final class LineSocket {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ServeTestError("connect to \(port): \(String(cString: strerror(errno)))") }
    }

    deinit { if !closed { Glibc.close(fd) } }

    func send(_ text: String) { sendBytes(Array(text.utf8) + [0x0A]) }

    func sendBytes(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Sends `block` over and over without reading, until the peer has taken nothing for
    /// `stallSeconds` (true) or `limitSeconds` pass; the bytes sent.
    func flood(_ block: [UInt8], stallSeconds: Double, limitSeconds: Double) -> (Int, Bool) {
        let deadline = Date().addingTimeInterval(limitSeconds)
        var lastProgress = Date()
        var total = 0
        while Date() < deadline {
            let n = block.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, block.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n > 0 {
                total += n
                lastProgress = Date()
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if Date().timeIntervalSince(lastProgress) >= stallSeconds { return (total, true) }
                usleep(10_000)
            } else {
                break
            }
        }
        return (total, false)
    }

    /// False once the peer has closed (a send fails with a reset or broken pipe).
    func stillOpenForSending() -> Bool {
        let byte: [UInt8] = [0x0A]
        let n = byte.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        return n > 0 || errno == EAGAIN || errno == EWOULDBLOCK
    }

    /// The next line, or nil after `timeout` seconds or at end of stream.
    func line(timeout: Double = 3) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000)) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }

    /// Lines until one matches (included), or until the timeout; all lines read.
    func lines(until match: (String) -> Bool, timeout: Double = 3) -> [String] {
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        while let line = line(timeout: max(0.01, deadline.timeIntervalSinceNow)) {
            seen.append(line)
            if match(line) { break }
        }
        return seen
    }

    func json(timeout: Double = 3) -> [String: Any]? {
        guard let line = line(timeout: timeout) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    func jsons(until match: ([String: Any]) -> Bool, timeout: Double = 3) -> [[String: Any]] {
        var seen: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(timeout)
        while let object = json(timeout: max(0.01, deadline.timeIntervalSinceNow)) {
            seen.append(object)
            if match(object) { break }
        }
        return seen
    }

    /// True when the server closes the connection within a few seconds.
    func waitForClose(timeout: Double = 3) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return true }
            if poller.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
            if poller.revents & Int16(POLLIN) != 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EAGAIN) { return true }
            }
        }
        return false
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Closes with a TCP reset instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }
}

extension LineProcess {
    /// Output lines until one matches; nil if none does within the timeout.
    func lines(until match: (String) -> Bool, timeout: Double) -> [String]? {
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0, let line = line(timeout: deadline.timeIntervalSinceNow) {
            seen.append(line)
            if match(line) { return seen }
        }
        return nil
    }
}
