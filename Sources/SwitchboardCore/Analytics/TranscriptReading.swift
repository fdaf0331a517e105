import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What replay needs from one transcript line (CONTRACT.md section 5); everything else on the
/// line is checked for being JSON and skipped.
public struct LogRecord: Sendable {
    public enum Role: Sendable { case customer, bot, agent, system, other }

    public var session = ""
    public var role = Role.other
    public var text: String?
    public var customer: String?
    public var channel: String?
    public var event: String?
    public var outcome: String?
    /// Seconds since 1970, from `ts`.
    public var time: Double?

    private static let keys: [[UInt8]] = ["session", "role", "text", "customer", "channel", "event", "outcome", "ts"].map { Array($0.utf8) }

    /// One line's record, or nil when the line is not a JSON object with a string `session` and
    /// a known `role`.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>) -> LogRecord? {
        var record = LogRecord()
        var hasSession = false
        var hasRole = false
        var wantsText = true
        let ok = JSONReader.members(of: line, wanted: { key in
            guard key.count >= 2 else { return nil }
            for (index, name) in keys.enumerated() where name.count == key.count && name.elementsEqual(key) {
                // A bot's long answer is walked over, not decoded, when its role came first.
                return index == 2 && !wantsText ? nil : index
            }
            return nil
        }, found: { index, value in
            switch index {
            case 0:
                if let s = value.string { record.session = s; hasSession = true }
            case 1:
                hasRole = true
                switch value.string {
                case "customer": record.role = .customer
                case "bot": record.role = .bot
                case "agent": record.role = .agent
                case "system": record.role = .system
                default: hasRole = false
                }
                wantsText = record.role == .customer
            case 2: record.text = value.string
            case 3: record.customer = value.string
            case 4: record.channel = value.string
            case 5: record.event = value.string
            case 6: record.outcome = value.string
            case 7: record.time = value.string.flatMap(Timestamp.seconds)
            default: break
            }
        })
        guard ok, hasSession, hasRole, !record.session.isEmpty else { return nil }
        if record.role != .customer { record.text = nil }
        return record
    }
}

/// RFC 3339 timestamps (`2026-11-29T08:07:23.017Z`, `…+08:00`) to seconds since 1970, without
/// a formatter: replay reads one per line.
public enum Timestamp {
    public static func seconds(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var v = 0
            for k in at..<at + count {
                let d = Int(b[k]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2), b[13] == 0x3A,
            let minute = digits(14, 2), b[16] == 0x3A, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case 0x5A, 0x7A:
            i += 1
        case 0x2B, 0x2D:
            guard let h = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let m = digits(i + 4, 2) else { return nil }
            offset = (h * 3600 + m * 60) * (b[i] == 0x2B ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }
}

/// Reads a file's lines in large blocks, without holding the file: a log of any size streams
/// through in constant memory. Lines longer than `maxLine` are reported, not kept.
public struct LineBlocks {
    public enum Piece {
        case line(UnsafeBufferPointer<UInt8>)
        case tooLong
    }

    public let maxLine: Int
    let blockSize: Int

    public init(maxLine: Int = 1 << 20, blockSize: Int = 1 << 20) {
        self.maxLine = maxLine
        self.blockSize = blockSize
    }

    /// Calls `body` with each line (without its newline, a trailing `\r` dropped), in order;
    /// `progress` with the bytes read so far after each block. Throws when the file cannot be read.
    public func read(path: String, progress: (Int) -> Void = { _ in }, _ body: (Piece) -> Void) throws(ReadError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: blockSize + maxLine + 1)
        var carried = 0  // bytes of an unfinished line at the start of the buffer
        var skipping = false  // inside a line already reported as too long
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc_read(fd, raw.baseAddress! + carried, raw.count - carried)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: String(cString: strerror(errno)))
            }
            total += n
            let end = carried + n
            var start = 0
            buffer.withUnsafeBufferPointer { all in
                var i = carried
                while let nl = Self.newline(in: all, from: i, to: end) {
                    if skipping {
                        skipping = false
                    } else {
                        var stop = nl
                        if stop > start, all[stop - 1] == 0x0D { stop -= 1 }
                        body(stop - start > maxLine ? .tooLong : .line(UnsafeBufferPointer(rebasing: all[start..<stop])))
                    }
                    start = nl + 1
                    i = start
                }
                if n == 0, start < end, !skipping {
                    // The last line, without a newline (perhaps cut off by a killed writer).
                    body(end - start > maxLine ? .tooLong : .line(UnsafeBufferPointer(rebasing: all[start..<end])))
                    start = end
                }
            }
            if n == 0 { break }
            carried = end - start
            if carried > maxLine || skipping {
                if !skipping { body(.tooLong) }
                skipping = true
                carried = 0
            } else if carried > 0 && start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, carried)
                }
            }
            progress(total)
        }
    }

    static func newline(in buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to else { return nil }
        guard let p = memchr(buffer.baseAddress! + from, 0x0A, to - from) else { return nil }
        return buffer.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }
}

private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
