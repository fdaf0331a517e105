import Foundation

/// Similarity of a message to each intent's example utterances: TF-IDF cosine over character
/// unigrams and bigrams (Chinese) and words and word pairs (English), through an inverted index.
struct ExampleIndex: Sendable {
    private let featureID: IntegerTable
    private let postingStart: [Int32]
    private let postingExample: [Int32]
    private let postingWeight: [Float]
    private let idf: [Float]
    private let unknownIDF: Float
    let exampleIntent: [Int32]
    let exampleText: [String]

    /// Features this common (share of examples) carry no signal and are left out of the postings.
    private static let maxDocumentFrequency = 0.03

    init(examples: [(intent: Int32, text: String, scalars: [UInt32])]) {
        var ids: [UInt64: Int32] = [:]
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
                    df.append(0)
                }
                df[Int(id)] += 1
                list.append(id)
            }
            exampleFeatures.append(list)
        }
        let n = Float(max(examples.count, 1))
        let idf = df.map { log(1 + n / Float($0)) }
        let limit = Int(Double(examples.count) * Self.maxDocumentFrequency)
        var postings = [[(Int32, Float)]](repeating: [], count: df.count)
        for (index, features) in exampleFeatures.enumerated() {
            let norm = sqrt(features.reduce(Float(0)) { $0 + idf[Int($1)] * idf[Int($1)] })
            guard norm > 0 else { continue }
            for f in features where df[Int(f)] <= max(limit, 2) {
                postings[Int(f)].append((Int32(index), idf[Int(f)] / norm))
            }
        }
        var start: [Int32] = [0]
        var example: [Int32] = []
        var weight: [Float] = []
        for list in postings {
            for (e, w) in list {
                example.append(e)
                weight.append(w)
            }
            start.append(Int32(example.count))
        }
        self.featureID = IntegerTable(ids)
        self.postingStart = start
        self.postingExample = example
        self.postingWeight = weight
        self.idf = idf
        self.unknownIDF = log(1 + n)
        self.exampleIntent = examples.map(\.intent)
        self.exampleText = examples.map(\.text)
    }

    /// Writes the best cosine similarity per intent into `best`, and which example gave it into
    /// `bestExample` (both sized to the intent count, filled with 0 and -1 by the caller).
    ///
    /// Scratch memory is raw: an array allocation costs a generic-metadata lookup in the runtime,
    /// which on this per-message path cost more than the arithmetic.
    func score(_ scalars: [UInt32], best: UnsafeMutableBufferPointer<Float>, bestExample: UnsafeMutableBufferPointer<Int32>) {
        let features = Self.features(of: scalars)
        guard !features.isEmpty, !exampleIntent.isEmpty else { return }
        let knownID = UnsafeMutableBufferPointer<Int32>.allocate(capacity: features.count)
        defer { knownID.deallocate() }
        var knownCount = 0
        var norm: Float = 0
        for f in features {
            if let id = featureID[f] {
                let w = idf[Int(id)]
                norm += w * w
                knownID[knownCount] = id
                knownCount += 1
            } else {
                norm += unknownIDF * unknownIDF
            }
        }
        norm = sqrt(norm)
        guard norm > 0, knownCount > 0 else { return }
        // Sparse accumulation: only the examples that share a feature are touched.
        let accumulator = UnsafeMutableBufferPointer<Float>.allocate(capacity: exampleIntent.count)
        accumulator.initialize(repeating: 0)
        let touched = UnsafeMutableBufferPointer<Int32>.allocate(capacity: exampleIntent.count)
        defer {
            accumulator.deallocate()
            touched.deallocate()
        }
        var touchedCount = 0
        postingExample.withUnsafeBufferPointer { examples in
            postingWeight.withUnsafeBufferPointer { weights in
                for i in 0..<knownCount {
                    let id = Int(knownID[i])
                    let q = idf[id] / norm
                    for k in Int(postingStart[id])..<Int(postingStart[id + 1]) {
                        let e = Int(examples[k])
                        if accumulator[e] == 0 {
                            touched[touchedCount] = Int32(e)
                            touchedCount += 1
                        }
                        accumulator[e] += q * weights[k]
                    }
                }
            }
        }
        exampleIntent.withUnsafeBufferPointer { intents in
            for t in 0..<touchedCount {
                let e = Int(touched[t])
                let intent = Int(intents[e])
                if accumulator[e] > best[intent] {
                    best[intent] = accumulator[e]
                    bestExample[intent] = Int32(e)
                }
            }
        }
    }

    /// Distinct hashed features of normalized text.
    static func features(of s: [UInt32]) -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(s.count * 2)
        var previousHan: UInt32 = 0
        var previousWord: UInt64 = 0
        var i = 0
        while i < s.count {
            let v = s[i]
            if Scalar.isHan(v) {
                // Character pairs carry the meaning; single characters only in one-character runs.
                if previousHan != 0 {
                    out.append(hash(2, previousHan, v))
                } else if i + 1 >= s.count || !Scalar.isHan(s[i + 1]) {
                    out.append(hash(1, v))
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
                out.append(word)
                if previousWord != 0 { out.append(hash(4, UInt32(truncatingIfNeeded: previousWord), UInt32(truncatingIfNeeded: word >> 32))) }
                previousWord = word
                i = j
                continue
            }
            if v != Scalar.space { previousWord = 0 }
            i += 1
        }
        out.sort()
        // Deduplicate in place: one array per message, not two.
        var kept = 0
        for k in 0..<out.count where kept == 0 || out[kept - 1] != out[k] {
            out[kept] = out[k]
            kept += 1
        }
        out.removeLast(out.count - kept)
        return out
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
