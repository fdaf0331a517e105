import Testing

@testable import SwitchboardCore

@Suite struct MatcherTests {
    static let rules = """
        concepts:
          ringtone_word: [彩铃, 视频彩铃, ringtone]
          stop_word: [退订, 取消, 不要, cancel, stop]
        intents:
          - id: addon.unsubscribe
            zh:
              patterns:
                - ~stop_word ... ~ringtone_word
              examples: [帮我把彩铃退了]
            en:
              patterns:
                - (stop|cancel) ... ~ringtone_word
          - id: addon.subscribe
            zh:
              patterns:
                - "!(不|不要|别) 开通 ... ~ringtone_word"
              phrases:
                - text: 订彩铃
                  weight: 0.8
              negated_by: [不想]
          - id: billing.balance
            zh:
              phrases: [话费余额, 余额]
              patterns:
                - 话费 还剩
              exclude: [流量]
              examples: [我的话费还有多少钱]
            en:
              phrases: [my balance]
              examples: [how much credit do i have]
          - id: usage.data
            zh:
              phrases: [流量]
              examples: [流量还剩多少]
        tests:
          - {text: 话费余额, intent: billing.balance}
        """

    let ruleSet: RuleSet

    init() throws { ruleSet = try Repo.miniRuleSet(["rules.yaml": Self.rules]) }

    @Test func patternsMatchInOrderAcrossGaps() {
        #expect(ruleSet.classify("我要退订那个视频彩铃").intent == "addon.unsubscribe")
        #expect(ruleSet.classify("please stop the ringtone").intent == "addon.unsubscribe")
        // Out of order: the ringtone word before the stop word is not this pattern.
        let reversed = ruleSet.classify("彩铃退订", explain: true)
        #expect(!(reversed.explanation?.ruleHits.contains { $0.rule.contains("~stop_word ... ~ringtone_word") } ?? true))
    }

    @Test func elementsWithoutAGapMustBeAdjacent() {
        #expect(ruleSet.classify("话费还剩").intent == "billing.balance")
        let far = ruleSet.classify("话费是不是还剩", explain: true)
        #expect(!(far.explanation?.ruleHits.contains { $0.rule.contains("话费 还剩") } ?? true))
    }

    @Test func negatedElementBlocksAMatch() {
        #expect(ruleSet.classify("帮我开通视频彩铃").intent == "addon.subscribe")
        let refused = ruleSet.classify("不要开通彩铃", explain: true)
        #expect(!(refused.explanation?.ruleHits.contains { $0.intent == "addon.subscribe" } ?? true))
    }

    @Test func negatedByDropsAPrecedingHit() {
        let result = ruleSet.classify("我不想订彩铃", explain: true)
        #expect(result.explanation?.negated.contains { $0.intent == "addon.subscribe" } == true)
    }

    @Test func excludeVetoesTheIntent() {
        #expect(ruleSet.classify("流量余额").intent == "usage.data")
    }

    @Test func lowConfidenceIsOutOfScope() {
        let result = ruleSet.classify("今天天气怎么样")
        #expect(result.intent == .outOfScope)
        #expect(result.candidates.allSatisfy { $0.confidence < ruleSet.scoring.confidenceFloor })
    }

    @Test func examplesCoverParaphrases() {
        let result = ruleSet.classify("how much credit have i got")
        #expect(result.intent == "billing.balance")
    }

    @Test func exampleBanksTrainTheIntentTheyName() throws {
        let banked = try Repo.miniRuleSet([
            "rules.yaml": Self.rules,
            "bank.yaml": "examples:\n  usage.data:\n    en: [how many gigabytes remain this cycle]\n",
        ])
        #expect(ruleSet.classify("how many gigabytes remain this cycle").intent != "usage.data")
        #expect(banked.classify("how many gigabytes remain this cycle").intent == "usage.data")
    }

    @Test func closeRunnersUpAreMarkedAmbiguous() throws {
        let tied = try Repo.miniRuleSet(["r.yaml": """
            intents:
              - id: a.one
                zh: {phrases: [查询]}
              - id: a.two
                zh: {phrases: [查询]}
            """])
        let result = tied.classify("查询")
        #expect(result.ambiguous)
        #expect(result.candidates.count == 2)
    }

    @Test func englishTyposAreCorrectedAgainstTheRuleVocabulary() {
        let result = ruleSet.classify("whats my ballance", explain: true)
        #expect(result.intent == "billing.balance")
        #expect(result.explanation?.replacements.contains { $0.from == "ballance" && $0.to == "balance" } == true)
    }

    @Test func inlineTestsPass() {
        #expect(ruleSet.runInlineTests().isEmpty)
    }
}

@Suite struct ShippedTypoTests {
    @Test(arguments: ["can you play some music", "split the bill till friday", "cars for sale near me"])
    func ordinaryEnglishWordsAreLeftAlone(_ text: String) throws {
        let result = try Repo.ruleSet().classify(text, explain: true)
        #expect(!(result.explanation?.replacements.contains { $0.source == "typo" } ?? true), "\(text)")
    }

    @Test func realMisspellingsAreStillFixed() throws {
        let result = try Repo.ruleSet().classify("i cant recieve any sigal on my fone", explain: true)
        let fixed = result.explanation?.replacements.filter { $0.source == "typo" }.map(\.to) ?? []
        #expect(fixed.contains("receive") && fixed.contains("signal"), "\(fixed)")
        #expect(result.intent == "fault.report")
    }
}

@Suite struct TypoCorrectorTests {
    func w(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    @Test func correctsOneEditIncludingTranspositions() {
        let corrector = TypoCorrector(vocabulary: [w("receive"): 3, w("balance"): 5, w("signal"): 2])
        #expect(corrector.correction(for: w("recieve")[...]) == w("receive"))
        #expect(corrector.correction(for: w("ballance")[...]) == w("balance"))
        #expect(corrector.correction(for: w("sigal")[...]) == w("signal"))
        #expect(corrector.correction(for: w("balance")[...]) == nil)
        #expect(corrector.correction(for: w("xyzzy")[...]) == nil)
        #expect(corrector.correction(for: w("sig")[...]) == nil)
    }
}

/// A `Classifier` keeps its working memory from message to message; nothing may leak across.
@Suite struct ReusedClassifierTests {
    @Test func aReusedClassifierAnswersExactlyAsAFreshOne() throws {
        let ruleSet = try Repo.ruleSet()
        let classifier = Classifier(ruleSet)
        let texts = try Repo.jsonLines(Repo.root.appendingPathComponent("Tests/SwitchboardCoreTests/DevSet/dev.jsonl").path)
            .compactMap { $0["text"] as? String }
        #expect(texts.count > 1000)
        // Twice through, so every message follows a different one the second time.
        for text in texts + texts.reversed() {
            let fresh = ruleSet.classify(text)
            let reused = classifier.classify(text)
            #expect(reused.intent == fresh.intent, "\(text)")
            #expect(reused.confidence == fresh.confidence, "\(text)")
            #expect(reused.candidates == fresh.candidates, "\(text)")
            #expect(reused.slots == fresh.slots, "\(text)")
            #expect(reused.cues == fresh.cues, "\(text)")
        }
    }
}
