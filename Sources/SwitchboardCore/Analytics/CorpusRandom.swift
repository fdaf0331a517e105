/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast generator whose whole state is one
/// `UInt64`, so a seed fixes every choice the corpus generator makes.
///
/// Deliberately not a `RandomNumberGenerator`: the standard library's `random(in:using:)` and
/// `shuffled(using:)` may change how they consume numbers between releases, and the corpus must
/// stay byte-identical for a seed. Every helper here is plain integer or IEEE arithmetic.
struct CorpusRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator of its own for one part of the work (a session, a file), so what one part draws
    /// never shifts another.
    mutating func split() -> CorpusRandom { CorpusRandom(seed: next()) }

    /// A number in `0..<n` (multiply-shift on 32 bits: the bias is far below anything a corpus shows).
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0 && n <= Int(UInt32.max))
        return Int(((next() >> 32) &* UInt64(n)) >> 32)
    }

    mutating func between(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// A number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// One of the items, each as likely as its weight.
    mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var n = below(total)
        for (item, weight) in items {
            if n < weight { return item }
            n -= weight
        }
        return items[items.count - 1].0
    }
}
