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
