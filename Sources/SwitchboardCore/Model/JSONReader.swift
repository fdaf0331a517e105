#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small JSON reader: objects, arrays, strings, numbers, booleans, null. Several times faster
/// than Foundation's parser for short objects, which matters when a handoff reads back every
/// event of a conversation and when the server reads every line a channel sends.
public enum JSONReader {
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case number(Double, isInteger: Bool)
        case string(String)
        case array([Value])
        case object([String: Value])

        public var string: String? { if case .string(let s) = self { return s } else { return nil } }
        public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
        public var double: Double? { if case .number(let d, _) = self { return d } else { return nil } }
        public var int: Int? {
            if case .number(let d, let isInteger) = self, isInteger, let i = Int(exactly: d) { return i }
            return nil
        }
        public var object: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }
        public var strings: [String]? {
            guard case .array(let items) = self else { return nil }
            let values = items.compactMap(\.string)
            return values.count == items.count ? values : nil
        }
    }

    public static func parse(_ bytes: [UInt8]) -> Value? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Cursor(buffer: buffer)
            guard let value = reader.value() else { return nil }
            reader.skip()
            return reader.i == buffer.count ? value : nil
        }
    }

    /// A wanted member's value: a string without escapes as its bytes in the line (not yet
    /// checked to be UTF-8), anything else built (`members(of:visitor:)`).
    public enum Member {
        case string(UnsafeBufferPointer<UInt8>)
        case value(Value)
    }

    /// Reads one JSON object's top-level members, building only the values `visitor.wanted`
    /// picks (by its raw, unescaped key) and checking and skipping the rest without building
    /// them; a wanted string without escapes is handed over as its bytes, so a caller comparing or
    /// parsing it needs no `String`. Replay reads millions of transcript lines and needs four or
    /// five of their fields; a bot line's text and slots are only walked over. False when the
    /// bytes are not one JSON object, or when `visitor.found` returns false (it rejects the line).
    /// (A visitor type, not closures: specialised for it, the calls are inlined into the walk.)
    static func members<Visitor: JSONMemberVisitor>(of buffer: UnsafeBufferPointer<UInt8>, visitor: inout Visitor) -> Bool {
        var reader = Cursor(buffer: buffer)
        reader.skip()
        guard reader.i < buffer.count, buffer[reader.i] == 0x7B else { return false }
        reader.i += 1
        reader.skip()
        if reader.i < buffer.count, buffer[reader.i] == 0x7D {
            reader.i += 1
            reader.skip()
            return reader.i == buffer.count
        }
        while true {
            reader.skip()
            guard let key = reader.rawKey() else { return false }
            reader.skip()
            guard reader.i < buffer.count, buffer[reader.i] == 0x3A else { return false }
            reader.i += 1
            if let key, let index = visitor.wanted(key) {
                reader.skip()
                if let raw = reader.rawString() {
                    guard visitor.found(index, .string(raw)) else { return false }
                } else {
                    guard let value = reader.value(), visitor.found(index, .value(value)) else { return false }
                }
            } else {
                guard reader.skipValue() else { return false }
            }
            reader.skip()
            guard reader.i < buffer.count else { return false }
            if buffer[reader.i] == 0x2C {
                reader.i += 1
                continue
            }
            guard buffer[reader.i] == 0x7D else { return false }
            reader.i += 1
            reader.skip()
            return reader.i == buffer.count
        }
    }

    /// Whether the bytes are valid UTF-8, without making a string when they are ASCII.
    public static func isValidUTF8(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        raw.allSatisfy { $0 < 0x80 } || validString(raw) != nil
    }

    /// The bytes as a string, or nil when they are not valid UTF-8. Decoding repairs a bad
    /// sequence instead of refusing it, so a string that comes back with other bytes was not
    /// valid; this is several times cheaper than the generic `String(validating:)`.
    public static func validString(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        var s = String(decoding: raw, as: UTF8.self)
        let same = s.withUTF8 { d in d.count == raw.count && (raw.isEmpty || memcmp(d.baseAddress!, raw.baseAddress!, raw.count) == 0) }
        return same ? s : nil
    }

    private struct Cursor {
        let buffer: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0

        mutating func skip() {
            while i < buffer.count, buffer[i] == 0x20 || buffer[i] == 0x0A || buffer[i] == 0x0D || buffer[i] == 0x09 { i += 1 }
        }

        mutating func value() -> Value? {
            skip()
            guard i < buffer.count, depth < 64 else { return nil }
            switch buffer[i] {
            case 0x7B:
                i += 1
                depth += 1
                defer { depth -= 1 }
                var object: [String: Value] = [:]
                skip()
                if i < buffer.count, buffer[i] == 0x7D {
                    i += 1
                    return .object(object)
                }
                while true {
                    skip()
                    guard let key = string() else { return nil }
                    skip()
                    guard i < buffer.count, buffer[i] == 0x3A else { return nil }
                    i += 1
                    guard let v = value() else { return nil }
                    object[key] = v
                    skip()
                    guard i < buffer.count else { return nil }
                    if buffer[i] == 0x2C { i += 1; continue }
                    guard buffer[i] == 0x7D else { return nil }
                    i += 1
                    return .object(object)
                }
            case 0x5B:
                i += 1
                depth += 1
                defer { depth -= 1 }
                var items: [Value] = []
                skip()
                if i < buffer.count, buffer[i] == 0x5D {
                    i += 1
                    return .array(items)
                }
                while true {
                    guard let v = value() else { return nil }
                    items.append(v)
                    skip()
                    guard i < buffer.count else { return nil }
                    if buffer[i] == 0x2C { i += 1; continue }
                    guard buffer[i] == 0x5D else { return nil }
                    i += 1
                    return .array(items)
                }
            case 0x22:
                return string().map { .string($0) }
            case 0x74: return literal("true") ? .bool(true) : nil
            case 0x66: return literal("false") ? .bool(false) : nil
            case 0x6E: return literal("null") ? .null : nil
            default:
                let start = i
                var integer = true
                while i < buffer.count {
                    let b = buffer[i]
                    if (0x30...0x39).contains(b) || b == 0x2D || b == 0x2B {
                        i += 1
                    } else if b == 0x2E || b == 0x65 || b == 0x45 {
                        integer = false
                        i += 1
                    } else {
                        break
                    }
                }
                guard i > start, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<i]), as: UTF8.self)) else {
                    return nil
                }
                return .number(d, isInteger: integer)
            }
        }

        /// A member name as its raw bytes when it has no escapes (nil inside: the name is
        /// valid but not one a caller can want); nil outside when it is not a string.
        mutating func rawKey() -> UnsafeBufferPointer<UInt8>?? {
            guard i < buffer.count, buffer[i] == 0x22 else { return nil }
            let start = i + 1
            var k = start
            while k < buffer.count, buffer[k] != 0x22, buffer[k] != 0x5C { k += 1 }
            if k < buffer.count, buffer[k] == 0x22 {
                i = k + 1
                return .some(UnsafeBufferPointer(rebasing: buffer[start..<k]))
            }
            guard string() != nil else { return nil }
            return .some(nil)
        }

        /// A string without escapes or control characters, as its bytes; nil (and nothing
        /// consumed) otherwise.
        mutating func rawString() -> UnsafeBufferPointer<UInt8>? {
            guard i < buffer.count, buffer[i] == 0x22 else { return nil }
            let k = plainEnd(from: i + 1)
            guard k < buffer.count, buffer[k] == 0x22 else { return nil }
            defer { i = k + 1 }
            return UnsafeBufferPointer(rebasing: buffer[(i + 1)..<k])
        }

        /// Checks one value and moves past it, building nothing (strings are checked for their
        /// escapes; their bytes are not decoded).
        mutating func skipValue() -> Bool {
            skip()
            guard i < buffer.count, depth < 64 else { return false }
            switch buffer[i] {
            case 0x7B, 0x5B:
                let close: UInt8 = buffer[i] == 0x7B ? 0x7D : 0x5D
                let isObject = close == 0x7D
                i += 1
                depth += 1
                defer { depth -= 1 }
                skip()
                if i < buffer.count, buffer[i] == close {
                    i += 1
                    return true
                }
                while true {
                    skip()
                    if isObject {
                        guard skipString() else { return false }
                        skip()
                        guard i < buffer.count, buffer[i] == 0x3A else { return false }
                        i += 1
                    }
                    guard skipValue() else { return false }
                    skip()
                    guard i < buffer.count else { return false }
                    if buffer[i] == 0x2C {
                        i += 1
                        continue
                    }
                    guard buffer[i] == close else { return false }
                    i += 1
                    return true
                }
            case 0x22: return skipString()
            case 0x74: return literal("true")
            case 0x66: return literal("false")
            case 0x6E: return literal("null")
            default:
                let start = i
                while i < buffer.count {
                    let b = buffer[i]
                    guard (0x30...0x39).contains(b) || b == 0x2D || b == 0x2B || b == 0x2E || b == 0x65 || b == 0x45 else { break }
                    i += 1
                }
                return i > start
            }
        }

        mutating func skipString() -> Bool {
            guard i < buffer.count, buffer[i] == 0x22 else { return false }
            i += 1
            while true {
                i = plainEnd(from: i)
                guard i < buffer.count else { return false }
                switch buffer[i] {
                case 0x22:
                    i += 1
                    return true
                case 0x5C:
                    guard i + 1 < buffer.count else { return false }
                    if buffer[i + 1] == 0x75 {
                        guard hex4(i + 2) != nil else { return false }
                        i += 6
                    } else {
                        guard [0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74].contains(buffer[i + 1]) else { return false }
                        i += 2
                    }
                default:
                    return false  // a control character
                }
            }
        }

        /// The first quote, backslash or control character at or after `from` (or the end),
        /// eight bytes at a time: most of a transcript line is the text of strings.
        func plainEnd(from: Int) -> Int {
            var k = from
            let end = buffer.count
            guard let base = buffer.baseAddress else { return end }
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while k + 8 <= end {
                let w = UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self))
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                // A byte is flagged when it is zero (after the xor) or below 0x20; the lowest flag
                // is exact (borrows only run upwards), which is the one wanted.
                let flags = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs
                if flags != 0 { return k + flags.trailingZeroBitCount / 8 }
                k += 8
            }
            while k < end {
                let b = base[k]
                if b == 0x22 || b == 0x5C || b < 0x20 { return k }
                k += 1
            }
            return end
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= buffer.count else { return false }
            for k in 0..<count where buffer[i + k] != word.utf8Start[k] { return false }
            i += count
            return true
        }

        mutating func string() -> String? {
            guard i < buffer.count, buffer[i] == 0x22 else { return nil }
            i += 1
            let start = i
            // The common case: no escapes, copied in one piece.
            while i < buffer.count, buffer[i] != 0x22, buffer[i] != 0x5C { i += 1 }
            guard i < buffer.count else { return nil }
            if buffer[i] == 0x22 {
                defer { i += 1 }
                return JSONReader.validString(UnsafeBufferPointer(rebasing: buffer[start..<i]))
            }
            var out = Array(buffer[start..<i])
            while i < buffer.count {
                let b = buffer[i]
                if b == 0x22 {
                    i += 1
                    return out.withUnsafeBufferPointer { JSONReader.validString($0) }
                }
                if b != 0x5C {
                    out.append(b)
                    i += 1
                    continue
                }
                i += 1
                guard i < buffer.count else { return nil }
                switch buffer[i] {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x2F: out.append(0x2F)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    guard let unit = hex4(i + 1) else { return nil }
                    i += 4
                    var scalar = UInt32(unit)
                    if (0xD800...0xDBFF).contains(unit) {
                        guard i + 6 < buffer.count, buffer[i + 1] == 0x5C, buffer[i + 2] == 0x75, let low = hex4(i + 3),
                            (0xDC00...0xDFFF).contains(low) else { return nil }
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        i += 6
                    }
                    guard let s = Unicode.Scalar(scalar) else { return nil }
                    out += Array(String(Character(s)).utf8)
                default: return nil
                }
                i += 1
            }
            return nil
        }

        func hex4(_ at: Int) -> UInt16? {
            guard at + 4 <= buffer.count else { return nil }
            var v: UInt16 = 0
            for k in at..<at + 4 {
                let c = buffer[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x37
                case 0x61...0x66: d = c - 0x57
                default: return nil
                }
                v = v << 4 | UInt16(d)
            }
            return v
        }
    }
}

/// What `JSONReader.members(of:visitor:)` asks of its caller, member by member.
protocol JSONMemberVisitor {
    /// The index of a member to build, by its raw key; nil to check and skip it.
    mutating func wanted(_ key: UnsafeBufferPointer<UInt8>) -> Int?
    /// A wanted member's value; false rejects the object.
    mutating func found(_ index: Int, _ member: JSONReader.Member) -> Bool
}
