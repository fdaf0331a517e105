extension RuleSet {
    /// Frustration and elderly signals of one message: lexicon groups (each counted once),
    /// repeated `!`/`?`, shouting, repetition, and a stated age.
    func detectCues(_ text: NormalizedText, hits: [TermHit], statedAge: Int?, into cues: inout UtteranceCues) {
        // Groups already counted: a bit each for the first 64, a set beyond (rare).
        var firedBits: UInt64 = 0
        var firedBeyond = Set<Int32>()
        for hit in hits where termFlags[Int(hit.term)].contains(.cue) {
            cueUses.forEach(hit.term) { group in
                if group < 64 {
                    guard firedBits & (1 << UInt64(group)) == 0 else { return }
                    firedBits |= 1 << UInt64(group)
                } else {
                    guard firedBeyond.insert(group).inserted else { return }
                }
                let g = cueGroups[Int(group)]
                switch g.kind {
                case .frustration: cues.frustration += g.weight
                case .elderly: cues.elderlyScore += g.weight
                }
                cues.signals.append(g.label)
            }
        }
        if text.repeatedPunctuationRuns > 0 {
            cues.frustration += cueSettings.repeatedPunctuation
            cues.signals.append("repeated_punctuation")
        }
        if text.shoutedWords >= 2 && text.shoutedWords * 2 >= text.longWords {
            cues.frustration += cueSettings.shouting
            cues.signals.append("shouting")
        }
        if Self.hasRepetition(text.scalars) {
            cues.frustration += cueSettings.repetition
            cues.signals.append("repetition")
        }
        if let age = statedAge, age >= cueSettings.ageAtLeast {
            cues.elderlyScore += 1
            cues.signals.append("stated_age")
        }
        cues.frustration = min(1, cues.frustration)
        cues.elderlyScore = min(1, cues.elderlyScore)
        cues.frustrated = cues.frustration >= cueSettings.frustrationThreshold
        cues.elderly = cues.elderlyScore >= cueSettings.elderlyThreshold
    }

    /// The same Chinese chunk three times in a row (快点快点快点, 喂喂喂), or the same English word
    /// three times in a row (why why why).
    static func hasRepetition(_ s: [UInt32]) -> Bool {
        let n = s.count
        guard n >= 3 else { return false }
        // One pass: at each Chinese character, a chunk of 1 to 4 characters starting there.
        let han = s.withUnsafeBufferPointer { p -> Bool in
            var i = 0
            while i + 3 <= n {
                let v = p[i]
                // Laughter (哈哈哈, 呵呵呵, 嘿嘿嘿) repeats too, but is not insistence.
                if Scalar.isHan(v) && v != 0x54C8 && v != 0x5475 && v != 0x563F && v != 0x563B {
                    var length = 1
                    while length <= 4 && i + 3 * length <= n {
                        if p[i + length] == v && p[i + 2 * length] == v {
                            var k = 1
                            while k < length && p[i + k] == p[i + length + k] && p[i + k] == p[i + 2 * length + k] { k += 1 }
                            if k == length { return true }
                        }
                        length += 1
                    }
                }
                i += 1
            }
            return false
        }
        if han { return true }
        // English: the same word (two letters or more) three times in a row.
        var previous: (start: Int, end: Int) = (0, 0)
        var runs = 0
        var i = 0
        while i < n {
            guard Scalar.isASCIILetter(s[i]) else {
                i += 1
                continue
            }
            var j = i
            while j < n, Scalar.isASCIILetter(s[j]) { j += 1 }
            let length = j - i
            if length >= 2, length == previous.end - previous.start,
                (0..<length).allSatisfy({ s[i + $0] == s[previous.start + $0] })
            {
                runs += 1
                if runs >= 2 { return true }
            } else {
                runs = 0
            }
            previous = (i, j)
            i = j
        }
        return false
    }
}

extension RuleSet {
    /// The weight a cue group adds to a message's score (0 for a signal that is not a group).
    public func cueWeight(_ label: String) -> Double {
        cueGroups.first { $0.label == label }?.weight ?? 0
    }
}
