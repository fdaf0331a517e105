import Foundation
import Testing

/// `switchboard chat` driven as a customer would drive it: through stdin and stdout.
@Suite(.serialized) struct ChatEndToEndTests {
    @Test func theRingtoneChargeIsResolvedThroughChat() throws {
        let dir = try Repo.temporaryDirectory("chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.sqlite").path
        let log = dir.appendingPathComponent("log.jsonl").path
        let out = try Binary.run(["chat", "--customer", "13700000004", "--db", db, "--log", log],
                                 stdin: Data("我没订过视频彩铃，为什么扣我10块\n谢谢\n".utf8))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdoutText.contains("退订"))
        #expect(out.stdoutText.contains("RF"))
        // The refund ticket is in the database: a second session is told it is already in hand.
        let again = try Binary.run(["chat", "--customer", "13700000004", "--db", db, "--log", log],
                                   stdin: Data("彩铃为什么扣我钱\n".utf8))
        #expect(again.stdoutText.contains("已在处理中"))
    }

    @Test func noRawPersonalNumberLandsInTheTranscript() throws {
        let dir = try Repo.temporaryDirectory("chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log.jsonl").path
        let raw = ["13812345678", "13800000001", "110101199003074513", "6222021234567890123", "123456"]
        let input = """
            查话费
            13800000001
            123456
            我的手机号13812345678，身份证号110101199003074513
            银行卡6222021234567890123交费失败了
            my number is 138 1234 5678, card 6222-0212-3456-7890-123

            """
        let out = try Binary.run(["chat", "--db", dir.appendingPathComponent("s.sqlite").path, "--log", log], stdin: Data(input.utf8))
        #expect(out.status == 0, "\(out.stderr)")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.split(separator: "\n").count >= 10)
        for number in raw { #expect(!text.contains(number), "\(number) in the log") }
        #expect(!text.contains("1234 5678"))
        #expect(text.contains("138****5678"))
        // Every line is a JSON object with the contract's required fields.
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["session"] is String)
            #expect(object?["role"] is String)
        }
    }

    @Test func jsonlChatSpeaksEventsAndReportsBadLines() throws {
        let dir = try Repo.temporaryDirectory("chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = "{\"text\": \"how much credit do I have\"}\nnot json\n{\"text\": \"13800000001 123456\"}\n"
        let out = try Binary.run(["chat", "--jsonl", "--db", dir.appendingPathComponent("s.sqlite").path,
                                  "--log", dir.appendingPathComponent("l.jsonl").path], stdin: Data(input.utf8))
        #expect(out.status == 0)
        let events = out.stdoutText.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.count == out.stdoutText.split(separator: "\n").count)
        #expect(events.contains { $0["event"] as? String == "error" })
        #expect(events.contains { ($0["text"] as? String)?.contains("86.50") == true })
        #expect(events.last?["event"] as? String == "end")
    }

    /// Killing the process after a reply was shown loses none of that turn's events and leaves
    /// every line of the log whole.
    @Test func killingChatLosesNothingAcknowledged() throws {
        let dir = try Repo.temporaryDirectory("chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log.jsonl").path
        let process = Process()
        process.executableURL = Binary.url
        process.arguments = ["chat", "--customer", "15000000005", "--db", dir.appendingPathComponent("s.sqlite").path, "--log", log]
        process.currentDirectoryURL = Repo.root
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        func readReply(containing marker: String) -> String {
            var seen = ""
            let deadline = Date().addingTimeInterval(20)
            while !seen.contains(marker) && Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            return seen
        }
        _ = readReply(containing: "\n")
        input.fileHandleForWriting.write(Data("when is the engineer coming\n".utf8))
        let reply = readReply(containing: "RP20261127001")
        #expect(reply.contains("RP20261127001"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "torn line: \(line)") }
        #expect(lines.contains { $0.contains("\"role\":\"customer\"") && $0.contains("engineer") })
        #expect(lines.contains { $0.contains("\"role\":\"bot\"") && $0.contains("RP20261127001") })
    }

    @Test func replayReportsTheContractFields() throws {
        let dir = try Repo.temporaryDirectory("replay")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sessions.jsonl")
        try """
            {"session":"s1","role":"customer","text":"转人工"}
            {"session":"s2","role":"customer","text":"how much data do I have left","customer":"150****0005"}
            {"session":"s2","role":"system","event":"end","outcome":"handoff"}
            garbage
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = try Binary.run(["replay", dir.path, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try JSONSerialization.jsonObject(with: out.stdout) as? [String: Any]
        #expect(report?["sessions"] as? Int == 2)
        #expect(report?["turns"] as? Int == 2)
        #expect(report?["skipped_lines"] as? Int == 1)
        #expect(report?["changed"] as? Int == 1)
        #expect((report?["outcomes"] as? [String: Int])?["handoff"] == 1)
        #expect(report?["deflection_rate"] as? Double == 0.5)
        #expect((report?["sessions_detail"] as? [[String: Any]])?.count == 2)
    }

    /// The committed sample log (made with `chat`) replays to the outcomes it recorded: a rule or
    /// flow change that alters them shows up here, as it would in an analyst's replay.
    @Test func theSampleLogReplaysToItsRecordedOutcomes() throws {
        let out = try Binary.run(["replay", "transcripts/samples", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try JSONSerialization.jsonObject(with: out.stdout) as? [String: Any]
        #expect(report?["sessions"] as? Int == 9)
        #expect(report?["changed"] as? Int == 0, "\(out.stdoutText)")
        #expect(report?["skipped_lines"] as? Int == 0)
    }

    @Test func theConversationTestsRunThroughTheBinary() throws {
        let out = try Binary.run(["test"])
        #expect(out.status == 0, "\(out.stdoutText.suffix(2000))")
        #expect(out.stdoutText.contains("conversations passed"))
    }
}
