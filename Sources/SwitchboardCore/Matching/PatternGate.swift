/// Decides which patterns are worth matching for a message: those whose every term element was
/// hit (patterns made only of `#` need a number). Most messages leave one or two candidates out of
/// hundreds of patterns.
struct PatternGate: Sendable {
    /// For each term, the pattern elements (indices into `RuleSet.patternElements`) it satisfies.
    private let termElements: FlatLists<Int32>
    /// Whether a term is in any pattern: most hits are not, and this small array says so.
    private let inPatterns: [Bool]
    private let elementPattern: [Int32]
    private let required: [UInt8]
    private let numberOnly: [Int32]

    init(patterns: [RuleSet.CompiledPattern], elements: [RuleSet.Element], terms: [Int32], termCount: Int) {
        var termElements = [[Int32]](repeating: [], count: termCount)
        var elementPattern = [Int32](repeating: -1, count: elements.count)
        var required: [UInt8] = []
        var numberOnly: [Int32] = []
        for (p, pattern) in patterns.enumerated() {
            var count = 0
            for e in Int(pattern.elementsStart)..<Int(pattern.elementsEnd) where elements[e].kind == .terms {
                elementPattern[e] = Int32(p)
                count += 1
                for t in Set(terms[Int(elements[e].termsStart)..<Int(elements[e].termsEnd)]) {
                    termElements[Int(t)].append(Int32(e))
                }
            }
            required.append(UInt8(min(count, 255)))
            if count == 0 { numberOnly.append(Int32(p)) }
        }
        self.termElements = FlatLists(termElements)
        self.inPatterns = termElements.map { !$0.isEmpty }
        self.elementPattern = elementPattern
        self.required = required
        self.numberOnly = numberOnly
    }

    /// Writes the indices of the patterns to try into `scratch.candidates`, in the order they
    /// became complete, and returns how many there are.
    func candidates(_ hits: [TermHit], hasNumbers: Bool, scratch: Scratch) -> Int {
        var count = 0
        if hasNumbers {
            for p in numberOnly {
                scratch.candidates[count] = p
                count += 1
            }
        }
        guard !required.isEmpty else { return count }
        let satisfied = scratch.satisfied
        let satisfiedCount = scratch.satisfiedCount
        let satisfiedList = scratch.satisfiedList
        let out = scratch.candidates
        var setCount = 0
        termElements.withUnsafeStorage { starts, elements in
            elementPattern.withUnsafeBufferPointer { elementPattern in
                required.withUnsafeBufferPointer { required in
                    for hit in hits where inPatterns[Int(hit.term)] {
                        for k in Int(starts[Int(hit.term)])..<Int(starts[Int(hit.term) + 1]) {
                            let e = Int(elements[k])
                            if satisfied[e] { continue }
                            satisfied[e] = true
                            satisfiedList[setCount] = Int32(e)
                            setCount += 1
                            let p = Int(elementPattern[e])
                            satisfiedCount[p] &+= 1
                            if satisfiedCount[p] == required[p] {
                                out[count] = Int32(p)
                                count += 1
                            }
                        }
                    }
                }
            }
        }
        // Leave the scratch zeroed for the next message.
        for k in 0..<setCount {
            let e = Int(scratch.satisfiedList[k])
            satisfied[e] = false
            satisfiedCount[Int(elementPattern[e])] = 0
        }
        return count
    }
}

/// Which terms satisfy which pattern element, as one exact hash set of (element, term) pairs:
/// matching asks this for every hit it considers, and one probe beats a binary search through a
/// concept's terms (whose branches are unpredictable).
struct ElementTermSet: Sendable {
    /// `element << 32 | term`, plus one so that 0 marks an empty slot.
    private let slots: [UInt64]
    private let shift: UInt64
    /// Whether a term is in any element at all: most hits are not, and need no probe.
    private let inSomeElement: [Bool]

    init(elements: [RuleSet.Element], terms: [Int32], termCount: Int) {
        var keys: [UInt64] = []
        var inSomeElement = [Bool](repeating: false, count: termCount)
        for (e, element) in elements.enumerated() where element.kind == .terms || element.kind == .negation {
            for t in terms[Int(element.termsStart)..<Int(element.termsEnd)] {
                keys.append(Self.key(Int32(e), t))
                inSomeElement[Int(t)] = true
            }
        }
        self.inSomeElement = inSomeElement
        var bits: UInt64 = 4
        while 1 << bits < 2 * keys.count { bits += 1 }
        var slots = [UInt64](repeating: 0, count: 1 << bits)
        let mask = slots.count - 1
        for key in keys {
            var slot = fibonacciSlot(key, shift: 64 - bits)
            while slots[slot] != 0 && slots[slot] != key { slot = (slot + 1) & mask }
            slots[slot] = key
        }
        self.slots = slots
        self.shift = 64 - bits
    }

    @inline(__always)
    private static func key(_ element: Int32, _ term: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: element)) << 32 | UInt64(UInt32(bitPattern: term))) &+ 1
    }

    /// Whether `term` is one of the terms of pattern element `element`.
    @inline(__always)
    func contains(element: Int, term: Int32) -> Bool {
        guard inSomeElement[Int(term)] else { return false }
        return slots.withUnsafeBufferPointer { slots in
            let key = Self.key(Int32(element), term)
            let mask = slots.count - 1
            var slot = fibonacciSlot(key, shift: shift)
            while true {
                let entry = slots[slot]
                if entry == key { return true }
                if entry == 0 { return false }
                slot = (slot + 1) & mask
            }
        }
    }
}
