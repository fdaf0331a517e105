import Foundation
import Testing

@testable import SwitchboardCore

/// The corpus generator: reproducible, realistic in its mix, in time order, masked, and parseable.
@Suite struct CorpusGeneratorTests {
    /// One corpus of the default size, generated once for the tests that read it.
    static let corpus: Result<Corpus, any Error> = Result { try Corpus(sessions: 600, seed: 7) }

    struct Corpus: Sendable {
        var bytes: [UInt8]
        var summary: CorpusSummary
        var minimal: [UInt8]

        init(sessions: Int, seed: UInt64) throws {
            let generator = CorpusGenerator(ruleSet: try Repo.ruleSet(), seed: seed)
            let stream = generator.sessions(sessions)
            bytes = []
            while let chunk = stream.nextChunk() { bytes += chunk }
            summary = stream.summary
            let minimalStream = generator.customerOnly(50)
            minimal = []
            while let chunk = minimalStream.nextChunk() { minimal += chunk }
        }

        /// The lines as JSON objects (parsed per test: `[String: Any]` cannot be shared).
        var lines: [[String: Any]] { (try? Self.objects(bytes)) ?? [] }

        /// Every line as a JSON object; a line that is not one fails the caller.
        static func objects(_ bytes: [UInt8]) throws -> [[String: Any]] {
            try bytes.split(separator: 0x0A).map { line in
                guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw Malformed(line: String(decoding: line, as: UTF8.self))
                }
                return object
            }
        }

    }

    struct Malformed: Error { var line: String }

    static func generate(_ sessions: Int, seed: UInt64) throws -> [UInt8] {
        let stream = CorpusGenerator(ruleSet: try Repo.ruleSet(), seed: seed).sessions(sessions)
        var bytes: [UInt8] = []
        while let chunk = stream.nextChunk() { bytes += chunk }
        return bytes
    }

    // MARK: Reproducible

    @Test func theSameSeedWritesTheSameBytesAndAnotherSeedDoesNot() throws {
        let first = try Self.generate(120, seed: 42)
        let again = try Self.generate(120, seed: 42)
        let other = try Self.generate(120, seed: 43)
        #expect(!first.isEmpty)
        #expect(first == again)
        #expect(first != other)
        let corpus = try Self.corpus.get()
        #expect(corpus.bytes == (try Self.generate(600, seed: 7)))
    }

    @Test func theCustomerOnlyFileIsReproducibleToo() throws {
        let generator = CorpusGenerator(ruleSet: try Repo.ruleSet(), seed: 7)
        func bytes(_ stream: CorpusStream) -> [UInt8] {
            var out: [UInt8] = []
            while let chunk = stream.nextChunk() { out += chunk }
            return out
        }
        #expect(bytes(generator.customerOnly(20)) == bytes(generator.customerOnly(20)))
    }

    // MARK: The format

    @Test func everyLineIsAnObjectWithSessionAndRole() throws {
        let corpus = try Self.corpus.get()
        let lines = try Corpus.objects(corpus.bytes)
        #expect(lines.count > 3000)
        #expect(corpus.bytes.last == 0x0A)
        for line in lines {
            #expect(line["session"] is String && line["role"] is String, "\(line)")
        }
        #expect(Set(lines.compactMap { $0["role"] as? String }) == ["system", "bot", "customer"])
        let sessions = Set(lines.compactMap { $0["session"] as? String })
        #expect(sessions.count == 600 && corpus.summary.sessions == 600)
        // Every session opens with its start event and closes with its end event and outcome.
        let ends = lines.filter { $0["event"] as? String == "end" }
        #expect(ends.count == 600)
        #expect(ends.allSatisfy { ["resolved", "handoff", "abandoned"].contains($0["outcome"] as? String ?? "") })
        #expect(
            lines.filter { $0["event"] as? String == "start" }.allSatisfy {
                $0["channel"] is String && $0["lang"] is String
            })
    }

    @Test func theCustomerOnlyFileHasNothingButSessionRoleAndText() throws {
        let corpus = try Self.corpus.get()
        let lines = try Corpus.objects(corpus.minimal)
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(Set(line.keys) == ["session", "role", "text"], "\(line)")
            #expect(line["role"] as? String == "customer")
        }
        #expect(Set(lines.compactMap { $0["session"] as? String }).count == 50)
        let (recorded, skipped) = Self.sessions(corpus.minimal)
        #expect(skipped == 0 && recorded.count == 50)
    }

    @Test func replayReadsTheGeneratedLogWithoutSkippingALine() throws {
        let corpus = try Self.corpus.get()
        let (recorded, skipped) = Self.sessions(corpus.bytes)
        #expect(skipped == 0)
        #expect(recorded.count == 600)
        #expect(recorded.allSatisfy { $0.recordedOutcome != nil })
    }

    @Test func theCommittedCorpusParses() throws {
        for name in ["sessions.jsonl", "customer-only.jsonl"] {
            let path = Repo.root.appendingPathComponent("transcripts/corpus/\(name)").path
            let (recorded, skipped) = Self.sessions(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(skipped == 0, "\(name)")
            #expect(recorded.count >= (name == "sessions.jsonl" ? 500 : 50), "\(name)")
        }
    }

    /// The sessions replay would read from these bytes, and the lines it would skip.
    static func sessions(_ bytes: some Collection<UInt8>) -> (sessions: [RecordedSession], skipped: Int) {
        var parser = LogRecord.Parser()
        var assembler = SessionAssembler()
        var sessions: [RecordedSession] = []
        var skipped = 0
        Array(bytes).withUnsafeBufferPointer { buffer in
            LineBlocks().lines(of: buffer) { line in
                guard let line, !line.isEmpty else { return }
                guard let record = parser.parse(line) else {
                    skipped += 1
                    return
                }
                assembler.add(record, strings: parser.strings, ids: parser.ids, into: &sessions)
            }
        }
        assembler.finish(into: &sessions)
        return (sessions, skipped)
    }

    // MARK: Time

    @Test func linesAreInTimeOrderAndSessionsInterleave() throws {
        let corpus = try Self.corpus.get()
        let lines = corpus.lines
        let stamps = lines.compactMap { $0["ts"] as? String }
        #expect(stamps.count == lines.count)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(stamps.first! >= "2026-11-01T00:00:00.000Z" && stamps.first! < "2026-11-02")
        #expect(stamps.last! >= "2026-11-07" && stamps.last! < "2026-11-09")
        // A session whose lines are not all together: another session spoke in between.
        var first: [String: Int] = [:]
        var last: [String: Int] = [:]
        var count: [String: Int] = [:]
        for (i, line) in lines.enumerated() {
            let id = line["session"] as! String
            if first[id] == nil { first[id] = i }
            last[id] = i
            count[id, default: 0] += 1
        }
        let interleaved = count.keys.filter { last[$0]! - first[$0]! + 1 != count[$0]! }
        #expect(interleaved.count >= 10)
    }

    @Test func customersPauseFiveToSixtySecondsBetweenMessages() throws {
        let corpus = try Self.corpus.get()
        let lines = corpus.lines
        var lastBot: [String: Date] = [:]
        let parse = ISO8601DateFormatter()
        parse.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var pauses: [Double] = []
        for line in lines {
            let id = line["session"] as! String
            let time = parse.date(from: line["ts"] as! String)!
            switch line["role"] as? String {
            case "bot": lastBot[id] = time
            case "customer":
                if let before = lastBot[id] { pauses.append(time.timeIntervalSince(before)) }
            default: break
            }
        }
        #expect(!pauses.isEmpty)
        #expect(pauses.allSatisfy { $0 >= 5 && $0 <= 60.001 }, "\(pauses.min()!)...\(pauses.max()!)")
    }

    // MARK: The mix

    @Test func theMixCoversEveryFlowBothLanguagesAndTheDialects() throws {
        let corpus = try Self.corpus.get()
        let lines = corpus.lines
        let intents = Set(lines.role("customer").compactMap { $0["intent"] as? String })
        for intent in [
            "billing.balance", "billing.statement", "billing.dispute", "billing.payment", "billing.invoice",
            "plan.current",
            "plan.change", "plan.recommend", "usage.data", "addon.subscribe", "addon.unsubscribe", "fault.report",
            "fault.status", "complaint.file", "account.cancel", "privacy.concern", "human.request", "thanks", "goodbye",
        ] {
            #expect(intents.contains(intent), "no customer asked for \(intent)")
        }
        let faultTypes = Set(lines.role("customer").compactMap { ($0["slots"] as? [String: String])?["fault_type"] })
        #expect(faultTypes.isSuperset(of: CorpusCatalog.faultTypes), "fault types: \(faultTypes.sorted())")
        let languages = Set(lines.role("customer").compactMap { $0["lang"] as? String })
        #expect(languages == ["zh", "en"])
        let cues = lines.role("customer").compactMap { $0["cues"] as? [String: Any] }
        let dialects = Set(cues.compactMap { $0["dialect"] as? String })
        #expect(dialects.count >= 3, "dialects: \(dialects.sorted())")
        #expect(cues.contains { $0["elderly"] as? Bool == true })
        #expect(cues.contains { $0["frustrated"] as? Bool == true })
        let channels = Set(lines.compactMap { $0["channel"] as? String })
        #expect(channels == ["app", "web", "wechat", "chat"])
        // About half the sessions come with an identified customer.
        let identified = lines.filter { $0["event"] as? String == "start" && $0["customer"] != nil }.count
        #expect((200...400).contains(identified))
        // Shares roughly as asked: most Mandarin, a quarter English, some dialect.
        let voices = corpus.summary.voices
        #expect((300...420).contains(voices["mandarin"] ?? 0) && (100...200).contains(voices["english"] ?? 0))
        #expect(CorpusVoice.allCases.filter(\.isDialect).allSatisfy { (voices[$0.rawValue] ?? 0) > 0 })
    }

    @Test func outcomesHandoffReasonsAndConfirmationsVary() throws {
        let corpus = try Self.corpus.get()
        let lines = corpus.lines
        let outcomes = Set(lines.compactMap { $0["event"] as? String == "end" ? $0["outcome"] as? String : nil })
        #expect(outcomes == ["resolved", "handoff", "abandoned"])
        let reasons = lines.filter { $0["event"] as? String == "handoff" }.compactMap { $0["reasons"] as? [String] }
        let seen = Set(reasons.flatMap { $0 })
        for reason in [
            "customer_request", "frustration", "elderly_assist", "repeated_fallback", "complaint", "retention",
            "security",
        ] {
            #expect(seen.contains(reason), "no handoff for \(reason)")
        }
        #expect(reasons.contains { $0.count >= 2 })
        let responses = Set(lines.role("bot").compactMap { $0["response"] as? String })
        // Plan changes confirmed and declined; fallbacks; customers who went silent.
        for key in [
            "plan_changed", "plan_change_cancelled", "addon_subscribed", "fallback_rephrase", "fallback_menu",
            "idle_goodbye",
            "repair_ticket", "complaint_ticket", "frustration_offer", "elderly_help", "verified", "pin_wrong",
        ] {
            #expect(responses.contains(key), "the bot never said \(key)")
        }
    }

    @Test func someCustomersComeBackWithTheSameRequest() throws {
        let corpus = try Self.corpus.get()
        let lines = corpus.lines
        #expect(corpus.summary.repeatsWithinADay >= 15)
        #expect(corpus.summary.repeatsLater >= 1)
        // In the log: the same (masked) customer, the same first request, again within a day.
        var firstVisit: [String: (customer: String, start: String)] = [:]
        var firstIntent: [String: String] = [:]
        for line in lines {
            let id = line["session"] as! String
            if line["event"] as? String == "start", let customer = line["customer"] as? String {
                firstVisit[id] = (customer, line["ts"] as! String)
            }
            if line["role"] as? String == "customer", firstIntent[id] == nil {
                firstIntent[id] = line["intent"] as? String
            }
        }
        let visits = firstVisit.map {
            (id: $0.key, customer: $0.value.customer, start: $0.value.start, intent: firstIntent[$0.key])
        }
        let grouped = Dictionary(grouping: visits) { "\($0.customer) \($0.intent ?? "")" }
        #expect(grouped.values.contains { $0.count >= 2 })
    }

    // MARK: Privacy

    @Test func noPhoneNumberIsWrittenUnmasked() throws {
        let corpus = try Self.corpus.get()
        for (name, bytes) in [("sessions", corpus.bytes), ("customer-only", corpus.minimal)] {
            // Full-width digits count as digits.
            let text = String(
                String.UnicodeScalarView(
                    String(decoding: bytes, as: UTF8.self).unicodeScalars.map { scalar in
                        (0xFF10...0xFF19).contains(scalar.value)
                            ? Unicode.Scalar(scalar.value - 0xFF10 + 0x30)! : scalar
                    }))
            // A run of exactly eleven digits that starts like a mobile number (ticket ids start with 2).
            let runs = text.split { !$0.isASCII || !$0.isNumber }
            let found = runs.filter { $0.count == 11 && $0.hasPrefix("1") && "3456789".contains($0.dropFirst().first!) }
            #expect(found.isEmpty, "\(name): \(found.prefix(5))")
            for demo in try Repo.ruleSet().demoAccounts {
                #expect(!text.contains(demo.account.phone), "\(name) holds \(demo.account.phone)")
                #expect(!text.contains("\"\(demo.pin)\""), "\(name) holds a PIN")
            }
        }
        // The customers did type their numbers: masked, they are there.
        #expect(String(decoding: corpus.bytes, as: UTF8.self).contains("138****0001"))
    }

    // MARK: The phrase bank

    /// Each opening phrase is understood as the request it stands for, so the corpus exercises
    /// the flows it means to (with typical values in the `{…}` marks).
    @Test func openingPhrasesAreUnderstood() throws {
        let classifier = Classifier(try Repo.ruleSet())
        let table: [(String, [PhraseList])] = [
            ("billing.balance", [CorpusPhrases.balance]),
            ("billing.statement", [CorpusPhrases.statement, CorpusPhrases.chargeQuestion]),
            ("billing.dispute", [CorpusPhrases.ringtoneDispute, CorpusPhrases.dispute]),
            ("billing.payment", [CorpusPhrases.payment]),
            ("billing.invoice", [CorpusPhrases.invoice]), ("plan.current", [CorpusPhrases.planCurrent]),
            ("plan.change", [CorpusPhrases.planChange, CorpusPhrases.planChangeNamed]),
            ("plan.recommend", [CorpusPhrases.planRecommend]),
            ("usage.data", [CorpusPhrases.usage]),
            ("addon.subscribe", Array(CorpusPhrases.addonSubscribe.values) + [CorpusPhrases.addonGeneric]),
            ("addon.unsubscribe", Array(CorpusPhrases.addonUnsubscribe.values)),
            (
                "fault.report",
                Array(CorpusPhrases.faults.values) + Array(CorpusPhrases.faultsAgain.values) + [
                    CorpusPhrases.faultGeneric
                ]
            ),
            ("fault.status", [CorpusPhrases.faultStatus]),
            ("complaint.file", [CorpusPhrases.complaintOpener, CorpusPhrases.complaintAgain]),
            ("account.cancel", [CorpusPhrases.accountCancel]), ("privacy.concern", [CorpusPhrases.privacy]),
            ("human.request", [CorpusPhrases.human]), ("thanks", [CorpusPhrases.thanks]),
            ("goodbye", [CorpusPhrases.goodbye]),
            ("affirm", [CorpusPhrases.yes]), ("deny", [CorpusPhrases.no]), ("out_of_scope", CorpusPhrases.outOfScope),
        ]
        let values = [
            "amount": "12", "month": "9", "monthName": "September", "fee": "99", "city": "上海", "cityEn": "Shanghai",
        ]
        var wrong: [String] = []
        for (intent, lists) in table {
            for list in lists {
                for (language, template) in list.zh.map({ (Language.zh, $0) }) + list.en.map({ (.en, $0) })
                    + list.dialects.values.flatMap({ $0 }).map({ (.zh, $0) })
                {
                    var text = template.replacingOccurrences(
                        of: "{plan}", with: language == .en ? "Enjoy 99" : "畅享99元套餐")
                    for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
                    let got = classifier.classify(text).intent.rawValue
                    if got != intent { wrong.append("\(text) → \(got), meant \(intent)") }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    @Test func dialectPhrasesAreHeardAsTheirDialect() throws {
        let classifier = Classifier(try Repo.ruleSet())
        var heard: [String: Int] = [:]
        for list in [
            CorpusPhrases.balance, CorpusPhrases.usage, CorpusPhrases.statement, CorpusPhrases.thanks,
            CorpusPhrases.yes,
        ] {
            for (voice, phrases) in list.dialects {
                for phrase in phrases where classifier.classify(phrase).cues.dialect?.rawValue == voice.rawValue {
                    heard[voice.rawValue, default: 0] += 1
                }
            }
        }
        #expect(Set(heard.keys) == Set(CorpusVoice.allCases.filter(\.isDialect).map(\.rawValue)), "\(heard)")
    }

    // MARK: The command

    @Test func theCommandWritesBothFilesAndOneLineOfFigures() throws {
        let folder = try Repo.temporaryDirectory("corpus")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = try Binary.run(["corpus", "--sessions", "40", "--customer-only-sessions", "5", "--out", folder.path])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.hasPrefix("switchboard corpus: 40 sessions, "))
        #expect(out.stderr.contains("resolved ") && out.stderr.contains("5 customer-only sessions"))
        #expect(out.stderr.split(separator: "\n").count == 1)
        let sessions = try Data(contentsOf: folder.appendingPathComponent("sessions.jsonl"))
        #expect(sessions == Data(try Self.generate(40, seed: 7)))
        let minimal = try Corpus.objects(
            Array(try Data(contentsOf: folder.appendingPathComponent("customer-only.jsonl"))))
        #expect(Set(minimal.compactMap { $0["session"] as? String }).count == 5)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("sessions.jsonl.partial").path))

        let bad = try Binary.run(["corpus", "--sessions", "0", "--out", folder.path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--sessions must be in 1...100000000, got 0"))
    }

    // MARK: Streaming

    @Test func chunksStayNearTheirSizeAndTheSummaryAddsUp() throws {
        let stream = CorpusGenerator(ruleSet: try Repo.ruleSet(), seed: 3).sessions(300)
        stream.chunkBytes = 4096
        var chunks = 0
        var turns = 0
        while let chunk = stream.nextChunk() {
            chunks += 1
            #expect(chunk.count < 4096 + 16_384)
            turns +=
                chunk.split(separator: 0x0A).filter {
                    String(decoding: $0, as: UTF8.self).contains("\"role\":\"customer\"")
                }.count
        }
        #expect(chunks > 10)
        #expect(stream.summary.sessions == 300)
        #expect(stream.summary.customerTurns == turns)
        #expect(stream.summary.outcomes.values.reduce(0, +) == 300)
        #expect(stream.nextChunk() == nil)
    }
}

extension [[String: Any]] {
    /// The events of one role.
    fileprivate func role(_ role: String) -> [[String: Any]] { filter { $0["role"] as? String == role } }
}
