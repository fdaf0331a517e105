import Foundation

/// Similarity of a message to each intent's example utterances: TF-IDF cosine over character
/// unigrams and bigrams (Chinese) and words and word pairs (English), through an inverted index.
struct ExampleIndex: Sendable {
    /// Everything a message's feature needs, in one slot of an open-addressing table, so a
    /// feature costs one cache miss, not one per array (key, id, idf, posting bounds).
    struct Feature {
        /// The feature hash's high half (`tag`): 16-byte slots keep the table in cache, and a
        /// wrong match needs two 32-bit halves to collide at once. 0 marks an empty slot.
        var key: UInt32
        var idf: Float
        var postingStart: Int32
        var postingEnd: Int32
    }

    /// An example that has a feature, with the feature's share of the example's vector.
    struct Posting {
        /// The example's index in the low 20 bits, its intent's above: the per-intent maximum
        /// needs no second lookup.
        var exampleAndIntent: Int32
        var weight: Float

        var example: Int { Int(exampleAndIntent & 0xF_FFFF) }
        static func intent(_ exampleAndIntent: Int32) -> Int { Int(exampleAndIntent >> 20) }
    }

    private let table: [Feature]
    private let shift: UInt64
    private let postings: [Posting]
    private let unknownIDF: Float
    let exampleIntent: [Int32]
    let exampleText: [String]

    /// Features this common (share of examples) carry no signal and are left out of the postings.
    private static let maxDocumentFrequency = 0.03

    init(examples: [(intent: Int32, text: String, scalars: [UInt32])]) {
        var ids: [UInt64: Int32] = [:]
        var keys: [UInt64] = []
        var df: [Int] = []
        var exampleFeatures: [[Int32]] = []
        for example in examples {
            var list: [Int32] = []
            for f in Self.features(of: example.scalars) {
                let id: Int32
                if let known = ids[f] {
                    id = known
                } else {
                    id = Int32(df.count)
                    ids[f] = id
                    keys.append(f)
                    df.append(0)
                }
                df[Int(id)] += 1
                list.append(id)
            }
            exampleFeatures.append(list)
        }
        precondition(examples.count < 1 << 20 && examples.allSatisfy { $0.intent < 1 << 11 },
                     "too many examples or intents for the packed postings")
        let n = Float(max(examples.count, 1))
        let idf = df.map { log(1 + n / Float($0)) }
        let limit = Int(Double(examples.count) * Self.maxDocumentFrequency)
        var lists = [[Posting]](repeating: [], count: df.count)
        for (index, features) in exampleFeatures.enumerated() {
            let norm = sqrt(features.reduce(Float(0)) { $0 + idf[Int($1)] * idf[Int($1)] })
            guard norm > 0 else { continue }
            for f in features where df[Int(f)] <= max(limit, 2) {
                let packed = Int32(index) | examples[index].intent << 20
                lists[Int(f)].append(Posting(exampleAndIntent: packed, weight: idf[Int(f)] / norm))
            }
        }
        var bits: UInt64 = 4
        while 1 << bits < keys.count + keys.count / 2 { bits += 1 }  // at most two-thirds full
        var table = [Feature](repeating: Feature(key: 0, idf: 0, postingStart: 0, postingEnd: 0), count: 1 << bits)
        var postings: [Posting] = []
        for (id, key) in keys.enumerated() {
            var slot = fibonacciSlot(key, shift: 64 - bits)
            while table[slot].key != 0 { slot = (slot + 1) & (table.count - 1) }
            let start = Int32(postings.count)
            postings += lists[id]
            table[slot] = Feature(key: Self.tag(key), idf: idf[id], postingStart: start, postingEnd: Int32(postings.count))
        }
        self.table = table
        self.shift = 64 - bits
        self.postings = postings
        self.unknownIDF = log(1 + n)
        self.exampleIntent = examples.map(\.intent)
        self.exampleText = examples.map(\.text)
    }

    @inline(__always)
    private static func tag(_ key: UInt64) -> UInt32 {
        max(UInt32(truncatingIfNeeded: key >> 32), 1)
    }

    /// The slot of feature `key`, or nil when no example has it.
    @inline(__always)
    private func lookup(_ key: UInt64, _ table: UnsafeBufferPointer<Feature>) -> Int? {
        var slot = fibonacciSlot(key, shift: shift)
        let tag = Self.tag(key)
        while true {
            let k = table[slot].key
            if k == tag { return slot }
            if k == 0 { return nil }
            slot = (slot + 1) & (table.count - 1)
        }
    }

    /// Writes the best cosine similarity per intent into `scratch.similarityBest`, and which
    /// example gave it into `scratch.similarityExample` (both filled with 0 and -1 by the caller).
    func score(_ scalars: [UInt32], scratch: Scratch) {
        guard !exampleIntent.isEmpty else { return }
        if 2 * scalars.count + 1 > Scratch.featureCapacity {
            // Longer than any message after the cut-off: only rewrites can get here.
            let features = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 2 * scalars.count + 1)
            let known = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2 * scalars.count + 1)
            defer {
                features.deallocate()
                known.deallocate()
            }
            score(scalars, scratch: scratch, features: features, knownID: known)
        } else {
            score(scalars, scratch: scratch, features: scratch.features, knownID: scratch.knownID)
        }
    }

    private func score(_ scalars: [UInt32], scratch: Scratch, features: UnsafeMutableBufferPointer<UInt64>,
                       knownID: UnsafeMutableBufferPointer<Int32>)
    {
        let featureCount = Self.features(of: scalars, into: features)
        guard featureCount > 0 else { return }
        let accumulator = scratch.accumulator
        let touched = scratch.touched
        var touchedCount = 0
        table.withUnsafeBufferPointer { table in
            var knownCount = 0
            var norm: Float = 0
            for f in features[0..<featureCount] {
                if let slot = lookup(f, table) {
                    let w = table[slot].idf
                    norm += w * w
                    knownID[knownCount] = Int32(slot)
                    knownCount += 1
                } else {
                    norm += unknownIDF * unknownIDF
                }
            }
            norm = sqrt(norm)
            guard norm > 0, knownCount > 0 else { return }
            // Sparse accumulation: only the examples that share a feature are touched.
            postings.withUnsafeBufferPointer { postings in
                for i in 0..<knownCount {
                    let feature = table[Int(knownID[i])]
                    let q = feature.idf / norm
                    for k in Int(feature.postingStart)..<Int(feature.postingEnd) {
                        let posting = postings[k]
                        let e = posting.example
                        // Branch-free: which examples a message touches is unpredictable.
                        touched[touchedCount] = posting.exampleAndIntent
                        touchedCount &+= accumulator[e] == 0 ? 1 : 0
                        accumulator[e] += q * posting.weight
                    }
                }
            }
        }
        let best = scratch.similarityBest
        let bestExample = scratch.similarityExample
        for t in 0..<touchedCount {
            let e = Int(touched[t] & 0xF_FFFF)
            let intent = Posting.intent(touched[t])
            let a = accumulator[e]
            let better = a > best[intent]
            best[intent] = better ? a : best[intent]
            bestExample[intent] = better ? Int32(e) : bestExample[intent]
            accumulator[e] = 0  // zeroed for the next message
        }
    }

    /// Distinct hashed features of normalized text.
    static func features(of s: [UInt32]) -> [UInt64] {
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 2 * s.count + 1)
        defer { buffer.deallocate() }
        let count = features(of: s, into: buffer)
        return Array(buffer[0..<count])
    }

    /// Writes the distinct hashed features of `s` into `out` (room for `2 * s.count + 1`), in the
    /// order they first occur, and returns how many there are.
    static func features(of s: [UInt32], into out: UnsafeMutableBufferPointer<UInt64>) -> Int {
        var n = 0
        func append(_ f: UInt64) {
            out[n] = f
            n += 1
        }
        var previousHan: UInt32 = 0
        var previousWord: UInt64 = 0
        var i = 0
        while i < s.count {
            let v = s[i]
            if Scalar.isHan(v) {
                // Character pairs carry the meaning; single characters only in one-character runs.
                if previousHan != 0 {
                    append(hash(2, previousHan, v))
                } else if i + 1 >= s.count || !Scalar.isHan(s[i + 1]) {
                    append(hash(1, v))
                }
                previousHan = v
                previousWord = 0
                i += 1
                continue
            }
            previousHan = 0
            if Scalar.isASCIIAlnum(v) {
                var j = i
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                var allDigits = true
                while j < s.count, Scalar.isASCIIAlnum(s[j]) { j += 1 }
                var end = j
                // Light stemming: plans/plan, bills/bill.
                if end - i > 3, s[end - 1] == 0x73, s[end - 2] != 0x73 { end -= 1 }
                for k in i..<end {
                    if !Scalar.isDigit(s[k]) { allDigits = false }
                    h = (h ^ UInt64(s[k])) &* 0x100_0000_01b3
                }
                let word = allDigits ? hash(5, 0) : (h ^ 3)
                append(word)
                if previousWord != 0 { append(hash(4, UInt32(truncatingIfNeeded: previousWord), UInt32(truncatingIfNeeded: word >> 32))) }
                previousWord = word
                i = j
                continue
            }
            if v != Scalar.space { previousWord = 0 }
            i += 1
        }
        // Distinct, in order of first appearance, through a small open-addressing set (sorting
        // a few dozen features cost more than the rest of this function).
        var bits = 4
        while 1 << bits < 2 * n { bits += 1 }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 1 << bits) { seen in
            seen.initialize(repeating: 0)
            let mask = (1 << bits) - 1
            var kept = 0
            var sawZero = false  // 0 marks an empty slot, so the (unlikely) feature 0 is tracked apart
            for k in 0..<n {
                let f = out[k]
                if f == 0 {
                    if sawZero { continue }
                    sawZero = true
                } else {
                    var slot = Int(truncatingIfNeeded: f >> 7) & mask
                    while seen[slot] != 0 && seen[slot] != f { slot = (slot + 1) & mask }
                    if seen[slot] == f { continue }
                    seen[slot] = f
                }
                out[kept] = f
                kept += 1
            }
            return kept
        }
    }

    @inline(__always)
    private static func hash(_ kind: UInt64, _ a: UInt32, _ b: UInt32 = 0) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ kind
        h = (h ^ UInt64(a)) &* 0x100_0000_01b3
        h = (h ^ UInt64(b)) &* 0x100_0000_01b3
        h ^= h >> 29
        return h &* 0xbf58_476d_1ce4_e5b9
    }
}
