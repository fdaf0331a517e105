/// One occurrence of a term in a message: scalar offsets `[start, end)` into the normalized text.
public struct TermHit: Sendable, Equatable {
    public var term: Int32
    public var start: Int32
    public var end: Int32
}

/// An Aho–Corasick automaton over Unicode scalars: every phrase, concept term, cue word, slot word
/// and lexicon entry of the rule set, found in one left-to-right pass.
///
/// Scalars are first mapped to a dense alphabet (a table over the BMP), so the root's transitions
/// are a direct array and the rest are short sorted edge lists.
struct Automaton: Sendable {
    private let symbolOf: [UInt16]
    private let wideSymbols: [UInt32: UInt16]
    private let rootNext: [Int32]
    private let edgeStart: [Int32]
    private let edgeSymbol: [UInt16]
    private let edgeTarget: [Int32]
    private let fail: [Int32]
    private let outputStart: [Int32]
    private let outputs: [Int32]
    private let termLength: [Int32]
    /// Terms that begin or end with an ASCII letter or digit match whole words only.
    private let leftBoundary: [Bool]
    private let rightBoundary: [Bool]

    /// Builds the automaton; term `i` of `terms` is reported as `TermHit.term == i`.
    init(terms: [[UInt32]]) {
        var symbolOf = [UInt16](repeating: 0, count: 0x10000)
        var wide: [UInt32: UInt16] = [:]
        var alphabet = 0
        func symbol(_ v: UInt32) -> Int {
            if v < 0x10000 {
                if symbolOf[Int(v)] == 0 {
                    alphabet += 1
                    symbolOf[Int(v)] = UInt16(alphabet)
                }
                return Int(symbolOf[Int(v)])
            }
            if let s = wide[v] { return Int(s) }
            alphabet += 1
            wide[v] = UInt16(alphabet)
            return alphabet
        }
        // Trie with dictionary edges while building.
        var children: [[Int: Int32]] = [[:]]
        var ends: [[Int32]] = [[]]
        for (index, term) in terms.enumerated() where !term.isEmpty {
            var node = 0
            for v in term {
                let s = symbol(v)
                if let next = children[node][s] {
                    node = Int(next)
                } else {
                    children.append([:])
                    ends.append([])
                    children[node][s] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            ends[node].append(Int32(index))
        }
        let nodeCount = children.count
        var fail = [Int32](repeating: 0, count: nodeCount)
        var outputLists = ends
        // Breadth-first: failure links, and each node's outputs merged with its failure node's.
        var queue: [Int] = []
        for (_, child) in children[0] { queue.append(Int(child)) }
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for (s, child) in children[node] {
                var f = Int(fail[node])
                while f != 0, children[f][s] == nil { f = Int(fail[f]) }
                let target = children[f][s].map(Int.init) ?? 0
                fail[Int(child)] = Int32(target == Int(child) ? 0 : target)
                outputLists[Int(child)] += outputLists[Int(fail[Int(child)])]
                queue.append(Int(child))
            }
        }
        var rootNext = [Int32](repeating: 0, count: alphabet + 1)
        for (s, child) in children[0] { rootNext[s] = child }
        var edgeStart = [Int32](repeating: 0, count: nodeCount + 1)
        var edgeSymbol: [UInt16] = []
        var edgeTarget: [Int32] = []
        var outputStart = [Int32](repeating: 0, count: nodeCount + 1)
        var outputs: [Int32] = []
        for node in 0..<nodeCount {
            edgeStart[node] = Int32(edgeSymbol.count)
            for (s, child) in children[node].sorted(by: { $0.key < $1.key }) {
                edgeSymbol.append(UInt16(s))
                edgeTarget.append(child)
            }
            outputStart[node] = Int32(outputs.count)
            outputs += outputLists[node]
        }
        edgeStart[nodeCount] = Int32(edgeSymbol.count)
        outputStart[nodeCount] = Int32(outputs.count)

        self.symbolOf = symbolOf
        self.wideSymbols = wide
        self.rootNext = rootNext
        self.edgeStart = edgeStart
        self.edgeSymbol = edgeSymbol
        self.edgeTarget = edgeTarget
        self.fail = fail
        self.outputStart = outputStart
        self.outputs = outputs
        self.termLength = terms.map { Int32($0.count) }
        self.leftBoundary = terms.map { ($0.first.map(Scalar.isASCIIAlnum)) ?? false }
        self.rightBoundary = terms.map { ($0.last.map(Scalar.isASCIIAlnum)) ?? false }
    }

    @inline(__always)
    private func next(_ node: Int32, _ symbol: Int) -> Int32? {
        if node == 0 {
            let t = rootNext[symbol]
            return t == 0 ? nil : t
        }
        var lo = Int(edgeStart[Int(node)])
        var hi = Int(edgeStart[Int(node) + 1])
        let s = UInt16(symbol)
        while lo < hi {
            let mid = (lo + hi) >> 1
            let m = edgeSymbol[mid]
            if m == s { return edgeTarget[mid] }
            if m < s { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// Appends every occurrence of every term in `text` (whole-word terms only at word boundaries).
    func scan(_ text: [UInt32], into hits: inout [TermHit]) {
        var state: Int32 = 0
        let count = text.count
        for i in 0..<count {
            let v = text[i]
            let symbol: Int
            if v < 0x10000 {
                symbol = Int(symbolOf[Int(v)])
            } else {
                symbol = Int(wideSymbols[v] ?? 0)
            }
            if symbol == 0 {
                state = 0
                continue
            }
            while true {
                if let t = next(state, symbol) {
                    state = t
                    break
                }
                if state == 0 { break }
                state = fail[Int(state)]
            }
            if state == 0 { continue }
            let lo = Int(outputStart[Int(state)])
            let hi = Int(outputStart[Int(state) + 1])
            if lo == hi { continue }
            let end = i + 1
            for k in lo..<hi {
                let term = Int(outputs[k])
                let start = end - Int(termLength[term])
                if leftBoundary[term], start > 0, Scalar.isASCIIAlnum(text[start - 1]) { continue }
                if rightBoundary[term], end < count, Scalar.isASCIIAlnum(text[end]) { continue }
                hits.append(TermHit(term: Int32(term), start: Int32(start), end: Int32(end)))
            }
        }
    }
}
