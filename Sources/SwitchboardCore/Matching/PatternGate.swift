/// Decides which patterns are worth matching for a message: those whose every term element was
/// hit (patterns made only of `#` need a number). Most messages leave one or two candidates out of
/// hundreds of patterns.
struct PatternGate: Sendable {
    /// For each term, the pattern elements (indices into `RuleSet.patternElements`) it satisfies.
    private let termElements: FlatLists<Int32>
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
        self.elementPattern = elementPattern
        self.required = required
        self.numberOnly = numberOnly
    }

    /// Indices of the patterns to try, in the order they became complete.
    func candidates(_ hits: [TermHit], hasNumbers: Bool) -> [Int32] {
        var result: [Int32] = hasNumbers ? numberOnly : []
        guard !required.isEmpty else { return result }
        // Raw scratch: an array here would cost a runtime metadata lookup per message.
        let satisfied = UnsafeMutableBufferPointer<Bool>.allocate(capacity: elementPattern.count)
        satisfied.initialize(repeating: false)
        let satisfiedCount = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: required.count)
        satisfiedCount.initialize(repeating: 0)
        defer {
            satisfied.deallocate()
            satisfiedCount.deallocate()
        }
        for hit in hits {
            termElements.forEach(hit.term) { e in
                guard !satisfied[Int(e)] else { return }
                satisfied[Int(e)] = true
                let p = Int(elementPattern[Int(e)])
                satisfiedCount[p] += 1
                if satisfiedCount[p] == required[p] { result.append(Int32(p)) }
            }
        }
        return result
    }
}
