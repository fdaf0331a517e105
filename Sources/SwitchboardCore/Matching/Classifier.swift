import Foundation

/// What the dialogue knows that changes how a message is read.
public struct ClassificationContext: Sendable {
    /// The bot has just asked for the service PIN, so a bare 6-digit number is one.
    public var expectsPIN: Bool

    public init(expectsPIN: Bool = false) { self.expectsPIN = expectsPIN }
}

/// What the rules said about one intent for one message.
struct IntentTally {
    var best: Float = 0
    var extra: Float = 0
    var vetoed = false
    var negated = false
}

/// An intent's index and confidence while ranking (a struct: tuple arrays cost a metadata lookup).
struct RankedIntent {
    var index: Int
    var confidence: Float
}

extension RuleSet {
    /// Longer messages are read at their start and end, this many scalars in all.
    public static let maximumScalars = 2_000

    /// Understands one message: language, dialect, intent with confidence, slots and cues.
    /// For many messages in a row, a `Classifier` reuses its working memory and is faster.
    public func classify(_ text: String, context: ClassificationContext = .init(), explain: Bool = false) -> Classification {
        classify(text, context: context, explain: explain, scratch: Scratch(self))
    }

    func classify(_ text: String, context: ClassificationContext, explain: Bool, scratch: Scratch) -> Classification {
        var input = text
        if text.utf8.count > Self.maximumScalars, text.unicodeScalars.count > Self.maximumScalars {
            // The request is usually at the start or the end of a long message: both are read.
            let half = Self.maximumScalars / 2
            input = String(String.UnicodeScalarView(text.unicodeScalars.prefix(half))) + " "
                + String(String.UnicodeScalarView(text.unicodeScalars.suffix(half)))
        }
        var explanation: Explanation? = explain ? Explanation() : nil
        var cues = UtteranceCues()
        var reading = read(input, explanation: &explanation)
        cues.dialect = reading.dialect
        let normalized = reading.normalized
        var hits = reading.hits
        reading.hits = []
        explanation?.rewritten = normalized.string
        let s = normalized.scalars
        hits.sort { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
        let numbers = numberHits(s)

        let language: Language
        if normalized.hanCount > 0 && normalized.hanCount * 2 >= normalized.latinWords {
            language = .zh
        } else if normalized.latinWords > 0 {
            language = .en
        } else {
            language = defaultLanguage
        }

        // Rules.
        let count = intents.count
        let tally = scratch.tally
        tally.initialize(repeating: IntentTally())
        let similarityBest = scratch.similarityBest
        similarityBest.initialize(repeating: 0)
        let similarityExample = scratch.similarityExample
        similarityExample.initialize(repeating: -1)
        let top = scratch.top
        var negatorEnds: [TermHit] = []  // term = the negated intent
        for hit in hits {
            let flags = termFlags[Int(hit.term)]
            guard flags.contains(.exclude) || flags.contains(.negator) else { continue }
            excludes.forEach(hit.term) { intent in
                tally[Int(intent)].vetoed = true
                if explanation != nil { explanation!.vetoes.append((intents[Int(intent)], termText[Int(hit.term)])) }
            }
            negators.forEach(hit.term) { intent in negatorEnds.append(TermHit(term: intent, start: hit.start, end: hit.end)) }
        }
        func isNegated(_ intent: Int32, before start: Int32) -> Bool {
            guard !negatorEnds.isEmpty else { return false }
            let window: Int32 = start < s.count && Scalar.isASCIIAlnum(s[Int(start)]) ? 16 : 4
            return negatorEnds.contains { $0.term == intent && $0.end <= start && start - $0.end <= window }
        }
        func add(_ intent: Int32, _ weight: Float, rule: Int32, start: Int32) {
            if isNegated(intent, before: start) {
                // The customer said they do not want this: no example should vote for it either.
                tally[Int(intent)].negated = true
                if explanation != nil { explanation!.negated.append((intents[Int(intent)], ruleDescriptions[Int(rule)])) }
                return
            }
            let i = Int(intent)
            if weight > tally[i].best {
                if tally[i].best > 0 { tally[i].extra += 1 }
                tally[i].best = weight
            } else {
                tally[i].extra += 1
            }
            if explanation != nil {
                explanation!.ruleHits.append(.init(intent: intents[i], rule: ruleDescriptions[Int(rule)], weight: Double(weight)))
            }
        }
        for hit in hits where termFlags[Int(hit.term)].contains(.phrase) {
            phraseUses.forEach(hit.term) { use in add(use.intent, use.weight, rule: use.rule, start: hit.start) }
        }
        let candidateCount = patternGate.candidates(hits, hasNumbers: !numbers.isEmpty, scratch: scratch)
        for c in 0..<candidateCount {
            let pattern = patterns[Int(scratch.candidates[c])]
            if let start = match(pattern, hits: hits, numbers: numbers, text: s) {
                add(pattern.intent, pattern.weight, rule: pattern.rule, start: start)
            }
        }
        if !regexes.isEmpty {
            let string = normalized.string
            let range = NSRange(string.startIndex..., in: string)
            for r in regexes where r.regex.firstMatch(in: string, range: range) != nil {
                add(r.intent, r.weight, rule: r.rule, start: 0)
            }
        }

        // Examples, and the combined confidence.
        examples.score(s, scratch: scratch)
        // The three best intents, by index: no Strings touched until the winners are known.
        var topCount = 0
        let bonus = Float(scoring.extraHitBonus)
        let exampleWeight = Float(scoring.exampleWeight)
        let exampleCap = Float(scoring.exampleCap)
        for i in 0..<count where !tally[i].vetoed {
            let t = tally[i]
            let rule = t.best > 0 ? t.best + bonus * min(t.extra, 3) : 0
            let fromRules = rule > 0 ? 1 - exp(-rule) : 0
            let similar = t.negated && t.best == 0 ? 0 : similarityBest[i]
            let confidence = fromRules + (1 - fromRules) * min(exampleCap, similar * exampleWeight)
            if explanation != nil, rule > 0 || similarityBest[i] > 0.1 {
                explanation!.scores.append((intents[i], Double(rule), Double(similarityBest[i]), Double(confidence)))
                if similarityExample[i] >= 0 {
                    explanation!.examples.append((intents[i], examples.exampleText[Int(similarityExample[i])],
                                                  Double(similarityBest[i])))
                }
            }
            guard confidence > 0.05 else { continue }
            // Ties go to the intent defined first, so results never depend on anything but the rules.
            var position = topCount
            while position > 0 && top[position - 1].confidence < confidence { position -= 1 }
            if position < 3 {
                var k = min(topCount, 2)
                while k > position {
                    top[k] = top[k - 1]
                    k -= 1
                }
                top[position] = RankedIntent(index: i, confidence: confidence)
                topCount = min(topCount + 1, 3)
            }
        }
        let scored = top[0..<topCount].map { IntentScore(intent: intents[$0.index], confidence: Double($0.confidence)) }
        explanation?.scores.sort { $0.confidence > $1.confidence }

        var intent = IntentID.outOfScope
        var confidence = 1.0
        var ambiguous = false
        if let top = scored.first {
            if top.confidence >= scoring.confidenceFloor {
                intent = top.intent
                confidence = top.confidence
                if scored.count > 1, scored[1].confidence >= scoring.confidenceFloor,
                    top.confidence - scored[1].confidence < scoring.ambiguityMargin
                {
                    ambiguous = true
                }
            } else {
                confidence = 1 - top.confidence
            }
        }

        var slots = extractSlots(s, hits: hits, numbers: numbers, context: context)
        let age = ageStated(hits: hits, numbers: numbers, text: s, scratch: scratch)
        if let age { slots[.age] = String(age) }
        detectCues(normalized, hits: hits, statedAge: age, into: &cues)
        return Classification(
            text: text, language: language, intent: intent, confidence: confidence, slots: slots, cues: cues,
            candidates: scored, ambiguous: ambiguous, explanation: explanation)
    }

    // MARK: - Reading

    /// A message normalized, rewritten (dialect, slips, fillers, typos) and scanned.
    struct Reading {
        var normalized: NormalizedText
        var hits: [TermHit]
        var dialect: DialectID?
    }

    /// Normalizes, applies dialect entries, corrections, fillers and typo fixes, and finds every
    /// term: the text every later stage reads. Examples go through it too, so they meet messages
    /// in the same form.
    func read(_ text: String, explanation: inout Explanation?) -> Reading {
        var normalized = normalizer.normalize(text)
        explanation?.normalized = normalized.string
        var hits: [TermHit] = []
        hits.reserveCapacity(32)
        automaton.scan(normalized.scalars, into: &hits)
        var dialect: DialectID?
        var rewritten = rewrite(normalized.scalars, hits: hits, dialect: &dialect, explanation: &explanation)
        if normalized.latinWords > 0, let corrected = correctTypos(rewritten ?? normalized.scalars, explanation: &explanation) {
            rewritten = corrected
        }
        if let rewritten {
            normalized.scalars = rewritten
            hits.removeAll(keepingCapacity: true)
            automaton.scan(rewritten, into: &hits)
        }
        return Reading(normalized: normalized, hits: hits, dialect: dialect)
    }

    // MARK: - Rewriting

    /// Calls `body` with the leftmost-longest, non-overlapping choice among the hits `accept`
    /// allows; `sorted` is ordered by start, longer first.
    @inline(__always)
    private func select(_ sorted: [TermHit], accept: (TermHit) -> Bool, _ body: (TermHit) -> Void) {
        var position: Int32 = 0
        for hit in sorted where hit.start >= position && accept(hit) {
            body(hit)
            position = hit.end
        }
    }

    /// Applies dialect entries (of the dialect with enough evidence), corrections and fillers.
    private func rewrite(_ s: [UInt32], hits: [TermHit], dialect: inout DialectID?,
                         explanation: inout Explanation?) -> [UInt32]?
    {
        guard hits.contains(where: { termFlags[Int($0.term)].contains(.rewrite) }) else { return nil }
        // The rewriting hits, once, in the order every selection below reads them.
        var sorted = hits.filter { termFlags[Int($0.term)].contains(.rewrite) }
        sorted.sort { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
        var evidence = [Double](repeating: 0, count: dialects.count)
        var matched = [Int32](repeating: 0, count: dialects.count)
        // Each lexicon is read on its own, so one dialect's key cannot swallow another's evidence;
        // only the lexicons that matched something need their reading.
        var present: [Bool] = []
        for hit in sorted {
            rewriteUses.forEach(hit.term) { use in
                guard case .dialect(let d) = use.kind else { return }
                if present.isEmpty { present = [Bool](repeating: false, count: dialects.count) }
                present[Int(d)] = true
            }
        }
        for d in present.indices where present[d] {
            let kind = RewriteKind.dialect(Int32(d))
            select(sorted, accept: { hit in rewriteUses.contains(hit.term) { $0.kind == kind } }) { hit in
                rewriteUses.forEach(hit.term) { use in
                    guard use.kind == kind else { return }
                    evidence[d] += use.weight
                    matched[d] += hit.end - hit.start
                }
            }
        }
        // Most evidence wins; then more matched characters; then the id (lexicons load sorted by id).
        let winner: Int32 = {
            var winner: Int32 = -1
            for (d, e) in evidence.enumerated() where e >= dialects[d].minEvidence {
                let w = Int(winner)
                if winner < 0 || e > evidence[w] || (e == evidence[w] && matched[d] > matched[w]) { winner = Int32(d) }
            }
            return winner
        }()
        if explanation != nil {
            explanation!.dialectEvidence = evidence.enumerated().filter { $0.element > 0 }.map { (dialects[$0.offset].id, $0.element) }
        }
        if winner >= 0 { dialect = dialects[Int(winner)].id }
        func use(for hit: TermHit) -> RewriteUse? {
            rewriteUses.first(hit.term) { use in
                switch use.kind {
                case .dialect(let d): return d == winner
                case .correction, .filler: return true
                }
            }
        }
        var out: [UInt32] = []
        var position = 0
        select(sorted, accept: { use(for: $0) != nil }) { hit in
            guard let use = use(for: hit) else { return }
            if out.isEmpty { out.reserveCapacity(s.count + 8) }
            out += s[position..<Int(hit.start)]
            out += use.target
            position = Int(hit.end)
            if explanation != nil {
                let source: String
                switch use.kind {
                case .dialect(let d): source = dialects[Int(d)].id.rawValue
                case .correction: source = "correction"
                case .filler: source = "filler"
                }
                explanation!.replacements.append(.init(from: termText[Int(hit.term)], to: Scalar.string(use.target), source: source))
            }
        }
        guard position > 0 else { return nil }  // nothing chosen
        out += s[position...]
        // Dropped fillers can leave doubled or edge spaces: squeeze them in place.
        var kept = 0
        for k in out.indices where !(out[k] == Scalar.space && (kept == 0 || out[kept - 1] == Scalar.space)) {
            out[kept] = out[k]
            kept += 1
        }
        if kept > 0 && out[kept - 1] == Scalar.space { kept -= 1 }
        out.removeLast(out.count - kept)
        return out
    }

    private func correctTypos(_ s: [UInt32], explanation: inout Explanation?) -> [UInt32]? {
        var out: [UInt32]?
        var copied = 0
        Scalar.forEachWord(in: s) { range in
            let word = s[range]
            guard word.count >= TypoCorrector.minimumLength, word.allSatisfy(Scalar.isASCIILetter),
                let fixed = typos.correction(for: word)
            else { return }
            if out == nil { out = [] }
            out! += s[copied..<range.lowerBound]
            out! += fixed
            copied = range.upperBound
            explanation?.replacements.append(.init(from: Scalar.string(word), to: Scalar.string(fixed), source: "typo"))
        }
        guard var result = out else { return nil }
        result += s[copied...]
        return result
    }

    // MARK: - Patterns

    /// Runs of ASCII digits (with one decimal point) as pseudo-hits for `#` and the slot scanner.
    func numberHits(_ s: [UInt32]) -> [TermHit] {
        var out: [TermHit] = []
        numberHits(s, into: &out)
        return out
    }

    func numberHits(_ s: [UInt32], into out: inout [TermHit]) {
        var i = 0
        while i < s.count {
            guard Scalar.isDigit(s[i]) else {
                i += 1
                continue
            }
            var j = i
            while j < s.count, Scalar.isDigit(s[j]) { j += 1 }
            if j + 1 < s.count, s[j] == 0x2E, Scalar.isDigit(s[j + 1]) {
                j += 1
                while j < s.count, Scalar.isDigit(s[j]) { j += 1 }
            }
            out.append(TermHit(term: -1, start: Int32(i), end: Int32(j)))
            i = j
        }
    }

    /// Matches a pattern against the hits; returns where its first element starts.
    func match(_ pattern: CompiledPattern, hits: [TermHit], numbers: [TermHit], text s: [UInt32]) -> Int32? {
        var position: Int32 = 0
        var adjacent = false
        var firstStart: Int32 = -1
        // Negated elements since the last positive one, as ranges of `patternTerms`.
        var negationFrom = -1
        var negationTo = -1
        func onlySpaces(_ from: Int32, _ to: Int32) -> Bool {
            guard from < to else { return from == to }
            for k in Int(from)..<Int(to) where s[k] != Scalar.space { return false }
            return true
        }
        func negationFree(_ from: Int32, _ to: Int32) -> Bool {
            guard negationFrom >= 0 else { return true }
            for e in negationFrom...negationTo where patternElements[e].kind == .negation {
                for hit in hits where hit.start >= from && hit.end <= to && elementTerms.contains(element: e, term: hit.term)
                {
                    return false
                }
            }
            return true
        }
        for e in Int(pattern.elementsStart)..<Int(pattern.elementsEnd) {
            let element = patternElements[e]
            switch element.kind {
            case .gap:
                adjacent = false
            case .negation:
                // A negated element stands for a stretch of text, so it implies a gap.
                if negationFrom < 0 { negationFrom = e }
                negationTo = e
                adjacent = false
            case .terms, .number:
                let isNumber = element.kind == .number
                let pool = isNumber ? numbers : hits
                var found = -1
                // Hits are sorted by start: skip straight to the first one at or after `position`.
                var lo = 0
                var hi = pool.count
                while lo < hi {
                    let mid = (lo + hi) >> 1
                    if pool[mid].start < position { lo = mid + 1 } else { hi = mid }
                }
                for k in lo..<pool.count {
                    let hit = pool[k]
                    if !isNumber && !elementTerms.contains(element: e, term: hit.term) { continue }
                    if adjacent && !onlySpaces(position, hit.start) { continue }
                    if negationFrom >= 0 && !negationFree(position, hit.start) { continue }
                    found = k
                    break
                }
                guard found >= 0 else { return nil }
                negationFrom = -1
                if firstStart < 0 { firstStart = pool[found].start }
                position = pool[found].end
                adjacent = true
            }
        }
        if negationFrom >= 0 && !negationFree(position, Int32(s.count)) { return nil }
        return firstStart
    }

}
