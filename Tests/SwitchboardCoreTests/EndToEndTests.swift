import Foundation
import Testing

@testable import SwitchboardCore

/// Runs the built binary the way scripts and rule authors do.
@Suite(.serialized) struct EndToEndTests {
    func lines(_ data: Data) -> [[String: Any]] {
        String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    @Test func classifyAnswersEveryLineInOrderWithTheContractFields() throws {
        let input = "话费还剩多少\nhow much credit do I have left\n我要投诉\n转人工\n"
        let out = try Binary.run(["classify", "--jsonl"], stdin: Data(input.utf8))
        #expect(out.status == 0, "\(out.stderr)")
        let rows = lines(out.stdout)
        #expect(rows.map { $0["intent"] as? String } == ["billing.balance", "billing.balance", "complaint.file", "human.request"])
        for row in rows {
            #expect(Set(row.keys) == ["text", "lang", "intent", "confidence", "slots", "cues"])
            let cues = row["cues"] as? [String: Any]
            #expect(Set(cues?.keys.map { $0 } ?? []) == ["frustration", "frustrated", "elderly", "dialect"])
        }
        #expect(rows.map { $0["lang"] as? String } == ["zh", "en", "zh", "zh"])
    }

    @Test func badInputGetsOneValidJSONLineEach() throws {
        var input = Data()
        input += Data("ok\n".utf8)
        input += Data([0xFF, 0xFE, 0x41, 0xC3, 0x0A])  // invalid UTF-8
        input += Data(String(repeating: "话费", count: 350_000).utf8) + Data([0x0A])  // a 2 MB line
        input += Data("\u{01}\u{07}control\u{1B}[31m\n".utf8)
        input += Data("\n".utf8)
        input += Data("😀😡🙏\n".utf8)
        input += Data("windows line\r\n".utf8)
        input += Data("no newline at end".utf8)
        let out = try Binary.run(["classify", "--jsonl"], stdin: input)
        #expect(out.status == 0, "\(out.stderr)")
        let rows = lines(out.stdout)
        #expect(rows.count == 8)
        #expect(rows.allSatisfy { $0["intent"] is String && $0["invalid"] == nil })
        #expect((rows[2]["text"] as? String)?.count == 700_000)
        #expect(rows[4]["intent"] as? String == "out_of_scope")
        #expect(rows[6]["text"] as? String == "windows line")
    }

    @Test func explainShowsEveryStep() throws {
        let out = try Binary.run(["classify", "--explain", "我部手機冇信號，幾時整好"])
        #expect(out.status == 0)
        let text = out.stdoutText
        for fragment in ["normalized:", "rewritten:", "[yue]", "intent:      fault.report", "fault_type=no_signal"] {
            #expect(text.contains(fragment), "missing \(fragment) in:\n\(text)")
        }
    }

    @Test func checkPassesOnTheShippedRulesAndFailsOnABrokenCopy() throws {
        let ok = try Binary.run(["check"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdoutText.hasPrefix("ok:"))

        let copy = try CheckTests.copyOfShippedRules()
        try "intents:\n  - id: fixture.one\n    zh:\n      phrases: [~nope]\n".write(
            to: copy.rules.appendingPathComponent("zz.yaml"), atomically: true, encoding: .utf8)
        try "# id: zz\n# kind: dialect\n咗\t\n".write(to: copy.lexicons.appendingPathComponent("zz.tsv"), atomically: true, encoding: .utf8)
        let broken = try Binary.run(["check", "--rules", copy.rules.path, "--lexicons", copy.lexicons.path])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("zz.yaml:4:17: error: unknown concept '~nope'"), "\(broken.stderr)")
        #expect(broken.stderr.contains("zz.tsv:3:3: error: entry '咗' has an empty Mandarin target"), "\(broken.stderr)")
        #expect(broken.stderr.contains("dialect lexicon 'zz' has no entries"))
        #expect(broken.stderr.hasSuffix("3 error(s)\n"))
    }

    @Test func missingRulesFolderIsAClearError() throws {
        let dir = try Repo.temporaryDirectory()
        let out = try Binary.run(["classify", "--jsonl"], stdin: Data("hi\n".utf8), in: dir)
        #expect(out.status == 1)
        #expect(out.stderr.contains("rules folder not found"))
    }

    @Test func benchReportsThroughputAndPercentiles() throws {
        let out = try Binary.run(["bench", "--count", "5000", "--distinct", "500", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let figures = try JSONSerialization.jsonObject(with: out.stdout) as? [String: Double]
        #expect((figures?["per_second"] ?? 0) > 0)
        #expect((figures?["p99_us"] ?? 0) > 0)
    }
}
