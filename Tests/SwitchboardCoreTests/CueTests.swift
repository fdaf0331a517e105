import Testing

@testable import SwitchboardCore

@Suite struct CueTests {
    func cues(_ text: String) throws -> UtteranceCues { try Repo.ruleSet().classify(text).cues }

    @Test(arguments: [
        "你们这是什么破服务，骗子！", "再不解决我就去工信部投诉", "I'm sick of this rip-off, useless company",
        "WHY IS MY BILL SO HIGH AGAIN", "到底怎么回事？？？", "我要携号转网，受够了",
    ])
    func frustrationIsNoticed(_ text: String) throws {
        #expect(try cues(text).frustrated, "\(text)")
    }

    @Test(arguments: ["话费还剩多少", "how much data do I have left", "谢谢你", "到底"])
    func calmMessagesAreNotFrustrated(_ text: String) throws {
        #expect(try !cues(text).frustrated, "\(text)")
    }

    @Test(arguments: [
        "我今年七十八岁了，话费怎么查", "I'm 82 and my grandson set this phone up", "字太小了看不清",
        "老人机怎么查流量", "我年纪大了不会用手机", "孙子帮我弄的这个",
    ])
    func elderlyCuesAreNoticed(_ text: String) throws {
        #expect(try cues(text).elderly, "\(text)")
    }

    @Test(arguments: ["我今年25岁，想换个套餐", "I am 30 and want a new plan", "帮我查一下话费"])
    func youngerCustomersAreNotTaggedElderly(_ text: String) throws {
        #expect(try !cues(text).elderly, "\(text)")
    }

    @Test func repetitionIsASignal() {
        #expect(RuleSet.hasRepetition("快点快点快点".unicodeScalars.map(\.value)))
        #expect(RuleSet.hasRepetition("why why why".unicodeScalars.map(\.value)))
        #expect(!RuleSet.hasRepetition("谢谢你帮忙".unicodeScalars.map(\.value)))
    }
}

@Suite struct DialectTests {
    func classify(_ text: String) throws -> Classification { try Repo.ruleSet().classify(text, explain: true) }

    @Test(arguments: [
        ("點解我嘅話費咁貴", "yue"), ("我部手機冇信號", "yue"), ("你哋幫我睇下幾多錢", "yue"),
        ("啥子情况嘛，网络莫得了", "sichuan"), ("这网咋整啊，嘎哈呢", "dongbei"),
        ("侬好，阿拉屋里向宽带坏脱了", "wu"), ("阮厝的网路袂通", "minnan"),
    ])
    func dialectIsDetected(_ text: String, _ dialect: String) throws {
        #expect(try classify(text).cues.dialect?.rawValue == dialect, "\(text)")
    }

    @Test(arguments: ["我的话费还剩多少", "家里宽带断了，什么时候能修好", "帮我转人工客服", "你好", "我想换个便宜点的套餐"])
    func plainMandarinIsNotTagged(_ text: String) throws {
        #expect(try classify(text).cues.dialect == nil, "\(text)")
    }

    @Test func dialectWordsAreReplacedBeforeMatching() throws {
        let result = try classify("我部手機冇信號")
        #expect(result.explanation?.rewritten.contains("没有信号") == true)
        #expect(result.intent == "fault.report")
        #expect(result.slots[.faultType] == "no_signal")
    }
}
