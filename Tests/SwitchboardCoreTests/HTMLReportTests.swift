import Foundation
import Testing

@testable import SwitchboardCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct HTMLReportTests {
    /// A report with every section, Chinese and English text, and customer text that looks like markup.
    /// What a replay of an empty log reports.
    static func emptyRunReport() throws -> JSONValue {
        let file = try Repo.temporaryDirectory("html-empty").appendingPathComponent("empty.jsonl")
        try Data().write(to: file)
        return try ReplayRunner(rules: try Repo.ruleSet()).run(files: [file.path]).summary
    }

    static func fullReport(changedSessions: Int = 3, segmentValues: Int = 3) -> JSONValue {
        func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue { .object(pairs.map { ($0.key, $0.value) }) }
        func counts(_ pairs: KeyValuePairs<String, Int>) -> JSONValue { .object(pairs.map { ($0.key, .int($0.value)) }) }
        func segment(_ resolved: Int, _ handoff: Int, _ abandoned: Int) -> JSONValue {
            let sessions = resolved + handoff + abandoned
            return object(["sessions": .int(sessions), "resolved": .int(resolved), "handoff": .int(handoff),
                           "abandoned": .int(abandoned), "deflection_rate": .double(Double(resolved) / Double(sessions))])
        }
        func outcomes(_ resolved: Int, _ handoff: Int, _ abandoned: Int) -> JSONValue {
            object(["resolved": .int(resolved), "handoff": .int(handoff), "abandoned": .int(abandoned),
                    "deflection_rate": .double(Double(resolved) / Double(resolved + handoff + abandoned))])
        }
        func cluster(_ label: String, _ examples: [(String, Int)]) -> JSONValue {
            object(["size": .int(examples.reduce(0) { $0 + $1.1 }), "distinct": .int(examples.count), "label": .string(label),
                    "examples": .array(examples.map { object(["text": .string($0.0), "count": .int($0.1)]) })])
        }
        let changed: [JSONValue] = (0..<changedSessions).map { i in
            object(["session": .string("s\(i)"), "turns": .array([.string("我要投诉"), .string("转人工 <b>now</b>")]),
                    "before": .string("resolved"), "after": .string("handoff"), "before_reasons": .array([]),
                    "after_reasons": .array([.string("frustration")])])
        }
        let comparison = { (before: String, after: String) -> [(String, JSONValue)] in
            [(before, outcomes(80, 25, 15)), (after, outcomes(78, 27, 15)), ("changed", .int(changedSessions)),
             ("transitions", counts(["resolved→handoff": 2, "abandoned→resolved": 1])),
             ("changed_sessions", .array(changed))]
        }
        let languages = (0..<segmentValues).map { ("lang\($0)", segment(10 + $0, 5, 1)) }
        return object([
            "report_version": .int(1),
            "definitions": object(["version": .string("1"), "resolved": .string("The bot answered & the customer left."),
                                   "handoff": .string("Passed to a person."), "abandoned": .string("Left mid-flow."),
                                   "deflection_rate": .string("resolved / sessions"),
                                   "contained": .string("Resolved with no contact in 7 days.")]),
            "sessions": .int(120), "turns": .int(480), "skipped_lines": .int(2), "fallback_turns": .int(17), "changed": .int(3),
            "outcomes": counts(["resolved": 80, "handoff": 25, "abandoned": 15]),
            "deflection_rate": .double(0.6667),
            "contained": object(["sessions": .int(70), "rate": .double(0.5833), "repeat_contacts": .int(10),
                                 "sessions_with_customer_and_time": .int(100)]),
            "handoff_reasons": counts(["customer_request": 12, "frustration": 5, "complaint": 8]),
            "intents": counts(["billing.balance": 40, "billing.dispute": 22, "plan.change": 9, "network.fault": 14]),
            "segments": .object([
                ("language", .object([("zh", segment(60, 20, 10)), ("en", segment(20, 5, 5))] + languages)),
                ("dialect", object(["none": segment(70, 20, 10), "yue": segment(10, 5, 5)])),
                ("elderly", object(["false": segment(72, 20, 8), "true": segment(8, 5, 7)])),
                ("channel", object(["app": segment(50, 10, 5), "web": segment(30, 15, 10)])),
                ("first_intent", object(["billing.balance": segment(35, 3, 2), "billing.dispute": segment(8, 12, 2)])),
                ("handoff_reason", object(["complaint": segment(0, 8, 0), "customer_request": segment(0, 12, 0)])),
            ]),
            "fallback_clusters": .array([
                cluster("今天天气怎么样", [("今天天气怎么样", 5), ("明天天气怎么样", 3), ("<script>alert(1)</script>", 1)]),
                cluster("what's the football score", [("what's the football score", 2)]),
            ]),
            "complaint_clusters": .array([cluster("为什么扣了我10块钱", [("为什么扣了我10块钱", 4), ("为什么扣了我25块钱", 2)])]),
            "compare": .object([("sessions", .int(100))] + comparison("before", "after")),
            "what_if": .object([("base_rules", .string("intents")), ("other_rules", .string("/tmp/x"))]
                + comparison("before", "after")),
            "sessions_detail": .array([object(["session": .string("detail-only-secret")])]),
        ])
    }

    /// The page parsed as XML: elements in order with their attributes, and all text.
    final class Parsed: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var text = ""
        var error: (any Error)?
        /// For each `<svg>`, the name of its first child element.
        var svgFirstChildren: [String] = []
        private var previous = ""

        init(_ html: String) {
            super.init()
            let parser = XMLParser(data: Data(html.utf8))
            parser.delegate = self
            // On Linux `parse()` can return true after an error (a mismatched end tag), so the
            // error is what counts.
            let parsed = parser.parse()
            if error == nil { error = parser.parserError ?? (parsed ? nil : CocoaError(.coderReadCorrupt)) }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            if error == nil { error = parseError }
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if previous == "svg" { svgFirstChildren.append(name) }
            elements.append((name, attributes))
            previous = name
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func count(_ name: String) -> Int { elements.filter { $0.name == name }.count }
    }

    @Test func fullReportIsWellFormedWithOneAccessibleSVGPerChart() throws {
        let html = HTMLReport.render(Self.fullReport(), title: "Replay")
        let page = Parsed(html)
        #expect(page.error == nil)
        // The check has teeth: these are what a slip in the writer would produce.
        for broken in ["<p><b>unclosed</p>", "<p>a&nbsp;b</p>", "<p>a < b</p>", "<p a=b>x</p>", "<p></p><p></p>"] {
            #expect(Parsed(broken).error != nil, "\(broken) passed as well-formed")
        }
        // Outcomes, six segment kinds, handoff reasons, intents, fallback and complaint clusters.
        let svgs = page.elements.filter { $0.name == "svg" }
        #expect(svgs.count == 11)
        for svg in svgs {
            #expect(svg.attributes["width"] != nil && svg.attributes["height"] != nil && svg.attributes["viewBox"] != nil)
        }
        #expect(page.svgFirstChildren == Array(repeating: "title", count: 11))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(page.elements.contains { $0.name == "meta" && $0.attributes["charset"] == "utf-8" })
        #expect(page.count("details") == 6)  // three changed sessions each in compare and what-if
        #expect(!html.contains("detail-only-secret"))
        #expect(page.text.contains("66.7%") && page.text.contains("58.3%"))
        #expect(page.text.contains("The bot answered & the customer left."))
    }

    @Test func customerTextIsEscapedAndNothingRunsOrLoads() throws {
        let html = HTMLReport.render(Self.fullReport(), title: "<script>alert('t')</script>")
        let page = Parsed(html)
        #expect(page.error == nil)
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.elements.contains { ["script", "link", "img", "iframe", "object", "b"].contains($0.name) })
        #expect(page.text.contains("<script>alert(1)</script>"))  // shown as text, as the customer wrote it
        #expect(page.text.contains("转人工 <b>now</b>"))
        let references = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!references.contains("http://") && !references.contains("https://"))
        #expect(!page.elements.contains { $0.attributes.keys.contains { $0.lowercased().hasPrefix("on") } })
    }

    @Test func chineseTextRoundTrips() throws {
        let title = "回放报告 · 十一月"
        let page = Parsed(HTMLReport.render(Self.fullReport(), title: title))
        #expect(page.error == nil)
        for text in [title, "今天天气怎么样", "明天天气怎么样", "为什么扣了我25块钱", "我要投诉"] {
            #expect(page.text.contains(text), "\(text) is missing")
        }
    }

    @Test func minimalAndOddReportsRenderWithoutTheirMissingSections() throws {
        let reports: [JSONValue] = [
            try Self.emptyRunReport(),
            .object([("sessions", .int(3))]),
            .object([("sessions", .null), ("outcomes", .null), ("segments", .string("?")), ("compare", .array([])),
                     ("fallback_clusters", .object([])), ("intents", .object([("x", .string("many"))]))]),
            .null,
            .object([("outcomes", .object([("resolved", .double(.nan)), ("handoff", .int(-1))])),
                     ("segments", .object([("language", .object([("zh", .object([]))]))]))]),
        ]
        for report in reports {
            let page = Parsed(HTMLReport.render(report, title: "t"))
            #expect(page.error == nil)
            #expect(page.count("h1") == 1)
            #expect(page.count("details") == 0)
        }
        let empty = Parsed(HTMLReport.render(try Self.emptyRunReport(), title: "t"))
        #expect(empty.text.contains("No sessions."))
        #expect(empty.count("svg") == 0)
    }

    @Test func longListsAreCapped() throws {
        let page = Parsed(HTMLReport.render(Self.fullReport(changedSessions: 250, segmentValues: 20), title: "t"))
        #expect(page.error == nil)
        #expect(page.count("details") == 400)  // 200 each for compare and what-if
        #expect(page.text.contains("… 50 more"))
        #expect(page.text.contains("12 of 22 values shown"))
    }

    // MARK: In a real browser

    /// The first of `chromium` and `chromium-browser` found on PATH.
    static let chromium: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for name in ["chromium", "chromium-browser"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }()

    @Test(.enabled(if: HTMLReportTests.chromium != nil, "needs chromium or chromium-browser on PATH"), .timeLimit(.minutes(1)))
    func chromiumKeepsTheChartsAndTitle() throws {
        let dir = try Repo.temporaryDirectory("html-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("report.html")
        let html = HTMLReport.render(Self.fullReport(), title: "回放报告 Replay")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("dom.html")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.chromium))
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--user-data-dir=\(dir.appendingPathComponent("profile").path)", "--dump-dom", file.absoluteString]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let dom = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0)
        #expect(dom.components(separatedBy: "<svg").count - 1 == 11)
        #expect(dom.contains("<title>回放报告 Replay</title>"))
        #expect(dom.contains("<h1>回放报告 Replay</h1>"))
        #expect(!dom.contains("<script"))
    }
}
