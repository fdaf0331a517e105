/// A reproducible stream of realistic utterances for benchmarks, built from the rule set's own
/// examples with the noise customers add: typos, fillers, punctuation, phone numbers, dialect.
public struct Workload: Sendable {
    public private(set) var utterances: [String] = []

    /// Builds `count` utterances with a fixed seed, so every run measures the same work.
    public init(ruleSet: RuleSet, count: Int, seed: UInt64 = 42) {
        var rng = seed
        func next() -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: rng >> 33)
        }
        let base = ruleSet.examples.exampleText
        let noise = ["", "", "", "!!!", "？？", " 谢谢", " please", "。", " 快点"]
        let prefixes = ["", "", "", "你好，", "嗯 ", "hi, ", "喂喂喂 ", "我今年78岁了，", "I'm 82 and "]
        let extras = ["", "", "", " 我的号码是13800000001", " my number is 139 0000 0003", " 上个月", " 一百二十块", " RP20261127001"]
        guard !base.isEmpty else { return }
        utterances.reserveCapacity(count)
        for _ in 0..<count {
            var text = base[next() % base.count]
            if next() % 5 == 0, text.unicodeScalars.allSatisfy({ $0.isASCII }) {
                // Swap two neighbouring letters: the commonest English typo.
                var chars = Array(text)
                if chars.count > 4 {
                    let i = 1 + next() % (chars.count - 3)
                    chars.swapAt(i, i + 1)
                }
                text = String(chars)
            }
            text = prefixes[next() % prefixes.count] + text + extras[next() % extras.count] + noise[next() % noise.count]
            utterances.append(text)
        }
    }
}
