/// Corrects English words that neither the rule set nor the ordinary-word list knows to a rule word one edit away
/// (insertion, deletion, substitution or transposition), through a symmetric-delete index built at
/// load: a lookup hashes a handful of deletions instead of comparing against every word.
struct TypoCorrector: Sendable {
    /// Shorter words are left alone: at three letters almost everything is one edit from something.
    static let minimumLength = 4

    private let words: [[UInt32]]
    private let frequency: [Int]
    private let known: IntegerTable
    /// Deletion hash → a range of `deleteTargets`.
    private let deleteRanges: IntegerTable
    private let deleteStart: [Int32]
    private let deleteTargets: [Int32]

    /// - Parameters:
    ///   - vocabulary: the rules' words with their counts: the only correction targets.
    ///   - ordinaryWords: words that are right as written ("some", "till") and never corrected.
    init(vocabulary: [[UInt32]: Int], ordinaryWords: [[UInt32]] = []) {
        var words: [[UInt32]] = []
        var frequency: [Int] = []
        var known: [UInt64: Int32] = [:]
        var deletes: [UInt64: [Int32]] = [:]
        for (word, count) in vocabulary.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let index = Int32(words.count)
            words.append(word)
            frequency.append(count)
            known[Self.hash(word[...])] = index
            guard word.count >= Self.minimumLength else { continue }
            for skip in 0..<word.count {
                deletes[Self.hash(word, skipping: skip), default: []].append(index)
            }
        }
        self.words = words
        self.frequency = frequency
        for word in ordinaryWords {
            let h = Self.hash(word[...])
            if known[h] == nil { known[h] = -1 }
        }
        self.known = IntegerTable(known)
        var ranges: [UInt64: Int32] = [:]
        var start: [Int32] = [0]
        var targets: [Int32] = []
        for (key, list) in deletes {
            ranges[key] = Int32(start.count - 1)
            targets += list
            start.append(Int32(targets.count))
        }
        self.deleteRanges = IntegerTable(ranges)
        self.deleteStart = start
        self.deleteTargets = targets
    }

    /// Whether `word` is a word of the rule set.
    func isKnown(_ word: ArraySlice<UInt32>) -> Bool { known[Self.hash(word)] != nil }

    /// The known word one edit away from `word`, preferring the one the rules use most; nil when
    /// `word` is known, too short, or has no such neighbour.
    func correction(for word: ArraySlice<UInt32>) -> [UInt32]? {
        guard word.count >= Self.minimumLength, !isKnown(word) else { return nil }
        let w = Array(word)
        var candidates: [Int32] = deleted(Self.hash(word))
        for skip in 0..<w.count {
            let h = Self.hash(w, skipping: skip)
            if let index = known[h], index >= 0 { candidates.append(index) }
            candidates += deleted(h)
        }
        var best: Int32 = -1
        for c in candidates where Self.oneEditApart(w, words[Int(c)]) {
            if best < 0 || frequency[Int(c)] > frequency[Int(best)] { best = c }
        }
        return best >= 0 ? words[Int(best)] : nil
    }

    private func deleted(_ hash: UInt64) -> [Int32] {
        guard let range = deleteRanges[hash] else { return [] }
        return Array(deleteTargets[Int(deleteStart[Int(range)])..<Int(deleteStart[Int(range) + 1])])
    }

    static func oneEditApart(_ a: [UInt32], _ b: [UInt32]) -> Bool {
        if a == b { return false }
        if a.count == b.count {
            var diffs: [Int] = []
            for i in 0..<a.count where a[i] != b[i] {
                diffs.append(i)
                if diffs.count > 2 { return false }
            }
            if diffs.count == 1 { return true }
            return diffs.count == 2 && diffs[1] == diffs[0] + 1 && a[diffs[0]] == b[diffs[1]] && a[diffs[1]] == b[diffs[0]]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        var i = 0
        while i < short.count, long[i] == short[i] { i += 1 }
        return long[(i + 1)...].elementsEqual(short[i...])
    }

    static func hash(_ word: ArraySlice<UInt32>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in word { h = (h ^ UInt64(v)) &* 0x100_0000_01b3 }
        return h
    }

    static func hash(_ word: [UInt32], skipping skip: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, v) in word.enumerated() where i != skip { h = (h ^ UInt64(v)) &* 0x100_0000_01b3 }
        return h
    }
}
