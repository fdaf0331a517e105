import Foundation

/// A group of similar customer texts (fallbacks or complaints), so an analyst can fix a class of
/// problems instead of reading one message at a time.
public struct TextCluster: Sendable, Equatable {
    /// Occurrences of all its texts.
    public var size: Int
    /// Distinct texts in it.
    public var distinct: Int
    /// Its most frequent text (ties: the smallest by `<`); every member was compared against it.
    public var label: String
    /// Its texts, most frequent first (ties by text), up to the limit asked for.
    public var examples: [Example]

    /// One text of a cluster and how often it was seen.
    public struct Example: Sendable, Equatable {
        public var text: String
        public var count: Int
    }

    /// `{"size","distinct","label","examples":[{"text","count"}]}`, the replay report's shape.
    public var json: JSONValue {
        .object([
            ("size", .int(size)), ("distinct", .int(distinct)), ("label", .string(label)),
            ("examples", .array(examples.map { .object([("text", .string($0.text)), ("count", .int($0.count))]) })),
        ])
    }
}

/// Collects texts and clusters them by n-gram similarity.
///
/// Similarity is the Jaccard index of two texts' feature sets (see `TextFeatures`). Jaccard rather
/// than cosine because it punishes length differences more, so a one-word fallback ("hi") cannot
/// absorb every longer text that contains it, and because a Jaccard threshold bounds the overlap
/// two sets need, which makes the prefix-filtered index below exact rather than approximate.
///
/// Clustering is greedy leader clustering: distinct texts in order of frequency (descending, ties
/// by text) join the most similar cluster whose *leader* scores at least `threshold`, or start one.
/// The leader, not a centroid, because a centroid drifts as members join and lets clusters chain
/// ("a" ≈ "a b" ≈ "b c" ≈ "c"); with a leader, every member resembles the label the analyst reads,
/// which is the leader itself (the most frequent text comes first).
///
/// Memory is bounded by keeping at most `maxDistinct` distinct texts: those with the smallest
/// stable hash (a bottom-k sample). Unlike keeping the first ones seen, this choice depends only on
/// which texts were added, so add order and merge order never change the result, even after an
/// overflow. The cost: past the bound, a frequent text can be left out like a rare one; `overflow`
/// says how many occurrences were, so a report can show it.
public struct TextClusterer: Sendable {
    /// The lowest Jaccard similarity to a cluster's leader for a text to join it, in `0 < t <= 1`.
    public let threshold: Double
    /// The most distinct texts held at once.
    public let maxDistinct: Int

    /// Held texts and their exact counts (keyed by the text with its hash: a string's own hash
    /// normalises Chinese text again on every lookup; these texts are composed already).
    private var counts: [Held: Int] = [:]
    /// The held texts as a max-heap by (hash, text): the root is the first to give way.
    private var heap: [Held] = []
    /// All occurrences added, held or not.
    public private(set) var total = 0

    /// Occurrences not kept because more than `maxDistinct` distinct texts were seen.
    public var overflow: Int { total - counts.values.reduce(0, +) }

    /// A collector clustering at `threshold` (Jaccard, `0 < threshold <= 1`) that holds at most
    /// `maxDistinct` distinct texts.
    public init(threshold: Double = 0.5, maxDistinct: Int = 50_000) {
        precondition(threshold > 0 && threshold <= 1, "threshold must be in 0<t<=1, got \(threshold)")
        precondition(maxDistinct > 0, "maxDistinct must be positive, got \(maxDistinct)")
        self.threshold = threshold
        self.maxDistinct = maxDistinct
    }

    /// Counts `text` (trimmed) `count` times; empty texts and non-positive counts are ignored.
    public mutating func add(_ text: String, count: Int = 1) {
        let text = Self.normalized(text)
        guard !text.isEmpty, count > 0 else { return }
        hold(Held(text), count: count)
    }

    /// Trimmed, in composed form: Swift's `==` ignores the difference but the hash and the
    /// report's bytes would not. Most texts are already composed (ASCII, Han, CJK and full-width
    /// punctuation alone cannot change), and are only trimmed.
    static func normalized(_ text: String) -> String {
        let stable = text.unicodeScalars.allSatisfy { u in
            let v = u.value
            return v < 0x300 || (0x4E00...0x9FFF).contains(v) || (0x3000...0x303F).contains(v) || (0xFF00...0xFFEF).contains(v)
                || (0x2000...0x206F).contains(v)
        }
        guard stable else { return text.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping }
        let space: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last, space(first) || space(last) else { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Adds everything `other` collected, so per-thread collectors can be combined in any order
    /// (given the same `maxDistinct`: a smaller one would have dropped texts this one keeps).
    public mutating func merge(_ other: TextClusterer) {
        // Texts `other` left out would have been left out here too: their hashes are above the
        // bottom-k of everything seen, which only shrinks.
        total += other.overflow
        for (held, count) in other.counts { hold(held, count: count) }
    }

    private mutating func hold(_ held: Held, count: Int) {
        total += count
        if let known = counts.index(forKey: held) {
            counts.values[known] += count
            return
        }
        if heap.count == maxDistinct {
            // Full: the new text enters only by displacing the largest hash held.
            guard held < heap[0] else { return }
            counts[heap[0]] = nil
            heap[0] = held
            siftDown(0)
        } else {
            heap.append(held)
            siftUp(heap.count - 1)
        }
        counts[held] = count
    }

    /// The largest clusters (by size, ties by label), each with up to `examples` texts.
    public func clusters(limit: Int = 20, examples: Int = 5) -> [TextCluster] {
        let texts = counts.map { (key: $0.key.text, value: $0.value) }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let members = TextClusterer.leaderClusters(texts.map { TextFeatures.of($0.key) }, threshold: threshold)
        let clusters = members.map { indices in
            TextCluster(size: indices.reduce(0) { $0 + texts[$1].value }, distinct: indices.count,
                        label: texts[indices[0]].key,
                        examples: indices.prefix(max(0, examples)).map {
                            .init(text: texts[$0].key, count: texts[$0].value)
                        })
        }
        let largestFirst = clusters.sorted { $0.size != $1.size ? $0.size > $1.size : $0.label < $1.label }
        return Array(largestFirst.prefix(max(0, limit)))
    }

    /// Leader clustering of feature sets given in processing order; returns each cluster's member
    /// indices, leader first.
    ///
    /// Features are renumbered rarest first, and a leader is indexed only under its first
    /// `n - ⌈t·n⌉ + 1` features (prefix filtering): two sets with Jaccard ≥ t share at least
    /// ⌈t·max(n, m)⌉ features, so their prefixes must meet. Rare features have short posting lists,
    /// so a text meets a handful of leaders, not all of them; and since both sets are in the same
    /// order, nothing is shared before the first meeting, which bounds the score before it is
    /// computed (positional filtering).
    static func leaderClusters(_ sets: [[UInt64]], threshold: Double) -> [[Int]] {
        let ranked = rankRarestFirst(sets)
        var leaders: [[Int32]] = []
        var sizes: [Int32] = []  // leaders' feature counts, apart: the hot loop reads only these
        var members: [[Int]] = []
        var postings = [[Posting]](repeating: [], count: ranked.featureCount)
        var featureless: Int?  // texts with no features (emoji, punctuation) are alike
        var seen = [Int](repeating: -1, count: sets.count)  // the last text each cluster was met by
        for (n, features) in ranked.sets.enumerated() {
            guard !features.isEmpty else {
                if let c = featureless { members[c].append(n) } else {
                    featureless = members.count
                    leaders.append([])
                    sizes.append(0)
                    members.append([n])
                }
                continue
            }
            var best = -1
            var bestScore = threshold
            // The better the best match so far, the shorter the prefix a better one must meet it in.
            var i = 0
            while i < prefixLength(features.count, bestScore) {
                defer { i += 1 }
                for posting in postings[Int(features[i])] {
                    let c = Int(posting.cluster)
                    guard seen[c] != n else { continue }
                    seen[c] = n
                    let size = Int(sizes[c])
                    // Nothing is shared before this first meeting: at most `most` features are.
                    // (The tolerance keeps a candidate that could tie exactly.)
                    let most = min(features.count - i, size - Int(posting.position))
                    guard Double(most) + 1e-9 >= bestScore * Double(features.count + size - most),
                        let shared = overlap(features, from: i, leaders[c], from: Int(posting.position),
                                             needed: overlapNeeded(features.count, size, bestScore))
                    else { continue }
                    let score = Double(shared) / Double(features.count + size - shared)
                    // Ties go to the older cluster: its leader is the more frequent text.
                    if score > bestScore || (score == bestScore && (best < 0 || c < best)) {
                        best = c
                        bestScore = score
                    }
                }
            }
            if best >= 0 {
                members[best].append(n)
            } else {
                let c = Int32(members.count)
                for (j, rank) in features.prefix(prefixLength(features.count, threshold)).enumerated() {
                    postings[Int(rank)].append(Posting(cluster: c, position: Int32(j)))
                }
                leaders.append(features)
                sizes.append(Int32(features.count))
                members.append([n])
            }
        }
        return members
    }

    /// A leader indexed under one of its features, and where that feature sits in its set.
    struct Posting {
        var cluster: Int32
        var position: Int32
    }

    /// Features that must be indexed (or probed) so that any set scoring ≥ `t` shares one.
    static func prefixLength(_ n: Int, _ t: Double) -> Int {
        // The tolerance keeps ⌈0.5·4⌉ at 2 when 0.5·4 comes out as 2.0000000001.
        n - Int((t * Double(n) - 1e-9).rounded(.up)) + 1
    }

    /// Each set's features as ascending ranks, rarest feature (fewest texts) first, ties by value.
    static func rankRarestFirst(_ sets: [[UInt64]]) -> (sets: [[Int32]], featureCount: Int) {
        var frequency: [UInt64: Int] = [:]
        for set in sets { for f in set { frequency[f, default: 0] += 1 } }
        let order = frequency.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
        var rank: [UInt64: Int32] = [:]
        rank.reserveCapacity(order.count)
        for (r, entry) in order.enumerated() { rank[entry.key] = Int32(r) }
        return (sets.map { $0.map { rank[$0]! }.sorted() }, order.count)
    }

    /// The fewest shared features for sets of `a` and `b` features to reach Jaccard `t`:
    /// o / (a + b - o) ≥ t ⇔ o ≥ t·(a + b) / (1 + t).
    static func overlapNeeded(_ a: Int, _ b: Int, _ t: Double) -> Int {
        Int((t * Double(a + b) / (1 + t) - 1e-9).rounded(.up))
    }

    /// The features two ascending, duplicate-free arrays share, given that `a[i] == b[j]` is their
    /// first shared one; nil as soon as fewer than `needed` remain possible, since most candidates
    /// fail and should fail fast.
    static func overlap(_ a: [Int32], from i: Int, _ b: [Int32], from j: Int, needed: Int) -> Int? {
        var i = i + 1, j = j + 1, shared = 1
        while i < a.count && j < b.count {
            guard shared + min(a.count - i, b.count - j) >= needed else { return nil }
            if a[i] == b[j] {
                shared += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return shared >= needed ? shared : nil
    }

    // MARK: The bounded sample

    /// A held text with the stable hash that decides whether it stays.
    private struct Held: Sendable, Comparable, Hashable {
        var hash: UInt64
        var text: String
        init(_ text: String) {
            self.text = text
            // Stable across runs and processes, unlike `Hasher`.
            hash = FNV1a.hash(text)
        }
        static func < (a: Held, b: Held) -> Bool { a.hash != b.hash ? a.hash < b.hash : a.text < b.text }
        // By bytes: held texts are composed (`normalized`), so equal texts have equal bytes.
        static func == (a: Held, b: Held) -> Bool { a.hash == b.hash && a.text.hasSameUTF8(as: b.text) }
        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent] < heap[child] else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            var largest = parent
            let left = 2 * parent + 1, right = left + 1
            if left < heap.count && heap[largest] < heap[left] { largest = left }
            if right < heap.count && heap[largest] < heap[right] { largest = right }
            guard largest != parent else { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }
}

/// The n-gram features a text is compared by, as 64-bit hashes (a collision among a million
/// features has odds of about 1 in 10^7, and would only nudge one similarity).
///
/// The text is normalised first: lowercase, full-width forms to ASCII, each run of digits to one
/// `#` (so "扣了10块" and "扣了25块" are the same text), punctuation, symbols and emoji to
/// separators. Then, within each run between separators:
/// - Chinese, Japanese and Korean characters give unigrams, and every adjacent pair that includes
///   one gives a bigram ("了#", "#块"), since these scripts put no spaces between words;
/// - other letters form words, each giving itself and its character trigrams, so "membership"
///   still resembles "memberships".
/// Mixed text gets both.
enum TextFeatures {
    private enum Kind: UInt8 { case unigram = 1, bigram, word, trigram }

    private enum Class { case cjk, letter, digit, separator }

    static func of(_ text: String) -> [UInt64] {
        var features: [UInt64] = []
        var run: [(Unicode.Scalar, Class)] = []
        func flushRun() {
            addFeatures(of: run, to: &features)
            run.removeAll(keepingCapacity: true)
        }
        let scalars = text.lowercased().unicodeScalars.map(halfWidth)
        let classes = scalars.map(classify)
        var inNumber = false
        for (i, (s, c)) in zip(scalars, classes).enumerated() {
            switch c {
            case .digit:
                if !inNumber { run.append(("#", .letter)) }
                inNumber = true
            case .separator:
                // "10.5" and "1,000" are one number, not two.
                if inNumber, s == "." || s == ",", i + 1 < classes.count, classes[i + 1] == .digit { continue }
                inNumber = false
                flushRun()
            case .cjk, .letter:
                inNumber = false
                run.append((s, c))
            }
        }
        flushRun()
        features.sort()
        var unique = 0  // "天天" gives 天 twice: a set, not a bag
        for f in features where unique == 0 || features[unique - 1] != f {
            features[unique] = f
            unique += 1
        }
        return Array(features.prefix(unique))
    }

    private static func addFeatures(of run: [(Unicode.Scalar, Class)], to features: inout [UInt64]) {
        var wordStart: Int?
        for i in 0...run.count {
            let c = i < run.count ? run[i].1 : .separator
            if c == .letter {
                if wordStart == nil { wordStart = i }
                continue
            }
            if let start = wordStart {
                let word = run[start..<i].map(\.0)
                features.append(hash(.word, word))
                if word.count >= 3 {
                    for j in 0...(word.count - 3) { features.append(hash(.trigram, word[j..<(j + 3)])) }
                }
                wordStart = nil
            }
            guard c == .cjk else { continue }
            features.append(hash(.unigram, [run[i].0]))
            if i > 0 { features.append(hash(.bigram, [run[i - 1].0, run[i].0])) }
            if i + 1 < run.count && run[i + 1].1 == .letter { features.append(hash(.bigram, [run[i].0, run[i + 1].0])) }
        }
    }

    private static func classify(_ s: Unicode.Scalar) -> Class {
        let v = s.value
        if v < 0x80 {  // most text: no Unicode property lookup
            if Scalar.isDigit(v) { return .digit }
            return Scalar.isASCIILetter(v) ? .letter : .separator
        }
        if Scalar.isHan(v) || (0x3040...0x30FF).contains(v) || (0xAC00...0xD7AF).contains(v)
            || (0x1100...0x11FF).contains(v) || (0x3130...0x318F).contains(v) {
            return .cjk
        }
        if s.properties.generalCategory == .decimalNumber { return .digit }
        return s.properties.isAlphabetic ? .letter : .separator
    }

    /// Full-width ASCII forms and the ideographic space to their ASCII counterparts.
    private static func halfWidth(_ s: Unicode.Scalar) -> Unicode.Scalar {
        switch s.value {
        case 0xFF01...0xFF5E: Unicode.Scalar(s.value - 0xFEE0)!
        case 0x3000: " "
        default: s
        }
    }

    private static func hash(_ kind: Kind, _ scalars: some Collection<Unicode.Scalar>) -> UInt64 {
        var h = FNV1a()
        func mix(_ v: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) { h.add(UInt8((v >> UInt32(shift)) & 0xFF)) }
        }
        mix(UInt32(kind.rawValue))
        for s in scalars { mix(s.value) }
        return h.value
    }
}
