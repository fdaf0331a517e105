import Foundation
import Testing

@testable import SwitchboardCore

/// The byte-level pieces replay's speed rests on, each checked against the slow, obvious way.
@Suite struct ByteLevelTests {
    // MARK: Dates

    @Test func civilDatesMatchFoundationsCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        // Leap days, year ends, before 1970, and the China-time date change at 16:00 UTC.
        let instants: [Double] = [0, -1, -86_401, 951_782_400, 1_709_164_800, 1_795_939_643.5, 1_798_675_199, 1_798_732_800, 4_107_542_400]
        for t in instants {
            let date = Date(timeIntervalSince1970: t)
            let d = CivilDate(date, offset: 8 * 3600)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = [c.year!, c.month!, c.day!]
            #expect([d.year, d.month, d.day] == expected, "\(t)")
            #expect(d.second == c.hour! * 3600 + c.minute! * 60 + c.second!, "\(t)")
            #expect(CivilDate.days(year: d.year, month: d.month, day: d.day) * 86_400 + d.second - 8 * 3600 == Int(t.rounded(.down)))
        }
    }

    @Test func aRememberedMinuteGivesWhatAFreshParseGives() {
        // In the order a log might have them: same minute, the next one, bad tails after a good
        // head, another zone, another day, and the same head again after a bad one.
        let stamps = ["2026-11-29T08:07:23.017Z", "2026-11-29T08:07:59Z", "2026-11-29T08:07:60.5Z", "2026-11-29T08:07:61Z",
                      "2026-11-29T08:07:2xZ", "2026-11-29T08:07:23", "2026-11-29T08:07:23+08:00", "2026-11-29T08:07:23.Z",
                      "2026-11-29T08:08:00Z", "2026-11-29t08:08:00z", "2026-11-30 00:00:00-05:30", "2026-13-29T08:08:00Z",
                      "2026-11-29T08:08:00.000001Z", "2026-02-30T08:08:00Z", "2026-11-29T24:00:00Z", "2026-11-29T08:07:23.017Z"]
        var minute: Timestamp.Minute?
        for stamp in stamps {
            let bytes = Array(stamp.utf8)
            let reused = bytes.withUnsafeBufferPointer { Timestamp.parse($0, reusing: &minute) }
            #expect(reused == Timestamp.seconds(stamp), "\(stamp)")
        }
        #expect(Timestamp.seconds("2026-11-29T08:07:60.5Z") == 1_795_939_680.5)
        #expect(Timestamp.seconds("2026-11-29T08:07:61Z") == nil && Timestamp.seconds("2026-13-29T08:08:00Z") == nil)
    }

    @Test func timestampsAndTicketIdsKeepTheirShape() {
        let instant = Date(timeIntervalSince1970: 1_795_939_643.017)  // 2026-11-29T08:07:23.017Z
        #expect(TranscriptEvent.timestamp(instant) == "2026-11-29T08:07:23.017Z")
        #expect(TranscriptEvent.timestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        // Tickets are dated in China time: 16:30 UTC on the 29th is already the 30th.
        let evening = Date(timeIntervalSince1970: 1_795_969_800)
        #expect(InMemoryOperatorData.ticketID(.repair, at: evening, sequence: 7) == TicketKind.repair.prefix + "20261130007")
        #expect(InMemoryOperatorData.ticketID(.repair, at: instant, sequence: 1_234) == TicketKind.repair.prefix + "20261129234")
        #expect(HandoffTicketID.make(sequence: 12, at: evening) == "HO202611300012")
    }

    // MARK: Finding words

    @Test func wordsAreFoundInTheBytesAsTheyWereByScanning() {
        func slow(_ word: String, _ text: String, atStart: Bool) -> Int? {
            let w = Array(word.utf8), t = Array(text.utf8)
            guard !w.isEmpty, t.count >= w.count else { return nil }
            for i in 0...(atStart ? 0 : t.count - w.count) where Array(t[i..<(i + w.count)]) == w { return i }
            return nil
        }
        let texts = ["查话费顺便看看流量", "balance and data", "and", "", "aaab", "我想查一下 话费", "顺便"]
        let words = ["顺便", " and ", "and", "ab", "aab", "话费", "x", "顺便顺便"]
        for text in texts {
            for word in words {
                for atStart in [false, true] {
                    let found = Array(text.utf8).withUnsafeBufferPointer { ByteSearch.find(word, in: $0, atStart: atStart) }
                    #expect(found == slow(word, text, atStart: atStart), "\(word) in \(text)")
                }
            }
        }
        #expect(ByteSearch.mentions("WHY was I charged", ["why"], atStart: true))
        #expect(ByteSearch.mentions("I was charged, WHY", ["why"]))
        #expect(!ByteSearch.mentions("I was charged, WHY", ["why"], atStart: true))
        #expect(!ByteSearch.mentions("话费", ["", "流量"]))
    }

    // MARK: JSON strings

    @Test func skippedStringsAreScannedForQuotesEscapesAndControlsAtEveryOffset() {
        // A member replay does not read (`response`) is walked over eight bytes at a time: the
        // special byte at each offset of a word, after some plain text, must still be seen.
        func kept(_ response: String) -> Bool {
            var parser = LogRecord.Parser()
            let line = #"{"session":"s","role":"bot","response":""# + response + #"","text":"好"}"#
            return Array(line.utf8).withUnsafeBufferPointer { parser.parse($0) } != nil
        }
        for prefix in 0..<20 {
            let plain = String(repeating: "话", count: prefix / 3) + String(repeating: "a", count: prefix % 3)
            #expect(kept(plain), "plain \(prefix)")
            #expect(kept(plain + #"\"x"#), "escaped quote after \(prefix)")
            #expect(kept(plain + #"\\"#), "escaped backslash after \(prefix)")
            #expect(kept(plain + #"\u8bdd"#), "unicode escape after \(prefix)")
            #expect(!kept(plain + "\u{1}"), "control character after \(prefix)")
            #expect(!kept(plain + "\n"), "raw newline after \(prefix)")
            #expect(!kept(plain + #"\q"#), "bad escape after \(prefix)")
        }
    }

    @Test func invalidUTF8InAStringIsRefusedEvenWhenItsRepairIsAsLong() {
        // A three-byte cut-off emoji decodes to one three-byte U+FFFD: same length, other bytes.
        let cut: [UInt8] = [0xF0, 0x9F, 0x98]
        #expect(cut.withUnsafeBufferPointer { JSONReader.validString($0) } == nil)
        let good = Array("话费 ok".utf8)
        #expect(good.withUnsafeBufferPointer { JSONReader.validString($0) } == "话费 ok")
        var line = Array(#"{"session":"a","role":"customer","text":""#.utf8)
        line += cut + Array(#""}"#.utf8)
        var parser = LogRecord.Parser()
        #expect(line.withUnsafeBufferPointer { parser.parse($0) } == nil)
        #expect(parser.strings.isEmpty)
    }

    // MARK: Transcript lines

    @Test func recordsKeepTheirStringsOnceAndDropThemWhenNotKept() throws {
        var parser = LogRecord.Parser()
        func parse(_ line: String) -> LogRecord? {
            Array(line.utf8).withUnsafeBufferPointer { parser.parse($0) }
        }
        let a = try #require(parse(#"{"session":"chat-1","ts":"2026-11-29T08:00:00Z","role":"customer","text":"查话费","channel":"app"}"#))
        let b = try #require(parse(#"{"session":"chat-1","role":"customer","text":"谢谢"}"#))
        #expect(a.session == b.session && parser.ids.count == "chat-1".utf8.count)  // the id is kept once for a run of its lines
        #expect(parser.session(of: a) == "chat-1" && parser.sameSession(a, b))
        #expect(parser.strings[Int(a.text)] == "查话费" && parser.strings[Int(b.text)] == "谢谢")
        #expect(parser.strings[Int(a.channel)] == "app" && a.time == 1_795_939_200)
        let mark = parser.strings.count
        let bot = try #require(parse(#"{"session":"chat-2","role":"bot","text":"您好","customer":"138****0001"}"#))
        #expect(bot.text == LogRecord.none && parser.strings[Int(bot.customer)] == "138****0001")
        parser.drop(since: mark)
        #expect(parser.strings.count == mark)
        // The next line of that session shares the id's bytes, whether or not its line was kept.
        let c = try #require(parse(#"{"session":"chat-2","role":"customer","text":"我要转人工"}"#))
        #expect(parser.session(of: c) == "chat-2" && c.session == bot.session && !parser.sameSession(a, c))
        let escaped = try #require(parse(#"{"session":"chat-\u0033","role":"customer","text":"x"}"#))
        #expect(parser.session(of: escaped) == "chat-3")
        let end = try #require(parse(#"{"session":"chat-2","role":"system","event":"end","outcome":"handoff"}"#))
        #expect(end.ends && parser.strings[Int(end.outcome)] == "handoff")
        let masked = try #require(parse(#"{"session":"chat-2","role":"customer","text":"服务密码是******"}"#))
        #expect(masked.masked && !c.masked)
        #expect(parse(#"{"session":"","role":"customer","text":"x"}"#) == nil)
        // An id that is not UTF-8 rejects the line, even after a good one in the same line.
        for bad in [[0x61, 0xFF], [0xC3]] as [[UInt8]] {
            let line = Array(#"{"session":"ok","role":"customer","session":""#.utf8) + bad + Array(#"","text":"x"}"#.utf8)
            #expect(line.withUnsafeBufferPointer { parser.parse($0) } == nil)
        }
    }

    @Test func reusedBlockBuffersGiveTheSameBlocks() throws {
        // Lines of many lengths across several small blocks.
        var text = ""
        for i in 0..<3_000 { text += String(repeating: "话", count: i % 37) + "\(i)\n" }
        let dir = try Repo.temporaryDirectory("blocks")
        let file = dir.appendingPathComponent("lines.txt")
        try Data(text.utf8).write(to: file)
        let reader = LineBlocks(maxLine: 4_096, blockSize: 1_000)
        var plain: [[UInt8]] = []
        try reader.read(path: file.path) { if case .lines(let block) = $0 { plain.append(block) } }
        let pool = BlockPool(keep: 2)
        var pooled: [[UInt8]] = []
        try reader.read(path: file.path, pool: pool) { chunk in
            guard case .lines(let block) = chunk else { return }
            pooled.append(Array(block))
            pool.give(block)  // handed back at once, so the next block fills the same buffer
        }
        #expect(plain.count > 20)
        #expect(pooled == plain)
        #expect(plain.reduce(0) { $0 + $1.count } == text.utf8.count)
    }

    // MARK: Masking and clustering

    @Test func aBareMobileNumberIsMaskedAsTheGeneralScanWould() {
        for phone in ["13800000001", "19912345678", "12345678901", "1380000000", "138000000012", "1380000000x"] {
            #expect(Masking.mask(phone) == Masking.maskASCII(phone), "\(phone)")
        }
        #expect(Masking.mask("13800000001") == "138****0001")
    }

    @Test func clusteredTextsAreTrimmedAndComposedOnlyWhenTheyCanChange() {
        #expect(TextClusterer.normalized("  网络断了 ") == "网络断了")
        #expect(TextClusterer.normalized("cafe\u{301}") == "café")
        #expect(TextClusterer.normalized("cafe\u{301}").utf8.count == "café".utf8.count)
        #expect(TextClusterer.normalized("查话费，谢谢！") == "查话费，谢谢！")
        #expect(TextClusterer.normalized("\u{3000}你好\u{3000}") == "你好")
    }

    // MARK: Open sessions

    @Test func openSessionsFindWhatWasPutInWhateverWasTakenOut() throws {
        // Against a dictionary, with hashes that collide on purpose (seven hashes for 300 ids),
        // so that long probe runs are cut and closed up again by every removal.
        var open = OpenSessions()
        var expected: [String: Int] = [:]  // id → session index
        var random = CorpusRandom(seed: 7)
        func hash(_ id: String) -> UInt64 { UInt64(id.utf8.count % 7) &* 0x1234_5678_9ABC_DEF1 }
        func find(_ id: String) -> RecordedSession? {
            let found = Array(id.utf8).withUnsafeBufferPointer { open.find(hash(id), $0) }
            return found.map { open.sessions[$0] }
        }
        for step in 0..<5_000 {
            let id = "s-" + String(repeating: "x", count: random.below(20)) + String(random.below(15))
            if expected[id] != nil, random.below(3) > 0 {
                let p = try #require(Array(id.utf8).withUnsafeBufferPointer { open.find(hash(id), $0) }, "\(id) at step \(step)")
                #expect(open.remove(at: p).index == expected.removeValue(forKey: id))
            } else if expected[id] == nil {
                _ = open.insert(RecordedSession(id: id, index: step), hash: hash(id))
                expected[id] = step
            }
            #expect(open.count == expected.count)
        }
        for (id, index) in expected { #expect(find(id)?.index == index, "\(id)") }
        #expect(find("s-never") == nil)
        #expect(Set(open.removeAll().map(\.id)) == Set(expected.keys) && open.count == 0)
    }

    // MARK: Worker threads

    @Test func workerThreadsRunEveryJobOnTheirOwnThreadsAndStopWhenDone() {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var ran: [Int] = []
            var threads = Set<UInt>()
        }
        let log = Log()
        let workers = WorkerThreads(count: 2, name: "test")
        for k in 0..<500 {
            workers.run {
                if k % 50 == 0 { usleep(2000) }  // a slow job must not hold the others back
                log.lock.lock()
                log.ran.append(k)
                log.threads.insert(UInt(pthread_self()))
                log.lock.unlock()
            }
        }
        workers.stop()  // returns only once everything queued has run
        #expect(log.ran.sorted() == Array(0..<500))
        // Both threads took jobs, and neither is the thread that queued them.
        #expect(log.threads.count == 2)
        #expect(!log.threads.contains(UInt(pthread_self())))
    }
}
