/// Masks personal numbers in any text before it is written to disk: mainland mobile numbers
/// (138****0001), 18-digit ID-card numbers with a valid checksum (1101**********123X), bank-card
/// numbers that pass the Luhn check, and to be safe any other run of 15 or more digits — each
/// keeping only its last four digits (the ID card also its region prefix).
public enum Masking {
    /// The text with every phone, ID-card and bank-card number masked.
    public static func mask(_ text: String) -> String {
        if let phone = maskedPhone(text) { return phone }
        // Every personal number is a run of at least 11 digits (ASCII or full-width EF BC 90–99),
        // possibly grouped by single spaces or hyphens: most texts have none and are returned as
        // they are. Letters before the digits (RP20261127001) still count: the full check decides.
        var run = 0
        var longest = 0
        var separator = false
        var previous: (UInt8, UInt8) = (0, 0)
        for b in text.utf8 {
            if (0x30...0x39).contains(b) || (previous == (0xEF, 0xBC) && (0x90...0x99).contains(b)) {
                run += 1
                longest = max(longest, run)
                separator = false
            } else if (b == 0x20 || b == 0x2D) && run > 0 && !separator {
                separator = true
            } else if !(b == 0xEF || (previous.1 == 0xEF && b == 0xBC)) {
                run = 0
                separator = false
            }
            previous = (previous.1, b)
        }
        guard longest >= 11 else { return text }
        if !text.utf8.contains(0xEF) { return maskASCII(text) }
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: { digit($0) != nil }) else { return text }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard digit(scalars[i]) != nil, i == 0 || !isWordScalar(scalars[i - 1]) || digit(scalars[i - 1]) == nil else {
                out.append(scalars[i])
                i += 1
                continue
            }
            // A run of digits, possibly grouped by single spaces or hyphens (6222 0212 3456 7890).
            var positions: [Int] = []
            var j = i
            while j < scalars.count {
                if digit(scalars[j]) != nil {
                    positions.append(j)
                    j += 1
                } else if (scalars[j] == " " || scalars[j] == "-"), j + 1 < scalars.count, digit(scalars[j + 1]) != nil,
                    !positions.isEmpty
                {
                    j += 1
                } else {
                    break
                }
            }
            // An ID card ends in X.
            var idCheck: Unicode.Scalar?
            if positions.count == 17, j < scalars.count, scalars[j] == "X" || scalars[j] == "x" {
                idCheck = scalars[j]
            }
            let digits = positions.map { digit(scalars[$0])! }
            let keep = keepMask(digits: digits, idCheck: idCheck)
            if keep == nil {
                // Not personal: copy the run as it is.
                for k in i..<j { out.append(scalars[k]) }
                i = j
                continue
            }
            var n = 0
            for k in i..<j {
                if n < positions.count && positions[n] == k {
                    out.append(keep!.keeps(n, of: positions.count) ? scalars[k] : "*")
                    n += 1
                } else {
                    out.append(scalars[k])
                }
            }
            i = j
            if let idCheck {
                out.append(idCheck)
                i += 1
            }
        }
        return String(out)
    }

    /// A text that is only a mainland mobile number (a customer's number, masked once per
    /// session), masked without the general scan: 13800000001 → 138****0001.
    static func maskedPhone(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { b -> String? in
            guard b.count == 11, b[0] == 0x31, (0x33...0x39).contains(b[1]), b.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            var out = Array(b)
            for k in 3..<7 { out[k] = 0x2A }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The same masking over UTF-8 bytes, for text whose digits are all ASCII (nearly all text):
    /// no scalar arrays, no sets.
    static func maskASCII(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
        func isWord(_ b: UInt8) -> Bool { isDigit(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
        var positions: [Int] = []
        var digits: [Int] = []
        var i = 0
        while i < bytes.count {
            guard isDigit(bytes[i]), i == 0 || !isWord(bytes[i - 1]) || !isDigit(bytes[i - 1]) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            positions.removeAll(keepingCapacity: true)
            var j = i
            while j < bytes.count {
                if isDigit(bytes[j]) {
                    positions.append(j)
                    j += 1
                } else if bytes[j] == 0x20 || bytes[j] == 0x2D, j + 1 < bytes.count, isDigit(bytes[j + 1]), !positions.isEmpty {
                    j += 1
                } else {
                    break
                }
            }
            var idCheck: Unicode.Scalar?
            if positions.count == 17, j < bytes.count, bytes[j] == 0x58 || bytes[j] == 0x78 { idCheck = Unicode.Scalar(bytes[j]) }
            digits.removeAll(keepingCapacity: true)
            for p in positions { digits.append(Int(bytes[p] - 0x30)) }
            guard let keep = keepMask(digits: digits, idCheck: idCheck) else {
                out.append(contentsOf: bytes[i..<j])
                i = j
                continue
            }
            var n = 0
            for k in i..<j {
                if n < positions.count && positions[n] == k {
                    out.append(keep.keeps(n, of: positions.count) ? bytes[k] : 0x2A)
                    n += 1
                } else {
                    out.append(bytes[k])
                }
            }
            i = j
            if idCheck != nil {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Which digits of a run stay visible: the first `head` and the last `tail`.
    struct Visible {
        var head: Int
        var tail: Int
        func keeps(_ n: Int, of count: Int) -> Bool { n < head || n >= count - tail }
    }

    /// Which digits stay visible, or nil when the run is not a personal number.
    static func keepMask(digits: [Int], idCheck: Unicode.Scalar?) -> Visible? {
        let n = digits.count
        if idCheck != nil || n == 18, isIDCard(digits, check: idCheck) {
            // The X check character is kept outside `digits`, so three digits plus X stay visible.
            return Visible(head: 4, tail: idCheck == nil ? 4 : 3)
        }
        let offset = n == 13 && digits[0] == 8 && digits[1] == 6 ? 2 : 0  // +86
        if n - offset == 11, digits[offset] == 1, (3...9).contains(digits[offset + 1]) {
            return Visible(head: offset + 3, tail: 4)
        }
        if n >= 15 || (n >= 13 && passesLuhn(digits)) {
            return Visible(head: 0, tail: 4)
        }
        return nil
    }

    /// GB 11643 checksum of an 18-character resident ID.
    static func isIDCard(_ digits: [Int], check: Unicode.Scalar?) -> Bool {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        guard digits.count == (check == nil ? 18 : 17) else { return false }
        let sum = zip(digits.prefix(17), weights).reduce(0) { $0 + $1.0 * $1.1 }
        let expected = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"][sum % 11]
        let actual = check.map { String($0).uppercased() } ?? String(digits[17])
        return expected == actual
    }

    /// Luhn check used by bank cards.
    static func passesLuhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            if i % 2 == 1 {
                let doubled = d * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += d
            }
        }
        return sum % 10 == 0
    }

    private static func digit(_ u: Unicode.Scalar) -> Int? {
        switch u.value {
        case 0x30...0x39: return Int(u.value - 0x30)
        case 0xFF10...0xFF19: return Int(u.value - 0xFF10)
        default: return nil
        }
    }

    private static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
        digit(u) != nil || (0x41...0x5A).contains(u.value) || (0x61...0x7A).contains(u.value)
    }
}
