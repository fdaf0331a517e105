import Foundation
import Testing

@testable import SwitchboardCore

/// The replay report's numbers, checked against small logs counted by hand.
@Suite struct ReplayReportTests {
    /// Four sessions, interleaved in one file, with three malformed lines:
    /// - a: customer lines only, 我要转人工 → handoff (customer_request);
    /// - b: identified, timestamped, app channel; asks the balance and thanks → resolved, though
    ///   its log recorded `abandoned` (so it counts as changed);
    /// - c: only 今天天气怎么样 → a fallback, the conversation ends on it → abandoned;
    /// - d: English, asks for a person → handoff.
    static let handCounted = """
        {"session":"a","role":"customer","text":"我要转人工"}
        not json at all
        {"session":"b","seq":1,"ts":"2026-11-01T10:00:00Z","role":"system","event":"start","channel":"app","customer":"137****0004","lang":"zh"}
        {"session":"b","seq":2,"ts":"2026-11-01T10:00:05Z","role":"customer","text":"话费还剩多少","intent":"billing.balance","slots":{},"cues":{"frustration":0}}
        {"session":"c","role":"customer","text":"今天天气怎么样"}
        {"session":"b","seq":3,"ts":"2026-11-01T10:00:06Z","role":"bot","text":"您的余额是 … \\"quoted\\" \\u4f59额","response":"balance"}
        {"session":"x","role":"wizard","text":"hi"}
        {"session":"b","seq":4,"ts":"2026-11-01T10:00:20Z","role":"customer","text":"谢谢"}
        {"session":5,"role":"customer","text":"session is not a string"}
        {"session":"d","role":"customer","text":"I want to talk to a real person"}
        {"session":"b","seq":5,"ts":"2026-11-01T10:00:21Z","role":"system","event":"end","outcome":"abandoned"}

        """

    @Test func handCountedLogGivesTheExpectedFigures() throws {
        let report = try Self.replay(Self.handCounted)
        #expect(report["sessions"] as? Int == 4)
        #expect(report["turns"] as? Int == 5)
        #expect(report["outcomes"] as? [String: Int] == ["resolved": 1, "handoff": 2, "abandoned": 1])
        #expect(report["deflection_rate"] as? Double == 0.25)
        #expect(report["skipped_lines"] as? Int == 3)
        #expect(report["changed"] as? Int == 1)
        #expect(report["fallback_turns"] as? Int == 1)
        #expect(report["handoff_reasons"] as? [String: Int] == ["customer_request": 2])
        let detail = try #require(report["sessions_detail"] as? [[String: Any]])
        // In the order sessions completed: b at its end event, the others at the end of the file.
        #expect(detail.map { $0["session"] as? String } == ["b", "a", "c", "d"])
        #expect(detail.map { $0["outcome"] as? String } == ["resolved", "handoff", "abandoned", "handoff"])
        #expect(detail[0]["recorded_outcome"] as? String == "abandoned")
        // Only b carries a customer and timestamps: it is resolved and nobody came back.
        let contained = try #require(report["contained"] as? [String: Any])
        #expect(contained["sessions_with_customer_and_time"] as? Int == 1)
        #expect(contained["sessions"] as? Int == 1)
        let segments = try #require(report["segments"] as? [String: [String: [String: Any]]])
        #expect(segments["language"]?["zh"]?["sessions"] as? Int == 3)
        #expect(segments["language"]?["en"]?["sessions"] as? Int == 1)
        #expect(segments["channel"]?["app"]?["resolved"] as? Int == 1)
        #expect(segments["channel"]?["unknown"]?["sessions"] as? Int == 3)
        #expect(segments["first_intent"]?["billing.balance"]?["deflection_rate"] as? Double == 1)
        #expect(segments["handoff_reason"]?["customer_request"]?["sessions"] as? Int == 2)
        let fallbacks = try #require(report["fallback_clusters"] as? [[String: Any]])
        #expect(fallbacks.first?["label"] as? String == "今天天气怎么样")
        let definitions = try #require(report["definitions"] as? [String: String])
        #expect(definitions["version"] == "1")
        #expect(definitions["deflection_rate"] == "resolved / sessions")
    }

    @Test func compareListsEachChangedSessionWithItsTurns() throws {
        let report = try Self.replay(Self.handCounted, compare: true)
        let compare = try #require(report["compare"] as? [String: Any])
        #expect(compare["sessions"] as? Int == 1)  // only b recorded an outcome
        #expect(compare["changed"] as? Int == 1)
        #expect(compare["transitions"] as? [String: Int] == ["abandoned→resolved": 1])
        let changed = try #require(compare["changed_sessions"] as? [[String: Any]])
        #expect(changed.count == 1)
        #expect(changed[0]["session"] as? String == "b")
        #expect(changed[0]["turns"] as? [String] == ["话费还剩多少", "谢谢"])
        #expect(changed[0]["before"] as? String == "abandoned")
        #expect(changed[0]["after"] as? String == "resolved")
    }

    @Test func whatIfShowsWhatARuleChangeDoes() throws {
        // The change: frustration marked from the first sign (threshold 0.01, not 0.5), and a
        // frustrated customer handed over at once instead of being offered a person first.
        let other = try Repo.temporaryDirectory("rules-other")
        for file in try FileManager.default.contentsOfDirectory(atPath: Repo.rules) {
            try FileManager.default.copyItem(atPath: Repo.rules + "/" + file, toPath: other.appendingPathComponent(file).path)
        }
        let handoff = other.appendingPathComponent("handoff.yaml")
        let text = try String(contentsOf: handoff, encoding: .utf8)
        let changedText = text.replacingOccurrences(of: "  threshold: 0.5 ", with: "  threshold: 0.01")
            .replacingOccurrences(of: "frustration: {priority: 3, mode: offer_first}", with: "frustration: {priority: 3, mode: at_once}")
        #expect(changedText.contains("threshold: 0.01") && changedText.contains("mode: at_once}\n    elderly_assist"))
        try changedText.write(to: handoff, atomically: true, encoding: .utf8)
        let otherRules = try RuleLoader.load(RuleSources(rulesDirectory: other.path, lexiconsDirectory: Repo.lexicons))

        let log = """
            {"session":"c","role":"customer","text":"今天天气怎么样"}
            {"session":"e","role":"customer","text":"宽带又断了！！！怎么回事"}
            {"session":"b","role":"customer","text":"话费还剩多少"}

            """
        let report = try Self.replay(log, other: otherRules)
        let whatIf = try #require(report["what_if"] as? [String: Any])
        #expect(whatIf["other_rules"] as? String == "other")
        #expect(whatIf["changed"] as? Int == 1)
        #expect(whatIf["transitions"] as? [String: Int] == ["abandoned→handoff": 1])
        let changed = try #require(whatIf["changed_sessions"] as? [[String: Any]])
        #expect(changed.count == 1)
        #expect(changed.first?["session"] as? String == "e")
        #expect(changed.first?["turns"] as? [String] == ["宽带又断了！！！怎么回事"])
        #expect(changed.first?["after_reasons"] as? [String] == ["frustration"])
        #expect((whatIf["before"] as? [String: Any])?["handoff"] as? Int == 0)
        #expect((whatIf["after"] as? [String: Any])?["handoff"] as? Int == 1)
    }

    @Test func aCustomerBackWithinADayWithTheSameIntentIsNotContained() throws {
        func session(_ id: String, _ day: Int, _ hour: Int, _ text: String) -> String {
            let ts = String(format: "2026-11-%02dT%02d:00:00Z", day, hour)
            let later = String(format: "2026-11-%02dT%02d:01:00Z", day, hour)
            return """
                {"session":"\(id)","ts":"\(ts)","role":"system","event":"start","customer":"137****0004","channel":"web"}
                {"session":"\(id)","ts":"\(ts)","role":"customer","text":"\(text)"}
                {"session":"\(id)","ts":"\(later)","role":"customer","text":"谢谢"}
                {"session":"\(id)","ts":"\(later)","role":"system","event":"end","outcome":"resolved"}

                """
        }
        // s1 and s2: the balance twice within a day (s1 is not contained); s3: three days later;
        // s4: the same day as s3 but another intent (data usage), which is no repeat of s3.
        let log = session("s1", 1, 10, "话费还剩多少") + session("s2", 1, 15, "我还有多少话费") + session("s3", 4, 9, "话费还剩多少")
            + session("s4", 4, 11, "流量还剩多少")
        let report = try Self.replay(log)
        #expect(report["outcomes"] as? [String: Int] == ["resolved": 4, "handoff": 0, "abandoned": 0])
        let contained = try #require(report["contained"] as? [String: Any])
        #expect(contained["sessions_with_customer_and_time"] as? Int == 4)
        #expect(contained["resolved_then_repeated"] as? Int == 1)
        #expect(contained["sessions"] as? Int == 3)
        #expect(contained["rate"] as? Double == 0.75)
    }

    @Test func theSameInputGivesByteIdenticalJSONWhateverTheThreads() throws {
        var log = ""
        for i in 0..<300 {
            let texts = ["话费还剩多少", "我要转人工", "今天天气怎么样", "what's my data usage", "宽带断了"]
            log += #"{"session":"s\#(i)","role":"customer","text":"\#(texts[i % texts.count])"}"# + "\n"
            if i % 3 == 0 { log += #"{"session":"s\#(i)","role":"customer","text":"谢谢"}"# + "\n" }
        }
        let file = try Self.write(log)
        func json(threads: Int, batch: Int) throws -> Data {
            var options = ReplayRunner.Options()
            options.threads = threads
            options.batchSize = batch
            options.compare = true
            let result = try ReplayRunner(rules: try Repo.ruleSet(), options: options).run(files: [file])
            var out = Data()
            result.writeJSON { out.append($0) }
            return out
        }
        let first = try json(threads: 2, batch: 7)
        #expect(try json(threads: 2, batch: 7) == first)
        #expect(try json(threads: 1, batch: 300) == first)
        #expect(try json(threads: 3, batch: 1) == first)
    }

    @Test func memoryFollowsOpenSessionsNotTheFile() throws {
        // 2,000 sessions one after another, each closed by its end event, and 2,000 more without
        // one but an hour apart in log time: never more than a handful open at once.
        var log = ""
        for i in 0..<2000 {
            log += #"{"session":"e\#(i)","role":"customer","text":"话费还剩多少"}"# + "\n"
            log += #"{"session":"e\#(i)","role":"system","event":"end","outcome":"resolved"}"# + "\n"
        }
        for i in 0..<2000 {
            let ts = Date(timeIntervalSince1970: 1_790_000_000 + Double(i) * 3600)
            log += #"{"session":"g\#(i)","role":"customer","text":"谢谢","ts":"\#(TranscriptEvent.timestamp(ts))"}"# + "\n"
        }
        let result = try ReplayRunner(rules: try Repo.ruleSet()).run(files: [try Self.write(log)])
        #expect(result.tally.outcomes.sessions == 4000)
        #expect(result.input.peakOpenSessions < 4100 / 100)
    }

    @Test func badLinesAreSkippedAndCountedNeverFatal() throws {
        var bytes = Data(#"{"session":"a","role":"customer","text":"我要转人工"}"#.utf8 + [0x0A])
        bytes += Data([0xFF, 0xFE, 0x7B, 0x0A])  // invalid UTF-8
        bytes += Data(("{\"session\":\"big\",\"role\":\"customer\",\"text\":\"" + String(repeating: "话", count: 400_000) + "\"}\n").utf8)
        bytes += Data(#"{"session":"a","role":"customer","text":"bad \q escape"}"#.utf8 + [0x0A])
        bytes += Data("\u{0}\u{7}\n".utf8)
        bytes += Data(#"{"session":"c","role":"customer","text":"谢谢"}"#.utf8 + [0x0A])
        bytes += Data(#"{"session":"d","role":"customer","text":"cut off by a kill"#.utf8)  // no newline, not whole
        let dir = try Repo.temporaryDirectory("replay-bad")
        let file = dir.appendingPathComponent("bad.jsonl")
        try bytes.write(to: file)
        let result = try ReplayRunner(rules: try Repo.ruleSet()).run(files: [file.path])
        #expect(result.tally.outcomes.sessions == 2)
        #expect(result.input.skippedLines == 5)
    }

    @Test func linesAfterASessionsEndAreCountedNotReplayed() throws {
        let log = """
            {"session":"a","role":"customer","text":"话费还剩多少"}
            {"session":"a","role":"system","event":"end","outcome":"abandoned"}
            {"session":"a","role":"customer","text":"我要转人工"}

            """
        let report = try Self.replay(log)
        #expect(report["sessions"] as? Int == 1)
        #expect(report["late_lines"] as? Int == 1)
        #expect(report["handoff_reasons"] as? [String: Int] == [:])
    }

    @Test func identityAnswersAreDroppedAndTheSessionReplaysAsIdentified() throws {
        // Verified in the chat: the number and PIN lines are masked in the log, and the bot's
        // lines name the customer from then on.
        let log = """
            {"session":"v","role":"customer","text":"查话费"}
            {"session":"v","role":"bot","text":"请告诉我您的手机号码。"}
            {"session":"v","role":"customer","text":"号码138****0001"}
            {"session":"v","role":"customer","text":"服务密码是******"}
            {"session":"v","role":"bot","text":"验证成功。","customer":"138****0001"}
            {"session":"v","role":"customer","text":"谢谢"}
            {"session":"v","role":"system","event":"end","outcome":"resolved"}

            """
        let report = try Self.replay(log)
        #expect(report["masked_lines"] as? Int == 2)
        #expect(report["turns"] as? Int == 2)
        #expect(report["outcomes"] as? [String: Int] == ["resolved": 1, "handoff": 0, "abandoned": 0])
        #expect(report["fallback_turns"] as? Int == 0)
        #expect(report["changed"] as? Int == 0)
    }

    @Test func timestampsParseAsRFC3339() {
        #expect(Timestamp.seconds("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.seconds("2026-11-29T08:07:23.5Z") == 1_795_939_643.5)
        #expect(Timestamp.seconds("2026-11-29T16:07:23+08:00") == 1_795_939_643)
        #expect(Timestamp.seconds("2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp.seconds("yesterday") == nil)
    }

    @Test func rememberedClassificationsGiveTheSameReportAsClassifyingEveryMessage() throws {
        let corpus = Repo.root.appendingPathComponent("transcripts/corpus").path
        func json(remembering: Bool) throws -> (Data, Int) {
            var options = ReplayRunner.Options()
            options.remembersMessages = remembering
            options.compare = true
            let result = try ReplayRunner(rules: try Repo.ruleSet(), options: options).run(files: [corpus + "/sessions.jsonl"])
            var out = Data()
            result.writeJSON { out.append($0) }
            return (out, result.classifiedFromMemory)
        }
        let (remembered, hits) = try json(remembering: true)
        let (classified, none) = try json(remembering: false)
        #expect(hits > 0 && none == 0)
        #expect(remembered == classified)
    }

    @Test func theBinaryWritesTheSameJSONTwiceAndAnHTMLPage() throws {
        let dir = try Repo.temporaryDirectory("replay-cli")
        let page = dir.appendingPathComponent("report.html").path
        let first = try Binary.run(["replay", "transcripts/corpus", "--json", "--compare", "--html", page])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Binary.run(["replay", "transcripts/corpus", "--json", "--compare"])
        #expect(first.stdout == second.stdout)
        let report = try #require(try JSONSerialization.jsonObject(with: first.stdout) as? [String: Any])
        #expect((report["sessions"] as? Int ?? 0) >= 550)
        #expect(report["skipped_lines"] as? Int == 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Deflection"))
        let text = try Binary.run(["replay", "transcripts/corpus"])
        #expect(text.status == 0)
        #expect(text.stdoutText.contains("deflection") && text.stdoutText.contains("by segment"))
    }

    // MARK: - Helpers

    static func write(_ log: String) throws -> String {
        let file = try Repo.temporaryDirectory("replay").appendingPathComponent("log.jsonl")
        try log.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func replay(_ log: String, compare: Bool = false, other: RuleSet? = nil) throws -> [String: Any] {
        var options = ReplayRunner.Options()
        options.compare = compare
        let runner = ReplayRunner(rules: try Repo.ruleSet(), other: other.map { ($0, ("intents", "other")) }, options: options)
        let result = try runner.run(files: [try write(log)])
        var out = Data()
        result.writeJSON { out.append($0) }
        return try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
    }
}
