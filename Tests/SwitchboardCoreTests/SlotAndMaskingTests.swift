import Testing

@testable import SwitchboardCore

@Suite struct SlotTests {
    func slots(_ text: String, expectsPIN: Bool = false) throws -> [String: String] {
        let result = try Repo.ruleSet().classify(text, context: ClassificationContext(expectsPIN: expectsPIN))
        return Dictionary(uniqueKeysWithValues: result.slots.map { ($0.name.rawValue, $0.value) })
    }

    @Test func phoneNumbersInAnyGrouping() throws {
        #expect(try slots("我的号码是13800000001")["phone"] == "13800000001")
        #expect(try slots("my number is 139 0000 0003")["phone"] == "13900000003")
        #expect(try slots("+86 137-0000-0004")["phone"] == "13700000004")
        #expect(try slots("12345678901")["phone"] == nil)
    }

    @Test func pinOnlyWhenAskedOrAnnounced() throws {
        #expect(try slots("服务密码是123456")["pin"] == "123456")
        #expect(try slots("my PIN is 654321")["pin"] == "654321")
        #expect(try slots("123456")["pin"] == nil)
        #expect(try slots("123456", expectsPIN: true)["pin"] == "123456")
    }

    @Test func amountsWithCurrencyBeforeOrAfter() throws {
        #expect(try slots("扣了我一百二十块")["amount"] == "120")
        #expect(try slots("被扣了12块5")["amount"] == "12.5")
        #expect(try slots("charged ¥10.00 for nothing")["amount"] == "10")
        #expect(try slots("收了我20元")["amount"] == "20")
        #expect(try slots("about 30 rmb")["amount"] == "30")
    }

    @Test func monthsAbsoluteAndRelative() throws {
        #expect(try slots("三月份的账单")["month"] == "3")
        #expect(try slots("上个月的话费")["relative_month"] == "-1")
        #expect(try slots("上上个月")["relative_month"] == "-2")
        #expect(try slots("what's on my November bill")["month"] == "11")
        #expect(try slots("my may bill")["month"] == "5")
        #expect(try slots("may I speak to someone")["month"] == nil)
    }

    @Test func plansAddonsAndTickets() throws {
        #expect(try slots("我想换成畅享99")["plan"] == "CX99")
        #expect(try slots("switch me to the 5G premium plan")["plan"] == "5G199")
        #expect(try slots("加个10G流量包")["addon"] == "data_10g")
        #expect(try slots("退订视频彩铃")["addon"] == "video_ringtone")
        #expect(try slots("工单号RP20261127001怎么样了")["ticket"] == "RP20261127001")
        #expect(try slots("ticket CP-2026112800012 please")["ticket"] == "CP2026112800012")
    }

    @Test func faultTypes() throws {
        #expect(try slots("家里宽带断了")["fault_type"] == "broadband_outage")
        #expect(try slots("手机没信号")["fault_type"] == "no_signal")
        #expect(try slots("收不到短信验证码")["fault_type"] == "sms_failure")
    }

    @Test func statedAge() throws {
        #expect(try slots("我今年八十二岁了")["age"] == "82")
        #expect(try slots("I'm 82 and my grandson set this up")["age"] == "82")
    }
}

@Suite struct MaskingTests {
    @Test func masksMobileNumbers() {
        #expect(Masking.mask("我的号码13800000001") == "我的号码138****0001")
        #expect(Masking.mask("call 139 0000 0003 now") == "call 139 **** 0003 now")
        #expect(Masking.mask("+8613700000004") == "+86137****0004")
    }

    @Test func masksIDCardsWithValidChecksum() {
        // 11010519491231002X is the standard's own example.
        #expect(Masking.mask("身份证11010519491231002X") == "身份证1101**********002X")
        #expect(Masking.mask("id 110105194912310038") == "id 1101**********0038")
    }

    @Test func masksBankCardsAndLongDigitRuns() {
        #expect(Masking.mask("卡号6222 0212 3456 7890 123") == "卡号**** **** **** ***0 123")
        #expect(Masking.mask("card 4111111111111111") == "card ************1111")
    }

    @Test func leavesOrdinaryNumbersAlone() {
        #expect(Masking.mask("上个月扣了59元，工单RP20261127001") == "上个月扣了59元，工单RP20261127001")
        #expect(Masking.mask("PIN 123456") == "PIN 123456")
    }

    @Test func fullWidthDigitsAreMaskedToo() {
        #expect(!Masking.mask("１３８００００００01").contains("００００"))
    }
}
