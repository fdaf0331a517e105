import Foundation

/// A message after normalization: the scalars the matcher reads, and what was counted on the way.
public struct NormalizedText: Sendable, Equatable {
    /// Normalized Unicode scalar values.
    public var scalars: [UInt32]
    /// Runs of three or more `!`/`?` (after full-width folding): a frustration signal.
    public var repeatedPunctuationRuns: Int = 0
    /// English words of three or more letters written all in capitals.
    public var shoutedWords: Int = 0
    /// English words of three or more letters.
    public var longWords: Int = 0
    /// Chinese characters.
    public var hanCount: Int = 0
    /// English words (runs of ASCII letters).
    public var latinWords: Int = 0

    /// The normalized text as a string.
    public var string: String { Scalar.string(scalars) }
}

/// Scalar classes the matcher and the scanners share.
enum Scalar {
    static func isHan(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2FA1F).contains(v)
            || (0xF900...0xFAFF).contains(v)
    }
    static func isASCIILetter(_ v: UInt32) -> Bool { (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v) }
    static func isDigit(_ v: UInt32) -> Bool { (0x30...0x39).contains(v) }
    static func isASCIIAlnum(_ v: UInt32) -> Bool { isASCIILetter(v) || isDigit(v) }
    static let space: UInt32 = 0x20

    /// Calls `body` with the range of every English word: a run of ASCII letters and digits that
    /// starts with a letter (so `5g` is not a word but `g5` is).
    @inline(__always)
    static func forEachWord(in s: [UInt32], _ body: (Range<Int>) -> Void) {
        var i = 0
        while i < s.count {
            guard isASCIILetter(s[i]) else {
                i += 1
                continue
            }
            var j = i
            while j < s.count, isASCIIAlnum(s[j]) { j += 1 }
            body(i..<j)
            i = j
        }
    }

    /// Scalars back to a string, encoding UTF-8 straight into the string's storage (hot: slot
    /// values are built from it; short values fit in the string itself and allocate nothing).
    static func string<C: Collection>(_ scalars: C) -> String where C.Element == UInt32 {
        String(unsafeUninitializedCapacity: scalars.count * 4) { bytes in
            var n = 0
            for v in scalars {
                switch v {
                case 0..<0x80:
                    bytes[n] = UInt8(v)
                    n += 1
                case 0x80..<0x800:
                    bytes[n] = UInt8(0xC0 | (v >> 6))
                    bytes[n + 1] = UInt8(0x80 | (v & 0x3F))
                    n += 2
                case 0x800..<0x10000:
                    if (0xD800...0xDFFF).contains(v) { continue }
                    bytes[n] = UInt8(0xE0 | (v >> 12))
                    bytes[n + 1] = UInt8(0x80 | ((v >> 6) & 0x3F))
                    bytes[n + 2] = UInt8(0x80 | (v & 0x3F))
                    n += 3
                case 0x10000...0x10FFFF:
                    bytes[n] = UInt8(0xF0 | (v >> 18))
                    bytes[n + 1] = UInt8(0x80 | ((v >> 12) & 0x3F))
                    bytes[n + 2] = UInt8(0x80 | ((v >> 6) & 0x3F))
                    bytes[n + 3] = UInt8(0x80 | (v & 0x3F))
                    n += 4
                default: continue
                }
            }
            return n
        }
    }
}

/// Turns raw customer text into the form every rule is written against.
///
/// The hot path is a table over the Basic Multilingual Plane built once at load (NFKC, lower case,
/// full-width → half-width, traditional → simplified); only text with scalars outside the tabled
/// ranges (combining marks, other scripts, emoji) pays for Foundation's NFKC.
public struct TextNormalizer: Sendable {
    private static let delete: UInt32 = 0xFFFF_FFFF
    private static let expand: UInt32 = 0xFFFF_FFFE

    private let table: [UInt32]
    private let safe: [Bool]
    private let expansions: [UInt32: [UInt32]]
    private var measures: [[UInt32]]

    /// - Parameters:
    ///   - characterMap: traditional → simplified (or any 1:1 folding) applied after NFKC.
    ///   - numeralMeasures: words after which a single Chinese numeral becomes a digit (一个 → 1个).
    public init(characterMap: [UInt32: UInt32] = [:], numeralMeasures: [String] = []) {
        var table = [UInt32](0..<0x10000)
        var safe = [Bool](repeating: false, count: 0x10000)
        var expansions: [UInt32: [UInt32]] = [:]
        for v in 0..<0x80 { safe[v] = true }
        for v in 0x41...0x5A { table[v] = UInt32(v) + 0x20 }
        for v in 0..<0x20 { table[v] = Scalar.space }
        table[0x7F] = Scalar.space
        for v in 0x3400...0x4DBF { safe[v] = true }
        for v in 0x4E00...0x9FFF { safe[v] = true }

        let computed: [ClosedRange<Int>] = [
            0x80...0x24F, 0x2000...0x209F, 0x2100...0x218F, 0x2460...0x24FF, 0x3000...0x303F,
            0x3200...0x33FF, 0xF900...0xFAFF, 0xFE30...0xFE6F, 0xFF00...0xFFEF,
        ]
        for range in computed {
            for v in range {
                guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }
                safe[v] = true
                let folded = String(Character(scalar)).precomposedStringWithCompatibilityMapping.lowercased()
                let mapped = Array(folded.unicodeScalars.map(\.value))
                switch mapped.count {
                case 0: table[v] = Self.delete
                case 1: table[v] = mapped[0]
                default:
                    table[v] = Self.expand
                    expansions[UInt32(v)] = mapped
                }
            }
        }
        for v in 0x80...0x9F { table[v] = Scalar.space }
        // Punctuation the matcher treats alike, and marks that only get in the way.
        let overrides: [UInt32: UInt32] = [
            0x3002: 0x2E, 0x3001: 0x2C, 0xFF61: 0x2E, 0x201C: 0x22, 0x201D: 0x22, 0x300C: 0x22, 0x300D: 0x22,
            0x2D: Scalar.space, 0x5F: Scalar.space, 0x2010: Scalar.space, 0x2011: Scalar.space,
            0x2013: Scalar.space, 0x2014: Scalar.space, 0x2015: Scalar.space, 0x00A0: Scalar.space,
            0x3000: Scalar.space, 0x27: Self.delete, 0x2018: Self.delete, 0x2019: Self.delete,
            0x60: Self.delete, 0x200B: Self.delete, 0x200C: Self.delete, 0x200D: Self.delete,
            0x2060: Self.delete, 0xFEFF: Self.delete,
        ]
        for (k, v) in overrides { table[Int(k)] = v; safe[Int(k)] = true }
        for v in 0xFFF0...0xFFFF { safe[v] = false }
        // Character folding applies after compatibility mapping, wherever the source scalar sits.
        for (from, to) in characterMap where from < 0x10000 {
            table[Int(from)] = to
            safe[Int(from)] = true
        }
        for v in 0..<0x10000 where table[v] < 0x10000 && table[v] != UInt32(v) {
            if let folded = characterMap[table[v]] { table[v] = folded }
        }
        self.table = table
        self.safe = safe
        self.expansions = expansions
        self.measures = []
        // Measure words are normalized by the table itself, so they meet the text in the same form.
        var measures: [[UInt32]] = []
        for m in numeralMeasures {
            let n = self.basic(m)
            if !n.isEmpty { measures.append(n) }
        }
        self.measures = measures.sorted { $0.count > $1.count }
    }

    /// Normalizes one message (see the type's documentation).
    public func normalize(_ text: String) -> NormalizedText {
        if let fast = text.utf8.withContiguousStorageIfAvailable({ normalizeTabled($0) }), let out = fast {
            return out
        }
        return normalizeAny(text)
    }

    /// The common case in one pass over the UTF-8 bytes: every scalar is in the table and maps to
    /// at most one scalar, so the output is never longer than the input. Nil for anything else.
    private func normalizeTabled(_ bytes: UnsafeBufferPointer<UInt8>) -> NormalizedText? {
        var out = NormalizedText(scalars: [])
        var wordLetters = 0
        var wordUpper = 0
        var hasNumeral = false
        var tabled = true
        // Mapped and collapsed in the same pass: the output trails the input.
        var collapser = Collapser()
        let scalars = table.withUnsafeBufferPointer { table in
            safe.withUnsafeBufferPointer { safe in
                [UInt32](unsafeUninitializedCapacity: bytes.count + 1) { buffer, written in
                    var i = 0
                    let n = bytes.count
                    while i < n {
                        // Strings hold valid UTF-8, so decoding needs no checks.
                        let b0 = UInt32(bytes[i])
                        var v: UInt32
                        if b0 < 0x80 {
                            v = b0
                            i += 1
                        } else if b0 < 0xE0 {
                            v = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
                            i += 2
                        } else if b0 < 0xF0 {
                            v = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
                            i += 3
                        } else {
                            tabled = false
                            break
                        }
                        // Full-width letters (ＷＨＡＴ) count as the letters they fold to.
                        let letter = v >= 0xFF21 && v <= 0xFF5A ? v - 0xFF21 + 0x41 : v
                        if letter >= 0x61 && letter <= 0x7A || letter >= 0x41 && letter <= 0x5A {
                            wordLetters += 1
                            if letter < 0x61 { wordUpper += 1 }
                        } else if !(wordLetters > 0 && (v == 0x27 || v == 0x2019 || v == 0xFF07)) && wordLetters > 0 {
                            out.latinWords += 1
                            if wordLetters >= 3 {
                                out.longWords += 1
                                if wordUpper == wordLetters { out.shoutedWords += 1 }
                            }
                            wordLetters = 0
                            wordUpper = 0
                        }
                        guard safe[Int(v)] else {
                            tabled = false
                            break
                        }
                        let m = table[Int(v)]
                        if m == Self.delete { continue }
                        if m == Self.expand {
                            tabled = false
                            break
                        }
                        if Numerals.isNumeral(m) { hasNumeral = true }
                        collapser.push(m, into: buffer)
                    }
                    written = collapser.finish(buffer)
                }
            }
        }
        guard tabled else { return nil }
        if wordLetters > 0 {
            out.latinWords += 1
            if wordLetters >= 3 {
                out.longWords += 1
                if wordUpper == wordLetters { out.shoutedWords += 1 }
            }
        }
        out.scalars = scalars
        out.repeatedPunctuationRuns = collapser.repeatedRuns
        out.hanCount = collapser.hanCount
        if hasNumeral, Numerals.mayConvert(out.scalars, measures: measures) {
            out.scalars = Numerals.convert(out.scalars, measures: measures)
        }
        return out
    }

    /// Any text: Foundation's NFKC first when some scalar is outside the table.
    private func normalizeAny(_ text: String) -> NormalizedText {
        var out = NormalizedText(scalars: [])
        out.scalars.reserveCapacity(text.utf8.count + 8)
        var needsSlowPath = false
        for u in text.unicodeScalars where u.value >= 0x10000 || !safe[Int(u.value)] {
            needsSlowPath = true
            break
        }
        let source = needsSlowPath ? text.precomposedStringWithCompatibilityMapping : text
        // One array for the whole message: mapped here, then collapsed in place.
        var mapped = out.scalars
        var hasNumeral = false
        var wordLetters = 0
        var wordUpper = 0
        func endWord() {
            if wordLetters > 0 { out.latinWords += 1 }
            if wordLetters >= 3 {
                out.longWords += 1
                if wordUpper == wordLetters { out.shoutedWords += 1 }
            }
            wordLetters = 0
            wordUpper = 0
        }
        for u in source.unicodeScalars {
            let v = u.value
            if Scalar.isASCIILetter(v) {
                wordLetters += 1
                if v < 0x61 { wordUpper += 1 }
            } else if !(wordLetters > 0 && (v == 0x27 || v == 0x2019)) {
                endWord()
            }
            var m: UInt32
            if v < 0x10000 {
                m = table[Int(v)]
            } else {
                m = v
            }
            if m == Self.delete { continue }
            if m == Self.expand {
                mapped.append(contentsOf: expansions[v] ?? [])
                continue
            }
            if needsSlowPath && (v >= 0x10000 || !safe[Int(v)]) {
                // Other scripts: lower case through Unicode's own mapping.
                let lower = u.properties.lowercaseMapping.unicodeScalars
                if lower.count == 1, let first = lower.first { m = first.value }
            }
            if Numerals.isNumeral(m) { hasNumeral = true }
            mapped.append(m)
        }
        endWord()
        out.scalars = []
        collapse(&mapped, into: &out)
        out.scalars = mapped
        if hasNumeral, Numerals.mayConvert(out.scalars, measures: measures) {
            out.scalars = Numerals.convert(out.scalars, measures: measures)
        }
        return out
    }

    /// Table folding and spacing only, without counting: used for short rule terms at load.
    func basic(_ text: String) -> [UInt32] {
        normalize(text).scalars
    }

    /// Collapses whitespace and repeated punctuation in place, counting `!`/`?` runs and Han
    /// characters. The output is never longer than the input, so writing trails reading.
    private func collapse(_ array: inout [UInt32], into out: inout NormalizedText) {
        var collapser = Collapser()
        let kept = array.withUnsafeMutableBufferPointer { a -> Int in
            for r in 0..<a.count { collapser.push(a[r], into: a) }
            return collapser.finish(a)
        }
        array.removeLast(array.count - kept)
        out.repeatedPunctuationRuns += collapser.repeatedRuns
        out.hanCount += collapser.hanCount
    }
}

/// Whitespace and punctuation collapsing, one scalar at a time, writing at `written` (never
/// ahead of the scalar being read, so it can work in place).
struct Collapser {
    var written = 0
    var pendingSpace = false
    var runLength = 0
    var repeatedRuns = 0
    var hanCount = 0

    @inline(__always)
    private static func isPunctuation(_ v: UInt32) -> Bool {
        switch v {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return !Scalar.isDigit(v)
        case 0x2026, 0x3002, 0x00B7: return true
        default: return false
        }
    }

    @inline(__always)
    private mutating func closeRun(_ a: UnsafeMutableBufferPointer<UInt32>) {
        if runLength >= 2, written > 0, a[written - 1] == 0x21 || a[written - 1] == 0x3F { repeatedRuns += 1 }
        runLength = 0
    }

    @inline(__always)
    mutating func push(_ v: UInt32, into a: UnsafeMutableBufferPointer<UInt32>) {
        let w = written
        if v == Scalar.space || v == 0x09 || v == 0x0A || v == 0x0D {
            closeRun(a)
            pendingSpace = w > 0
            return
        }
        if !pendingSpace, w > 0, Self.isPunctuation(v),
            a[w - 1] == v || ((v == 0x21 || v == 0x3F) && (a[w - 1] == 0x21 || a[w - 1] == 0x3F))
        {
            runLength += 1
            return
        }
        closeRun(a)
        if pendingSpace {
            pendingSpace = false
            // Spaces between two Chinese characters carry no meaning (话 费 → 话费).
            if !(Scalar.isHan(a[w - 1]) && Scalar.isHan(v)) {
                a[written] = Scalar.space
                written += 1
            }
        }
        if Scalar.isHan(v) { hanCount += 1 }
        a[written] = v
        written += 1
    }

    /// Closes the last run; returns how many scalars were kept.
    mutating func finish(_ a: UnsafeMutableBufferPointer<UInt32>) -> Int {
        closeRun(a)
        return written
    }
}
