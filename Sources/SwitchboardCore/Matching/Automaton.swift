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
/// are a direct array; every other transition is one probe of an open-addressing table keyed by
/// (node, symbol), packed with its target into one word. (Sorted edge lists with a binary search
/// cost more: the search's branches are unpredictable on real text.)
struct Automaton: Sendable {
    private let symbolOf: [UInt16]
    private let wideSymbols: [UInt32: UInt16]
    private let rootNext: [Int32]
    /// `node << 40 | symbol << 24 | target`; 0 is an empty slot (the root has no entries).
    private let transitions: [UInt64]
    private let transitionShift: UInt64
    /// Per node, in one record so a step costs one cache miss: the failure link, where its
    /// outputs start (they end where the next node's start), and a filter of its edges' symbols
    /// (bit `symbol % 64`), so most failed steps skip the transition table.
    private let nodes: [Node]
    /// Per output, the term with what the boundary check needs (no per-term lookups).
    private let outputs: [Output]

    struct Node {
        var edgeFilter: UInt32
        var fail: Int32
        var outputStart: Int32
    }

    /// 8 bytes: the automaton's tables together are about the size of the L2 cache, and every
    /// byte saved is a miss fewer on random text.
    struct Output {
        var term: Int32
        var length: UInt16
        /// Terms that begin or end with an ASCII letter or digit match whole words only.
        var leftBoundary: Bool
        var rightBoundary: Bool
    }

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
        precondition(nodeCount < 1 << 24 && alphabet < 1 << 16 && terms.allSatisfy { $0.count < 1 << 16 },
                     "rule set too large for the automaton's packed tables")
        let edgeCount = children.dropFirst().reduce(0) { $0 + $1.count }
        var bits: UInt64 = 4
        while 1 << bits < edgeCount + edgeCount / 4 { bits += 1 }  // up to 80 % full: the edge filter spares most misses
        var transitions = [UInt64](repeating: 0, count: 1 << bits)
        let mask = (1 << Int(bits)) - 1
        var nodes = [Node](repeating: Node(edgeFilter: 0, fail: 0, outputStart: 0), count: nodeCount + 1)
        var outputs: [Output] = []
        for node in 0..<nodeCount {
            for (s, child) in children[node] {
                nodes[node].edgeFilter |= 1 << UInt32(s & 31)
                guard node > 0 else { continue }
                let key = UInt64(node) << 16 | UInt64(s)
                var slot = fibonacciSlot(key, shift: 64 - bits)
                while transitions[slot] != 0 { slot = (slot + 1) & mask }
                transitions[slot] = key << 24 | UInt64(child)
            }
            nodes[node].fail = fail[node]
            nodes[node].outputStart = Int32(outputs.count)
            for term in outputLists[node] {
                let t = terms[Int(term)]
                outputs.append(Output(term: term, length: UInt16(t.count), leftBoundary: t.first.map(Scalar.isASCIIAlnum) ?? false,
                                      rightBoundary: t.last.map(Scalar.isASCIIAlnum) ?? false))
            }
        }
        nodes[nodeCount].outputStart = Int32(outputs.count)

        self.symbolOf = symbolOf
        self.wideSymbols = wide
        self.rootNext = rootNext
        self.transitions = transitions
        self.transitionShift = 64 - bits
        self.nodes = nodes
        self.outputs = outputs
    }

    /// The target of `node`'s edge on `symbol`, or 0 when there is none.
    @inline(__always)
    private func next(_ node: Int32, _ symbol: Int, _ table: UnsafeBufferPointer<UInt64>) -> Int32 {
        if node == 0 { return rootNext[symbol] }
        let key = UInt64(node) << 16 | UInt64(symbol)
        let mask = table.count - 1
        var slot = fibonacciSlot(key, shift: transitionShift)
        while true {
            let entry = table[slot]
            if entry == 0 { return 0 }
            if entry >> 24 == key { return Int32(truncatingIfNeeded: entry & 0xFF_FFFF) }
            slot = (slot + 1) & mask
        }
    }

    /// Appends every occurrence of every term in `text` (whole-word terms only at word boundaries).
    func scan(_ text: [UInt32], into hits: inout [TermHit]) {
        transitions.withUnsafeBufferPointer { table in
            symbolOf.withUnsafeBufferPointer { symbolOf in
                nodes.withUnsafeBufferPointer { nodes in
                    text.withUnsafeBufferPointer { text in
                        scan(text, table, symbolOf, nodes, into: &hits)
                    }
                }
            }
        }
    }

    private func scan(_ text: UnsafeBufferPointer<UInt32>, _ table: UnsafeBufferPointer<UInt64>,
                      _ symbolOf: UnsafeBufferPointer<UInt16>, _ nodes: UnsafeBufferPointer<Node>,
                      into hits: inout [TermHit])
    {
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
            let bit: UInt32 = 1 << UInt32(symbol & 31)
            while true {
                if state == 0 {
                    state = rootNext[symbol]
                    break
                }
                let node = nodes[Int(state)]
                if node.edgeFilter & bit != 0 {
                    let t = next(state, symbol, table)
                    if t != 0 {
                        state = t
                        break
                    }
                }
                state = node.fail
            }
            if state == 0 { continue }
            let lo = Int(nodes[Int(state)].outputStart)
            let hi = Int(nodes[Int(state) + 1].outputStart)
            if lo == hi { continue }
            let end = i + 1
            for k in lo..<hi {
                let output = outputs[k]
                let start = end - Int(output.length)
                if output.leftBoundary, start > 0, Scalar.isASCIIAlnum(text[start - 1]) { continue }
                if output.rightBoundary, end < count, Scalar.isASCIIAlnum(text[end]) { continue }
                hits.append(TermHit(term: output.term, start: Int32(start), end: Int32(end)))
            }
        }
    }
}
