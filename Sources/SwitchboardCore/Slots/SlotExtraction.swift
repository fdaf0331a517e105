struct FlaggedHit {
    var flags: RuleSet.TermFlags
    var hit: TermHit
}

extension RuleSet {
    /// Slots whose values come from vocabulary hits, in output order; `SlotUse.slotIndex` points here.
    static let vocabularySlots: [SlotName] = [.plan, .addon, .faultType, .relativeMonth, .month]

    /// Finds slot values in normalized text: vocabulary slots from term hits (plan, add-on, fault
    /// type, months), and numbers read by shape and context (phone, PIN, amount, month, ticket).
    func extractSlots(_ s: [UInt32], hits: [TermHit], numbers: [TermHit], context: ClassificationContext) -> Slots {
        // The longest hit wins per vocabulary slot (indexed by `vocabularySlots`); raw scratch, as in
        // ExampleIndex.score. The winning term is kept and its value looked up once at the end.
        let slotCount = Self.vocabularySlots.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * slotCount) { scratch in
            let longestLength = UnsafeMutableBufferPointer(rebasing: scratch[0..<slotCount])
            let longestTerm = UnsafeMutableBufferPointer(rebasing: scratch[slotCount...])
            longestLength.initialize(repeating: 0)
            longestTerm.initialize(repeating: -1)
            return extractSlots(s, hits: hits, numbers: numbers, context: context,
                                longestLength: longestLength, longestTerm: longestTerm)
        }
    }

    private func extractSlots(_ s: [UInt32], hits: [TermHit], numbers: [TermHit], context: ClassificationContext,
                              longestLength: UnsafeMutableBufferPointer<Int32>,
                              longestTerm: UnsafeMutableBufferPointer<Int32>) -> Slots
    {
        var slots = Slots()
        var flagged: [FlaggedHit] = []
        var pairWords = 0
        for hit in hits {
            let flags = termFlags[Int(hit.term)]
            if flags.contains(.slotPair) { pairWords += 1 }
            let contextFlags = flags.intersection(.slotContext)
            if !contextFlags.isEmpty { flagged.append(FlaggedHit(flags: contextFlags, hit: hit)) }
            guard flags.contains(.slot) else { continue }
            slotUses.forEach(hit.term) { use in
                let length = hit.end - hit.start
                let k = Int(use.slotIndex)
                if longestLength[k] >= length { return }
                if use.slot == .month, monthNeedsContext.contains(use.value), !hasMonthContext(near: hit, flagged: hits) {
                    return
                }
                longestLength[k] = length
                longestTerm[k] = hit.term
            }
        }
        // Words that count only together ("上不了网 + 没信号"): their lengths add up, so the pair
        // outranks each word alone. A winning pair is marked in `longestTerm` as -(index + 2).
        for (index, combo) in slotCombos.enumerated() where pairWords >= 2 {
            var length: Int32 = 0
            for part in combo.parts {
                guard let hit = hits.first(where: { part.contains($0.term) }) else {
                    length = 0
                    break
                }
                length += hit.end - hit.start
            }
            let k = Int(combo.slotIndex)
            if length > longestLength[k] {
                longestLength[k] = length
                longestTerm[k] = -Int32(index) - 2
            }
        }
        for (k, name) in Self.vocabularySlots.enumerated() where longestTerm[k] != -1 {
            if longestTerm[k] <= -2 {
                slots[name] = slotCombos[Int(-longestTerm[k] - 2)].value
            } else if let use = slotUses.first(longestTerm[k], where: { Int($0.slotIndex) == k }) {
                slots[name] = use.value
            }
        }
        let pinAnnounced = context.expectsPIN || flagged.contains { $0.flags.contains(.pinContext) }

        // Numbers. Phone numbers may be written in groups (138 0000 0001).
        guard !numbers.isEmpty else { return slots }
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: numbers.count) { consumed in
            consumed.initialize(repeating: false)
            readNumbers(s, numbers: numbers, pinAnnounced: pinAnnounced, flagged: flagged, consumed: consumed, into: &slots)
        }
        // A ticket id's digits are one run of 6 to 14.
        if numbers.contains(where: { $0.end - $0.start >= 6 }), let ticket = ticket(in: s) { slots[.ticket] = ticket }
        return slots
    }

    /// Phone numbers, PINs, amounts and numeric months, from the digit runs.
    private func readNumbers(_ s: [UInt32], numbers: [TermHit], pinAnnounced: Bool, flagged: [FlaggedHit],
                             consumed: UnsafeMutableBufferPointer<Bool>, into slots: inout Slots)
    {
        for (index, number) in numbers.enumerated() where !consumed[index] {
            // Mobile numbers start with 1, or with 86 before it.
            let first = s[Int(number.start)]
            guard first == 0x31 || first == 0x38 else { continue }
            var digits = Array(s[Int(number.start)..<Int(number.end)])
            var last = index
            while digits.count < 11, last + 1 < numbers.count, numbers[last + 1].start == numbers[last].end + 1,
                s[Int(numbers[last].end)] == Scalar.space, !digits.contains(0x2E)
            {
                last += 1
                digits += s[Int(numbers[last].start)..<Int(numbers[last].end)]
            }
            if digits.count == 13, digits[0] == 0x38, digits[1] == 0x36 { digits.removeFirst(2) }  // +86
            if digits.count == 11, digits[0] == 0x31, (0x33...0x39).contains(digits[1]) {
                if slots[.phone] == nil { slots[.phone] = Scalar.string(digits) }
                for k in index...last { consumed[k] = true }
            }
        }
        for (index, number) in numbers.enumerated() where !consumed[index] {
            let length = number.end - number.start
            // A PIN typed in two groups ("123 456") when the bot asked for it.
            if pinAnnounced, slots[.pin] == nil, length < 6, index + 1 < numbers.count, !consumed[index + 1] {
                let next = numbers[index + 1]
                if next.start == number.end + 1, s[Int(number.end)] == Scalar.space, length + (next.end - next.start) == 6,
                    !s[Int(number.start)..<Int(next.end)].contains(0x2E)
                {
                    slots[.pin] = Scalar.string(s[Int(number.start)..<Int(number.end)]) + Scalar.string(s[Int(next.start)..<Int(next.end)])
                    consumed[index + 1] = true
                    continue
                }
            }
            let text = Scalar.string(s[Int(number.start)..<Int(number.end)])
            if length == 6, !text.utf8.contains(0x2E), pinAnnounced, slots[.pin] == nil, !isTicketDigits(number, s) {
                slots[.pin] = text
                continue
            }
            if slots[.amount] == nil, let amount = amount(number, text: text, s: s, flagged: flagged) {
                slots[.amount] = amount
                continue
            }
            if slots[.month] == nil, let month = Int(text), (1...12).contains(month), Int(number.end) < s.count,
                s[Int(number.end)] == 0x6708,  // 月
                !(Int(number.end) + 1 < s.count && s[Int(number.end) + 1] == 0x79DF)  // 月租 is a fee, not a month
            {
                slots[.month] = String(month)
            }
        }
    }

    private func hasMonthContext(near hit: TermHit, flagged hits: [TermHit]) -> Bool {
        hits.contains { other in
            termFlags[Int(other.term)].contains(.monthContext)
                && (abs(other.end - hit.start) <= 2 || abs(hit.end - other.start) <= 2)
        }
    }

    private func isTicketDigits(_ number: TermHit, _ s: [UInt32]) -> Bool {
        var k = Int(number.start) - 1
        if k >= 0, s[k] == Scalar.space { k -= 1 }
        var start = k
        while start >= 0, Scalar.isASCIILetter(s[start]) { start -= 1 }
        return k > start && isTicketPrefix(s[(start + 1)...k])
    }

    private func isTicketPrefix(_ letters: ArraySlice<UInt32>) -> Bool {
        ticketPrefixes.contains { $0.elementsEqual(letters) }
    }

    /// A number is an amount when a currency word stands right before or after it (¥12, 12元, 12块5).
    private func amount(_ number: TermHit, text: String, s: [UInt32], flagged: [FlaggedHit]) -> String? {
        for f in flagged {
            let flags = f.flags
            let hit = f.hit
            let before = flags.contains(.currencyBefore) && (hit.end == number.start || (hit.end + 1 == number.start && s[Int(hit.end)] == Scalar.space))
            let after = flags.contains(.currencyAfter) && (hit.start == number.end || (number.end + 1 == hit.start && s[Int(number.end)] == Scalar.space))
            guard before || after else { continue }
            var value = text
            // 12块5 is 12.5: a single digit right after 块 is the tenths.
            if after, !value.utf8.contains(0x2E), Int(hit.end) < s.count, Scalar.isDigit(s[Int(hit.end)]),
                Int(hit.end) + 1 == s.count || !Scalar.isDigit(s[Int(hit.end) + 1])
            {
                value += "." + Scalar.string([s[Int(hit.end)]])
            }
            return Self.trimmedNumber(value)
        }
        return nil
    }

    static func trimmedNumber(_ text: String) -> String {
        guard text.utf8.contains(0x2E) else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// Ticket ids: a known prefix (`ticket_prefixes` in entities.yaml), an optional space (a hyphen
    /// is normalized to one), then 6–14 digits: RP20261127001, CP-2026112800012.
    private func ticket(in s: [UInt32]) -> String? {
        var i = 0
        while i < s.count {
            guard Scalar.isASCIILetter(s[i]), i == 0 || !Scalar.isASCIIAlnum(s[i - 1]) else {
                i += 1
                continue
            }
            var j = i
            while j < s.count, Scalar.isASCIILetter(s[j]) { j += 1 }
            var k = j
            if k < s.count, s[k] == Scalar.space { k += 1 }
            var d = k
            while d < s.count, Scalar.isDigit(s[d]) { d += 1 }
            if (6...14).contains(d - k), d == s.count || !Scalar.isASCIIAlnum(s[d]), isTicketPrefix(s[i..<j]) {
                return (Scalar.string(s[i..<j]) + Scalar.string(s[k..<d])).uppercased()
            }
            i = max(j, i + 1)
        }
        return nil
    }

    /// The age a customer states ("我今年78岁", "I'm 82"), through the age patterns of cues.yaml.
    func ageStated(hits: [TermHit], numbers: [TermHit], text s: [UInt32], scratch: Scratch) -> Int? {
        guard !numbers.isEmpty else { return nil }
        let candidateCount = ageGate.candidates(hits, hasNumbers: true, scratch: scratch)
        for c in 0..<candidateCount {
            let pattern = agePatterns[Int(scratch.candidates[c])]
            guard let start = match(pattern, hits: hits, numbers: numbers, text: s) else { continue }
            // The age is the first number at or after where the pattern matched.
            // A whole number, not a share or a price ("I'm 100% sure", "今年2025年"), in a plausible range.
            if let number = numbers.first(where: { $0.start >= start }),
                let age = Int(Scalar.string(s[Int(number.start)..<Int(number.end)])), (1...110).contains(age),
                Int(number.end) == s.count || !notAgeAfter.contains(s[Int(number.end)])
            {
                return age
            }
        }
        return nil
    }
}
