import Testing

@testable import SwitchboardCore

@Suite struct NormalizerTests {
    let normalizer = TextNormalizer(
        characterMap: [0x9322: 0x94B1, 0x8CBB: 0x8D39, 0x5E7E: 0x51E0],  // 錢→钱 費→费 幾→几
        numeralMeasures: ["块", "元", "个", "g", "月", "岁"])

    func n(_ s: String) -> String { normalizer.normalize(s).string }

    @Test func foldsWidthAndCase() {
        #expect(n("ＨＥＬＬＯ　Ｗｏｒｌｄ！") == "hello world!")
        #expect(n("５Ｇ套餐") == "5g套餐")
    }

    @Test func fullWidthEnglishCountsAsEnglishWords() {
        let n = normalizer.normalize("ＷＨＡＴ'Ｓ ＭＹ ＢＡＬＡＮＣＥ？")
        #expect(n.string == "what's my balance?" || n.string == "whats my balance?")
        #expect(n.latinWords == 3)
        #expect(n.shoutedWords == 2)
    }

    @Test func appliesNFKCToDecomposedAndCompatibilityForms() {
        #expect(n("cafe\u{301}") == "café")
        #expect(n("①号") == "1号")
    }

    @Test func mapsTraditionalToSimplified() {
        #expect(n("幾多錢") == "几多钱")
        #expect(n("話費") == "話费")  // only characters in the map are folded
    }

    @Test func collapsesAndCountsRepeatedPunctuation() {
        let text = normalizer.normalize("为什么扣我钱！！！？？ 还有。。。")
        #expect(text.string == "为什么扣我钱! 还有.")
        #expect(text.repeatedPunctuationRuns == 1)
        #expect(normalizer.normalize("why?").repeatedPunctuationRuns == 0)
    }

    @Test func dropsSpacesBetweenChineseCharactersAndControlCharacters() {
        #expect(n("话 费\t余额\u{0007}") == "话费余额")
        #expect(n("bill\t余额\u{0007}x") == "bill 余额 x")
        #expect(n("  a \n b  ") == "a b")
    }

    @Test func removesApostrophesAndSplitsHyphens() {
        #expect(n("I don’t want top-up") == "i dont want top up")
    }

    @Test func countsShoutingAndLanguageSignals() {
        let text = normalizer.normalize("WHY IS MY BILL so high")
        #expect(text.shoutedWords == 2)  // WHY, BILL (IS and MY are too short to count)
        #expect(text.longWords == 3)
        #expect(normalizer.normalize("5G套餐 upgrade").hanCount == 2)
    }

    @Test(arguments: [
        ("一百二十块", "120块"), ("两个G", "2个g"), ("十点五", "10.5"), ("三千五", "3500"), ("两万五", "25000"),
        ("一三八零零零零零零零一", "13800000001"), ("十一月", "11月"), ("我今年八十二岁", "我今年82岁"),
        ("一下", "一下"), ("一直", "一直"), ("万一", "万一"), ("千万别", "千万别"), ("两三个", "两三个"),
        ("十分感谢", "十分感谢"), ("第一次", "第一次"), ("3千块", "3000块"), ("一百零五元", "105元"),
    ])
    func convertsChineseNumeralsOnlyWhereTheyFormNumbers(input: String, expected: String) {
        #expect(n(input) == expected)
    }
}
