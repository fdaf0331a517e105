import Testing

@testable import SwitchboardCore

@Suite struct TextClusterTests {
    /// Each cluster as its texts (sorted) and size, the way an analyst reads the report.
    func groups(_ clusterer: TextClusterer) -> [(texts: [String], size: Int)] {
        clusterer.clusters(limit: 1_000, examples: 1_000).map { ($0.examples.map(\.text).sorted(), $0.size) }
    }

    func collector(_ texts: [(String, Int)], maxDistinct: Int = 50_000) -> TextClusterer {
        var c = TextClusterer(maxDistinct: maxDistinct)
        for (text, count) in texts { c.add(text, count: count) }
        return c
    }

    /// Texts an operator's fallback log might hold: complaints, weather, cancellations, greetings.
    static let sample: [(String, Int)] = [
        ("为什么扣了我10块钱", 3), ("为什么扣了我25块钱", 2), ("为什么又扣了我8块钱", 1), ("为什么扣了我１０块钱！！", 1),
        ("今天天气怎么样", 4), ("明天天气怎么样", 1), ("I want to cancel my gym membership", 2),
        ("cancel my gym membership please", 1), ("Cancel my gym membership, please!", 1), ("what is my balance", 3),
        ("hello", 2), ("hello there", 1), ("👍👍", 1), ("???", 1), ("广州明天会下雨吗", 1), ("charged 10 dollars twice", 1),
        ("charged 25 dollars twice", 1), ("5G套餐怎么办理", 2), ("５Ｇ套餐怎么办理？", 1), ("我要投诉你们的客服", 2),
    ]

    @Test func chineseComplaintsWithDifferentAmountsClusterApartFromWeather() {
        let c = collector([("为什么扣了我10块钱", 3), ("为什么扣了我25块钱", 2), ("为什么又扣了我8块钱", 1),
                           ("为什么扣了我１０块钱！！", 1), ("今天天气怎么样", 4), ("明天天气怎么样", 1)])
        let clusters = c.clusters()
        #expect(clusters.map(\.label) == ["为什么扣了我10块钱", "今天天气怎么样"])
        #expect(clusters.map(\.size) == [7, 5])
        #expect(clusters.map(\.distinct) == [4, 2])
        #expect(groups(c).map(\.texts) == [
            ["为什么又扣了我8块钱", "为什么扣了我10块钱", "为什么扣了我25块钱", "为什么扣了我１０块钱！！"],
            ["今天天气怎么样", "明天天气怎么样"],
        ])
    }

    @Test func englishVariantsOfOneRequestCluster() {
        let c = collector([("I want to cancel my gym membership", 2), ("cancel my gym membership please", 1),
                           ("Cancel my gym membership, please!", 1), ("what is my balance", 3),
                           ("charged 10 dollars twice", 1), ("charged 25 dollars twice", 1)])
        #expect(groups(c).map(\.texts) == [
            ["Cancel my gym membership, please!", "I want to cancel my gym membership", "cancel my gym membership please"],
            ["what is my balance"],
            ["charged 10 dollars twice", "charged 25 dollars twice"],
        ])
        #expect(c.clusters().first?.label == "I want to cancel my gym membership")
    }

    @Test func mixedScriptAndFullWidthTextsMatchTheirPlainForms() {
        let c = collector([("5G套餐怎么办理", 2), ("５Ｇ套餐怎么办理？", 1), ("今天天气怎么样", 1)])
        #expect(groups(c).map(\.texts) == [["5G套餐怎么办理", "５Ｇ套餐怎么办理？"], ["今天天气怎么样"]])
    }

    @Test func normalisationIgnoresAmountsCaseWidthAndPunctuation() {
        #expect(TextFeatures.of("扣了10块") == TextFeatures.of("扣了２５块"))
        #expect(TextFeatures.of("charged 10.50 dollars") == TextFeatures.of("charged 3 dollars"))
        #expect(TextFeatures.of("Ｈｅｌｌｏ, WORLD!! 😀") == TextFeatures.of("hello world"))
        #expect(TextFeatures.of("扣了10块") != TextFeatures.of("扣了块"))
    }

    @Test func textsWithoutWordsShareOneCluster() {
        let c = collector([("👍👍", 2), ("???", 1), ("hello", 1)])
        #expect(groups(c).map(\.texts) == [["???", "👍👍"], ["hello"]])
    }

    /// The inverted index must find exactly what comparing each text with every leader finds.
    @Test(arguments: [0.3, 0.5, 0.8])
    func indexedClusteringEqualsAFullScan(threshold: Double) {
        // Overlapping texts: three-word picks from a small vocabulary, and Chinese phrases.
        let words = ["cancel", "my", "plan", "data", "bill", "high", "why", "roaming", "refund", "please"]
        let han = Array("为什么扣了我钱话费流量套餐退订")
        var sets: [[UInt64]] = []
        for a in 0..<words.count {
            for b in 0..<words.count where b != a {
                sets.append(TextFeatures.of("\(words[a]) \(words[b]) \(words[(a * b) % words.count])"))
            }
        }
        for a in 0..<han.count {
            for b in 0..<han.count { sets.append(TextFeatures.of("\(han[a])\(han[b])\(han[(a + b) % han.count])了")) }
        }
        var expected: [[Int]] = []
        for (n, set) in sets.enumerated() {
            let scores = expected.map { jaccard(Set(sets[$0[0]]), Set(set)) }
            // The highest score at or above the threshold; ties to the oldest cluster.
            let best = scores.indices.filter { scores[$0] >= threshold }
                .max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }
            if let best {
                expected[best].append(n)
            } else {
                expected.append([n])
            }
        }
        #expect(TextClusterer.leaderClusters(sets, threshold: threshold) == expected)
        #expect(expected.count > 10 && expected.count < sets.count - 10)  // the texts do overlap
    }

    func jaccard(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double {
        Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    @Test func addOrderDoesNotChangeTheClusters() {
        let forward = collector(Self.sample)
        // Reversed, and every count added one at a time.
        var backward = TextClusterer()
        for (text, count) in Self.sample.reversed() { for _ in 0..<count { backward.add(text) } }
        #expect(forward.clusters(limit: 100, examples: 100) == backward.clusters(limit: 100, examples: 100))
        #expect(forward.total == backward.total)
    }

    @Test func addOrderDoesNotChangeWhichTextsAreKeptPastTheBound() {
        let forward = collector(Self.sample, maxDistinct: 6)
        let backward = collector(Self.sample.reversed(), maxDistinct: 6)
        #expect(forward.overflow > 0)
        #expect(forward.overflow == backward.overflow)
        #expect(forward.clusters(limit: 100, examples: 100) == backward.clusters(limit: 100, examples: 100))
    }

    @Test(arguments: [50_000, 6])
    func mergingCollectorsEqualsAddingEverythingToOne(maxDistinct: Int) {
        let all = collector(Self.sample, maxDistinct: maxDistinct)
        let first = collector(Array(Self.sample.prefix(8)), maxDistinct: maxDistinct)
        let second = collector(Array(Self.sample.dropFirst(8)) + [("为什么扣了我10块钱", 2)], maxDistinct: maxDistinct)
        var ab = first
        ab.merge(second)
        var ba = second
        ba.merge(first)
        var expected = all
        expected.add("为什么扣了我10块钱", count: 2)
        for merged in [ab, ba] {
            #expect(merged.clusters(limit: 100, examples: 100) == expected.clusters(limit: 100, examples: 100))
            #expect(merged.total == expected.total)
            #expect(merged.overflow == expected.overflow)
        }
    }

    @Test func occurrencesPastTheBoundAreCountedAsOverflow() {
        var c = TextClusterer(maxDistinct: 3)
        for (i, word) in ["alpha", "bravo", "charlie", "delta", "echo"].enumerated() { c.add(word, count: i + 1) }
        let clusters = c.clusters()
        #expect(c.total == 15)
        #expect(clusters.reduce(0) { $0 + $1.distinct } == 3)
        #expect(clusters.reduce(0) { $0 + $1.size } + c.overflow == 15)
        #expect(c.overflow >= 1 + 2)  // at least the two smallest counts are gone
        // A text already held still counts in full.
        let held = clusters[0].label
        c.add(held, count: 10)
        #expect(c.clusters().first { $0.label == held }?.size == clusters.first { $0.label == held }!.size + 10)
        #expect(c.overflow == 15 - clusters.reduce(0) { $0 + $1.size })
    }

    @Test func examplesAreMostFrequentFirstAndLabelBreaksTiesByText() {
        let c = collector([("why was I charged 5 dollars", 1), ("why was I charged 7 dollars", 5),
                           ("why was I charged 9 dollars!", 3), ("Why was I charged 3 dollars", 5)])
        let cluster = c.clusters(examples: 3)
        #expect(cluster.count == 1)
        #expect(cluster[0].label == "Why was I charged 3 dollars")  // "W" < "w"
        #expect(cluster[0].examples.map(\.count) == [5, 5, 3])
        #expect(cluster[0].size == 14)
        #expect(cluster[0].distinct == 4)
        #expect(cluster[0].json.serialized().hasPrefix(#"{"size":14,"distinct":4,"label":"Why was I charged 3 dollars","#))
    }

    @Test func clustersAreLargestFirstAndLimited() {
        let c = collector(Self.sample)
        let sizes = c.clusters(limit: 3).map(\.size)
        #expect(sizes == [7, 5, 4])
    }

    @Test func emptyInputGivesNoClusters() {
        #expect(TextClusterer().clusters().isEmpty)
        var c = TextClusterer()
        c.add("")
        c.add("  \n ")
        c.add("hello", count: 0)
        #expect(c.clusters().isEmpty)
        #expect(c.total == 0)
        #expect(c.overflow == 0)
    }
}
