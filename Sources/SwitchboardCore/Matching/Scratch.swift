/// Classifies messages one after another, reusing its working memory.
///
/// `RuleSet.classify` is the simple entry point; a long-running reader (a chat loop, a replay, a
/// benchmark) keeps one `Classifier` per thread instead, so a message costs no allocation for the
/// per-intent tallies, the example accumulator or the pattern gate. Not for sharing across threads.
public final class Classifier {
    public let ruleSet: RuleSet
    let scratch: Scratch

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        self.scratch = Scratch(ruleSet)
    }

    /// Results kept for messages seen before, up to this many (0, the default: none). A result
    /// depends only on the text and the context, and a replayed log says 查话费 thousands of
    /// times; a live chat has no use for it.
    public var rememberLimit = 0
    private var remembered: [RememberedKey: Classification] = [:]
    public private(set) var rememberedHits = 0

    /// Hashed over the bytes, eight at a time: String's own hashing normalises Unicode first,
    /// which for Chinese text cost half of what a remembered result saves, and FNV-1a's byte at a
    /// time was most of the rest. (Kept in memory only, so the hash need not be stable.)
    private struct RememberedKey: Hashable {
        var text: String
        var expectsPIN: Bool
        var hash: UInt64

        init(text: String, expectsPIN: Bool) {
            self.text = text
            self.expectsPIN = expectsPIN
            var text = text
            hash = text.withUTF8 { Self.wordHash($0, seed: expectsPIN ? 0x5851_F42D_4C95_7F2D : 0) }
        }

        static func wordHash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
            var h = seed ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
            guard let base = bytes.baseAddress else { return h }
            var i = 0
            while i + 8 <= bytes.count {
                h = (h ^ UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            return h ^ (h >> 29)
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (a: RememberedKey, b: RememberedKey) -> Bool {
            a.hash == b.hash && a.expectsPIN == b.expectsPIN && a.text.hasSameUTF8(as: b.text)
        }
    }

    /// The same result as `RuleSet.classify`.
    public func classify(_ text: String, context: ClassificationContext = .init(), explain: Bool = false) -> Classification {
        guard rememberLimit > 0, !explain else { return ruleSet.classify(text, context: context, explain: explain, scratch: scratch) }
        let key = RememberedKey(text: text, expectsPIN: context.expectsPIN)
        if let known = remembered[key] {
            rememberedHits += 1
            return known
        }
        let result = ruleSet.classify(text, context: context, explain: false, scratch: scratch)
        if remembered.count >= rememberLimit { remembered.removeAll(keepingCapacity: true) }
        remembered[key] = result
        return result
    }
}

/// Working memory for one message at a time, sized to a rule set.
///
/// Raw memory on purpose: every array allocation costs a malloc and a generic-metadata lookup in
/// the runtime, which on this path cost more than the arithmetic. The buffers marked *zeroed*
/// are all zero between messages; whoever writes them resets exactly what it wrote.
final class Scratch {
    let tally: UnsafeMutableBufferPointer<IntentTally>
    let similarityBest: UnsafeMutableBufferPointer<Float>
    let similarityExample: UnsafeMutableBufferPointer<Int32>
    let top: UnsafeMutableBufferPointer<RankedIntent>
    /// Per example similarity (zeroed), and which examples were touched.
    let accumulator: UnsafeMutableBufferPointer<Float>
    let touched: UnsafeMutableBufferPointer<Int32>
    /// Message features, and which of them the example index knows.
    let features: UnsafeMutableBufferPointer<UInt64>
    let knownID: UnsafeMutableBufferPointer<Int32>
    /// Pattern gate: which elements are satisfied (zeroed), how many per pattern (zeroed), and
    /// which elements were set, for the reset.
    let satisfied: UnsafeMutableBufferPointer<Bool>
    let satisfiedCount: UnsafeMutableBufferPointer<UInt8>
    let satisfiedList: UnsafeMutableBufferPointer<Int32>
    let candidates: UnsafeMutableBufferPointer<Int32>

    /// Features a message can have before `ExampleIndex.score` falls back to a one-off buffer.
    static let featureCapacity = 2 * RuleSet.maximumScalars + 64

    init(_ ruleSet: RuleSet) {
        func zeroed<T>(_ count: Int, _ value: T) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
            buffer.initialize(repeating: value)
            return buffer
        }
        // Write-before-read buffers need no initial value (all hold trivial types).
        func raw<T>(_ count: Int, _: T.Type) -> UnsafeMutableBufferPointer<T> {
            UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
        }
        let intents = ruleSet.intents.count
        tally = zeroed(intents, IntentTally())
        similarityBest = zeroed(intents, 0)
        similarityExample = zeroed(intents, -1)
        top = raw(4, RankedIntent.self)
        accumulator = zeroed(ruleSet.exampleCount, 0)
        touched = raw(ruleSet.exampleCount + 1, Int32.self)  // one spare: written before counted
        features = raw(Self.featureCapacity, UInt64.self)
        knownID = raw(Self.featureCapacity, Int32.self)
        let elements = ruleSet.patternElements.count
        let patterns = max(ruleSet.patterns.count, ruleSet.agePatterns.count)
        satisfied = zeroed(elements, false)
        satisfiedCount = zeroed(patterns, 0)
        satisfiedList = raw(elements, Int32.self)
        candidates = raw(2 * patterns, Int32.self)
    }

    deinit {
        tally.deallocate()
        similarityBest.deallocate()
        similarityExample.deallocate()
        top.deallocate()
        accumulator.deallocate()
        touched.deallocate()
        features.deallocate()
        knownID.deallocate()
        satisfied.deallocate()
        satisfiedCount.deallocate()
        satisfiedList.deallocate()
        candidates.deallocate()
    }
}
