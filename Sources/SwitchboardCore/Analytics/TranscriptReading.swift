import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What replay needs from one transcript line (CONTRACT.md section 5); everything else on the
/// line is checked for being JSON and skipped. Plain values only: the strings are kept by the
/// `Parser` that read the line (`strings`, by index; the session id's bytes in `ids`), so a
/// record is copied and dropped without touching a reference count, and thousands of them pass
/// through each block.
public struct LogRecord: Sendable {
    public enum Role: Sendable { case customer, bot, agent, system, other }

    /// Indexes into the parser's `strings`; `none` when the line has no such member.
    public static let none: Int32 = -1
    /// Where the session id's bytes are in the parser's `ids`.
    public var session: Int32 = none
    public var sessionLength: Int32 = 0
    /// A hash of the session id's bytes, worked out on the parsing thread: the thread that
    /// groups lines into sessions then never hashes a string.
    public var sessionHash: UInt64 = 0
    public var role = Role.other
    /// A customer line whose text carries a masked number, PIN or card (four or more `*` in a
    /// row): an identity answer, which replay drops.
    public var masked = false
    /// A system line whose `event` is `end`.
    public var ends = false
    public var text: Int32 = none
    public var customer: Int32 = none
    public var channel: Int32 = none
    public var outcome: Int32 = none
    /// Seconds since 1970, from `ts`.
    public var time: Double?

    /// The members replay reads, by the index `Parser` gives them; nil for any other name.
    static func member(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        func named(_ name: StaticString, _ index: Int) -> Int? { matches(key, name) ? index : nil }
        guard key.count >= 2 else { return nil }
        switch (key.count, key[0]) {
        case (7, 0x73): return named("session", 0)
        case (4, 0x72): return named("role", 1)
        case (4, 0x74): return named("text", 2)
        case (8, 0x63): return named("customer", 3)
        case (7, 0x63): return named("channel", 4)
        case (5, 0x65): return named("event", 5)
        case (7, 0x6F): return named("outcome", 6)
        case (2, 0x74): return named("ts", 7)
        default: return nil
        }
    }

    static func role(_ raw: UnsafeBufferPointer<UInt8>) -> Role? {
        if matches(raw, "customer") { return .customer }
        if matches(raw, "bot") { return .bot }
        if matches(raw, "agent") { return .agent }
        if matches(raw, "system") { return .system }
        return nil
    }

    /// Whether the bytes are exactly `name`.
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        bytes.count == name.utf8CodeUnitCount && memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
    }

    /// Parses lines one after another, decoding only the fields replay reads. `parse` gives nil
    /// when a line is not a JSON object with a non-empty string `session` and a known `role`.
    public struct Parser {
        /// The strings of the records parsed so far.
        public private(set) var strings: [String] = []
        /// The session ids of the records parsed so far, byte after byte. No string is made for
        /// an id: the session it names is found by its bytes, and only a new session makes one.
        /// A run of lines of one session shares one copy (a session's lines tend to come together).
        public private(set) var ids: [UInt8] = []
        private var lastSession: (start: Int32, count: Int32)?
        private var lastSessionHash: UInt64 = 0
        /// The minute of the last timestamp read (`Timestamp.parse(_:reusing:)`).
        private var minute: Timestamp.Minute?

        public init() {}

        /// Forgets the strings added since `mark` (`strings.count` before the lines whose
        /// records were not kept). (Ids stay: they are a few bytes, and the next line of the
        /// same session uses them again.)
        public mutating func drop(since mark: Int) {
            guard mark < strings.count else { return }
            strings.removeSubrange(mark...)
        }

        /// Whether two records this parser read are of the same session.
        public func sameSession(_ a: LogRecord, _ b: LogRecord) -> Bool {
            a.sessionHash == b.sessionHash && a.sessionLength == b.sessionLength
                && ids.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(a.session), $0.baseAddress! + Int(b.session), Int(a.sessionLength)) == 0 }
        }

        /// A record's session id.
        public func session(of record: LogRecord) -> String {
            ids.withUnsafeBufferPointer { String(decoding: LogRecord.session(of: record, in: $0), as: UTF8.self) }
        }

        fileprivate mutating func add(_ s: String) -> Int32 {
            strings.append(s)
            return Int32(strings.count - 1)
        }

        public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> LogRecord? {
            let mark = strings.count
            var reading = Line()
            swap(&reading.parser, &self)
            let ok = JSONReader.members(of: line, visitor: &reading)
            swap(&reading.parser, &self)
            var record = reading.record
            guard ok, record.session != LogRecord.none, reading.hasRole else {
                drop(since: mark)
                return nil
            }
            if record.role != .customer { record.text = LogRecord.none }
            if let rawTime = reading.rawTime, record.role != .bot && record.role != .agent || record.customer != LogRecord.none {
                record.time = Timestamp.parse(rawTime, reusing: &minute)
            }
            if record.text != LogRecord.none { record.masked = Self.hasMaskedRun(strings[Int(record.text)]) }
            record.ends = record.role == .system && reading.event == "end"
            return record
        }

        /// One line being read: the parser (moved in for the line, for its strings and ids) and
        /// what the line has said so far.
        private struct Line: JSONMemberVisitor {
            var parser = Parser()
            var record = LogRecord()
            var hasRole = false
            var wantsText = true
            var event: String?
            /// Read once the line is known to be kept (a bot's line is not, unless it names the customer).
            var rawTime: UnsafeBufferPointer<UInt8>?

            func wanted(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
                guard let index = LogRecord.member(key) else { return nil }
                // A bot's long answer is walked over, not decoded, when its role came first.
                return index == 2 && !wantsText ? nil : index
            }

            mutating func found(_ index: Int, _ member: JSONReader.Member) -> Bool {
                switch (index, member) {
                case (0, .string(let raw)):
                    guard !raw.isEmpty else { return true }
                    return parser.session(raw, into: &record)
                case (0, .value(let v)):
                    // Escaped: decoded, and not shared with the next line.
                    guard var s = v.string, !s.isEmpty else { return true }
                    s.withUTF8 { parser.escapedSession($0, into: &record) }
                case (1, .string(let raw)):
                    if let role = LogRecord.role(raw) {
                        record.role = role
                        hasRole = true
                        wantsText = role == .customer
                    }
                case (7, .string(let raw)):
                    rawTime = raw
                case (_, .string(let raw)):
                    guard let s = JSONReader.validString(raw) else { return false }
                    set(index, s)
                case (_, .value(let v)):
                    if index == 1 { return true }
                    if let s = v.string { set(index, s) }
                }
                return true
            }

            private mutating func set(_ index: Int, _ value: String) {
                switch index {
                case 2: record.text = parser.add(value)
                case 3: record.customer = parser.add(value)
                case 4: record.channel = parser.add(value)
                case 5: event = value
                case 6: record.outcome = parser.add(value)
                case 7: record.time = Timestamp.seconds(value)
                default: break
                }
            }
        }

        /// A session id read as it stands in the line: shared with the line before when the same
        /// (a session's lines tend to come together). False when the bytes are not UTF-8.
        private mutating func session(_ raw: UnsafeBufferPointer<UInt8>, into record: inout LogRecord) -> Bool {
            var same = false
            if let last = lastSession, Int(last.count) == raw.count {
                same = ids.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(last.start), raw.baseAddress!, raw.count) == 0 }
            }
            if !same {
                guard JSONReader.isValidUTF8(raw) else { return false }
                lastSession = (Int32(ids.count), Int32(raw.count))
                ids.append(contentsOf: raw)
                lastSessionHash = FNV1a.hash(raw)
            }
            (record.session, record.sessionLength) = lastSession!
            record.sessionHash = lastSessionHash
            return true
        }

        private mutating func escapedSession(_ bytes: UnsafeBufferPointer<UInt8>, into record: inout LogRecord) {
            (record.session, record.sessionLength) = (Int32(ids.count), Int32(bytes.count))
            record.sessionHash = FNV1a.hash(bytes)
            ids.append(contentsOf: bytes)
            lastSession = nil
        }

        /// Four or more `*` in a row: what masking leaves of a number, a PIN or a card.
        static func hasMaskedRun(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { b in
                // Most texts have no `*` at all.
                guard let base = b.baseAddress, memchr(base, 0x2A, b.count) != nil else { return false }
                var run = 0
                for byte in b {
                    run = byte == 0x2A ? run + 1 : 0
                    if run >= 4 { return true }
                }
                return false
            }
        }
    }
}

extension LogRecord {
    /// The record's session id's bytes, in its parser's `ids`.
    static func session(of record: LogRecord, in ids: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: ids[Int(record.session)..<Int(record.session) + Int(record.sessionLength)])
    }
}

/// RFC 3339 timestamps (`2026-11-29T08:07:23.017Z`, `…+08:00`) to seconds since 1970, without
/// a formatter: replay reads one per line.
public enum Timestamp {
    public static func seconds(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// The minute a timestamp starts with (`2026-11-29T08:07`, its first 16 bytes) and what it
    /// comes to in seconds since 1970 (before any zone offset).
    struct Minute {
        var bytes: (UInt64, UInt64)
        var seconds: Int
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        var minute: Minute?
        return parse(b, reusing: &minute)
    }

    /// Parses, reusing `minute` when the timestamp starts with the same 16 bytes, and keeping
    /// this one's otherwise: a log comes in time order, so most of its lines share their minute
    /// with the line before.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, reusing minute: inout Minute?) -> Double? {
        guard b.count >= 20, let base = b.baseAddress else { return nil }
        let head = (UnsafeRawPointer(base).loadUnaligned(as: UInt64.self), UnsafeRawPointer(base + 8).loadUnaligned(as: UInt64.self))
        let start: Int
        if let known = minute, known.bytes == head {
            start = known.seconds
        } else {
            guard let year = digits(b, 0, 4), b[4] == 0x2D, let month = digits(b, 5, 2), b[7] == 0x2D,
                let day = digits(b, 8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(b, 11, 2), b[13] == 0x3A,
                let minutes = digits(b, 14, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minutes < 60
            else { return nil }
            start = CivilDate.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minutes * 60
            minute = Minute(bytes: head, seconds: start)
        }
        guard b[16] == 0x3A, let second = digits(b, 17, 2), second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let first = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > first else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case 0x5A, 0x7A:
            i += 1
        case 0x2B, 0x2D:
            guard let h = digits(b, i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let m = digits(b, i + 4, 2) else { return nil }
            offset = (h * 3600 + m * 60) * (b[i] == 0x2B ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        return Double(start + second - offset) + fraction
    }

    @inline(__always)
    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        guard at + count <= b.count else { return nil }
        var v = 0
        for k in at..<at + count {
            let d = Int(b[k]) &- 48
            guard d >= 0 && d <= 9 else { return nil }
            v = v * 10 + d
        }
        return v
    }
}

/// Reads a file in large blocks of whole lines, without holding the file: a log of any size
/// streams through in constant memory, and the blocks can be parsed on several threads. A line
/// longer than `maxLine` is reported as one `tooLong`, not kept.
public struct LineBlocks: Sendable {
    public enum Chunk {
        /// Whole lines, each ending in a newline but perhaps the last one of the file.
        case lines([UInt8])
        case tooLong
    }

    public let maxLine: Int
    let blockSize: Int

    public init(maxLine: Int = 1 << 20, blockSize: Int = 1 << 22) {
        self.maxLine = maxLine
        self.blockSize = blockSize
    }

    /// Calls `body` with each block, in order; `progress` with the bytes read so far. Blocks are
    /// made from `pool`'s buffers when given one.
    public func read(path: String, pool: BlockPool? = nil, progress: (Int) -> Void = { _ in },
                     _ body: (Chunk) -> Void) throws(ReadError)
    {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: blockSize + maxLine + 1)
        var carried = 0  // bytes of an unfinished line at the start of the buffer
        var skipping = false  // inside a line already reported as too long
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                systemRead(fd, raw.baseAddress! + carried, raw.count - carried)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: String(cString: strerror(errno)))
            }
            total += n
            var start = 0
            let end = carried + n
            if skipping {
                // The rest of an over-long line: dropped up to its newline.
                guard let nl = buffer.withUnsafeBufferPointer({ Self.newline(in: $0, from: 0, to: end) }) else {
                    carried = 0
                    if n == 0 { break }
                    progress(total)
                    continue
                }
                skipping = false
                start = nl + 1
            }
            // Up to the last newline (everything, at the end of the file).
            let cut = n == 0 ? end : (buffer.withUnsafeBufferPointer { Self.lastNewline(in: $0, from: start, to: end) }.map { $0 + 1 } ?? start)
            if cut > start {
                body(.lines(buffer.withUnsafeBufferPointer { all in
                    let lines = UnsafeBufferPointer(rebasing: all[start..<cut])
                    return pool?.take(copying: lines) ?? Array(lines)
                }))
            }
            if n == 0 { break }
            carried = end - cut
            if carried > maxLine {
                body(.tooLong)
                skipping = true
                carried = 0
            } else if carried > 0 {
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + cut, carried) }
            }
            progress(total)
        }
    }

    /// Each line of a block (without its newline, a trailing `\r` dropped), or nil for a line
    /// over `maxLine`.
    public func lines(of block: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
        var start = 0
        while start < block.count {
            let nl = Self.newline(in: block, from: start, to: block.count) ?? block.count
            var stop = nl
            if stop > start, block[stop - 1] == 0x0D { stop -= 1 }
            body(stop - start > maxLine ? nil : UnsafeBufferPointer(rebasing: block[start..<stop]))
            start = nl + 1
        }
    }

    static func newline(in buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to else { return nil }
        guard let p = memchr(buffer.baseAddress! + from, 0x0A, to - from) else { return nil }
        return buffer.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    static func lastNewline(in buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        var k = to - 1
        while k >= from {
            if buffer[k] == 0x0A { return k }
            k -= 1
        }
        return nil
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }
}

/// Block buffers handed back once parsed and filled again: a fresh 4 MB array per block cost a
/// page fault for every 4 kB of the input (the allocator returns such blocks to the system).
public final class BlockPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [[UInt8]] = []
    private let keep: Int

    /// Keeps at most `keep` buffers for reuse.
    public init(keep: Int) { self.keep = keep }

    func take(copying bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        lock.lock()
        var block = free.popLast() ?? []
        lock.unlock()
        block.removeAll(keepingCapacity: true)
        block.append(contentsOf: bytes)
        return block
    }

    /// A buffer no longer read.
    public func give(_ block: consuming [UInt8]) {
        lock.lock()
        if free.count < keep { free.append(block) }
        lock.unlock()
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
