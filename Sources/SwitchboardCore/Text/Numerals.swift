/// Chinese numerals → digits where they form a number (一百二十块 → 120块, 两个g → 2个g, 十点五 → 10.5).
///
/// A run with a unit (十百千万亿) is read positionally and left alone when it does not parse
/// (万一, 千万别). A run of plain digits is read digit by digit when it has three or more
/// (一三八 → 138); a single digit only when a measure word follows (一个 → 1个, but 一下, 一直 stay).
/// Two plain digits are left alone: 两三个 means "two or three".
enum Numerals {
    private static let point: UInt32 = 0x70B9  // 点

    static func digit(_ v: UInt32) -> Int? {
        switch v {
        case 0x96F6, 0x3007: return 0  // 零 〇
        case 0x4E00: return 1  // 一
        case 0x4E8C, 0x4E24: return 2  // 二 两
        case 0x4E09: return 3
        case 0x56DB: return 4
        case 0x4E94: return 5
        case 0x516D: return 6
        case 0x4E03: return 7
        case 0x516B: return 8
        case 0x4E5D: return 9
        default: return nil
        }
    }

    static func unit(_ v: UInt32) -> Int? {
        switch v {
        case 0x5341: return 10  // 十
        case 0x767E: return 100  // 百
        case 0x5343: return 1000  // 千
        case 0x4E07: return 10_000  // 万
        case 0x4EBF: return 100_000_000  // 亿
        default: return nil
        }
    }

    static func isNumeral(_ v: UInt32) -> Bool { digit(v) != nil || unit(v) != nil }

    private static func anyDigit(_ v: UInt32) -> Int? {
        Scalar.isDigit(v) ? Int(v - 0x30) : digit(v)
    }

    /// Whether `convert` could change anything: a Chinese numeral next to another digit, before a
    /// measure word, or before 点 and a digit. Most messages only have 一下, 一直, 第一 (no copy then).
    static func mayConvert(_ s: [UInt32], measures: [[UInt32]]) -> Bool {
        for i in 0..<s.count where isNumeral(s[i]) {
            let next = i + 1
            if next < s.count, anyDigit(s[next]) != nil || unit(s[next]) != nil { return true }
            if i > 0, anyDigit(s[i - 1]) != nil { return true }
            if unit(s[i]) != nil || startsWithMeasure(s, at: next, measures: measures) { return true }
            if next + 1 < s.count, s[next] == point, anyDigit(s[next + 1]) != nil { return true }
        }
        return false
    }

    static func convert(_ s: [UInt32], measures: [[UInt32]]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            guard isNumeral(s[i]) || Scalar.isDigit(s[i]) else {
                out.append(s[i])
                i += 1
                continue
            }
            var j = i
            var chinese = false
            var hasUnit = false
            while j < s.count, anyDigit(s[j]) != nil || unit(s[j]) != nil {
                if !Scalar.isDigit(s[j]) { chinese = true }
                if unit(s[j]) != nil { hasUnit = true }
                j += 1
            }
            guard chinese else {
                out.append(contentsOf: s[i..<j])
                i = j
                continue
            }
            // Decimal part: 点 followed by digits.
            var fraction: [Int] = []
            var end = j
            if j + 1 < s.count, s[j] == point, anyDigit(s[j + 1]) != nil {
                var k = j + 1
                while k < s.count, let d = anyDigit(s[k]) {
                    fraction.append(d)
                    k += 1
                }
                end = k
            }
            let run = Array(s[i..<j])
            let followedByMeasure = startsWithMeasure(s, at: end, measures: measures)
            var value: String?
            if hasUnit {
                if run.count >= 2 || followedByMeasure || !fraction.isEmpty, let n = positional(run) {
                    value = String(n)
                }
            } else {
                let digits = run.compactMap(anyDigit)
                if digits.count >= 3 || ((digits.count == 1 || !fraction.isEmpty) && (followedByMeasure || !fraction.isEmpty)) {
                    value = digits.map(String.init).joined()
                }
            }
            if var v = value {
                if !fraction.isEmpty { v += "." + fraction.map(String.init).joined() }
                out.append(contentsOf: v.unicodeScalars.map(\.value))
                i = end
            } else {
                out.append(contentsOf: run)
                i = j
            }
        }
        return out
    }

    private static func startsWithMeasure(_ s: [UInt32], at index: Int, measures: [[UInt32]]) -> Bool {
        for m in measures where index + m.count <= s.count {
            var match = true
            for (k, v) in m.enumerated() where s[index + k] != v {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }

    /// Reads 一百二十 → 120, 三千五 → 3500, 两万 → 20000; nil when the run is not a number.
    static func positional(_ run: [UInt32]) -> Int? {
        var total = 0
        var section = 0
        var current: Int?
        var lastUnit = 0
        var previousWasUnit = false
        for (index, v) in run.enumerated() {
            if let d = anyDigit(v) {
                if let c = current, !previousWasUnit, c < 1_000_000 {
                    current = c * 10 + d
                } else {
                    current = d
                }
                if d == 0 { lastUnit = 0 }
                previousWasUnit = false
            } else if let u = unit(v) {
                if u >= 10_000 {
                    guard current != nil || section > 0 else { return nil }
                    section += current ?? 0
                    total += section * u
                    section = 0
                } else {
                    if current == nil {
                        guard u == 10, index == 0 || (previousWasUnit && lastUnit > 10) || section == 0 else { return nil }
                        current = 1
                    }
                    section += (current ?? 0) * u
                }
                current = nil
                lastUnit = u
                previousWasUnit = true
            }
        }
        if let c = current {
            // 一百二 is 120 and 三千五 is 3500: a trailing digit right after a unit counts one step down.
            if lastUnit >= 100, c < 10, run.count >= 2, unit(run[run.count - 2]) == lastUnit {
                section += c * (lastUnit == 10_000 ? 1000 : lastUnit / 10)
            } else {
                section += c
            }
        }
        return total + section
    }
}
