extension RuleSet {
    /// Frustration and elderly signals of one message: lexicon groups (each counted once),
    /// repeated `!`/`?`, shouting, repetition, and a stated age.
    func detectCues(_ text: NormalizedText, hits: [TermHit], numbers: [TermHit], into cues: inout UtteranceCues) {
        var fired = Set<Int32>()
        for hit in hits {
            for group in cueUses[Int(hit.term)] where fired.insert(group).inserted {
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
        if let age = ageStated(hits: hits, numbers: numbers, text: text.scalars), age >= cueSettings.ageAtLeast {
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
        for length in 1...4 where s.count >= 3 * length {
            var i = 0
            while i + 3 * length <= s.count {
                if Scalar.isHan(s[i]) && s[i..<(i + length)] == s[(i + length)..<(i + 2 * length)]
                    && s[i..<(i + length)] == s[(i + 2 * length)..<(i + 3 * length)]
                {
                    return true
                }
                i += 1
            }
        }
        var words: [ArraySlice<UInt32>] = []
        var i = 0
        while i < s.count {
            guard Scalar.isASCIILetter(s[i]) else {
                i += 1
                continue
            }
            var j = i
            while j < s.count, Scalar.isASCIILetter(s[j]) { j += 1 }
            words.append(s[i..<j])
            i = j
        }
        if words.count >= 3 {
            for k in 2..<words.count where words[k].count >= 2 && words[k] == words[k - 1] && words[k] == words[k - 2] {
                return true
            }
        }
        return false
    }
}
