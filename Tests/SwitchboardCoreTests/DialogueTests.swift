import Foundation
import Testing

@testable import SwitchboardCore

/// A conversation against the demo data at the conversation tests' fixed clock.
func talk(_ messages: [String], customer: String? = nil) throws -> (Conversation, [TurnResult]) {
    let ruleSet = try Repo.ruleSet()
    let engine = DialogueEngine(rules: ruleSet)
    let store = InMemoryOperatorData(ruleSet: ruleSet, now: ConversationTest.clock)
    let conversation = Conversation(id: "t", engine: engine, classifier: Classifier(ruleSet), store: store, customer: customer,
                                    clock: { ConversationTest.clock })
    var results = [conversation.open()]
    for message in messages { results.append(conversation.receive(message)) }
    return (conversation, results)
}

@Suite struct DialogueTests {
    @Test func everyConversationTestPasses() throws {
        let ruleSet = try Repo.ruleSet()
        let (tests, diagnostics) = ConversationTest.load([Repo.root.appendingPathComponent("transcripts/tests").path])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(tests.count >= 1)
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        for test in tests {
            let failures = test.run(ruleSet, engine: engine, classifier: classifier)
            #expect(failures.isEmpty, "\(test.name): \(failures.joined(separator: "\n"))")
        }
    }

    /// Replay runs thousands of sessions on one conversation, store and queue, started over each
    /// time: nothing of one session may reach the next.
    @Test func aRestartedConversationIsAFreshOne() throws {
        let ruleSet = try Repo.ruleSet()
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        let seed = InMemoryOperatorData(ruleSet: ruleSet, now: ConversationTest.clock)
        let store = InMemoryOperatorData()
        let queue = InMemoryHandoffQueue()
        func fresh(_ customer: String?) -> Conversation {
            let own = InMemoryOperatorData()
            own.reset(to: seed)
            return Conversation(id: "b", engine: engine, classifier: classifier, store: own, customer: customer, clock: { ConversationTest.clock })
        }
        store.reset(to: seed)
        let reused = Conversation(id: "a", engine: engine, classifier: classifier, store: store, queue: queue, customer: "13800000001",
                                  clock: { ConversationTest.clock })
        _ = reused.open()
        // A plan change, a complaint ticket and a handoff: store, queue and session all changed.
        for text in ["想换个99的套餐", "行，确认办理", "我要投诉你们", "营业厅的工作人员态度很差，办个业务让我等了两个小时"] { _ = reused.receive(text) }
        _ = reused.close()
        #expect(reused.session.handedOff && reused.isClosed && !queue.entries.isEmpty)
        #expect(store.tickets(phone: "13800000001").count == seed.tickets(phone: "13800000001").count + 1)
        #expect(store.account(phone: "13800000001")?.pendingPlanCode == "CX99")

        store.reset(to: seed)
        queue.removeAll()
        reused.restart(id: "b", customer: "13900000003", channel: "chat")
        let other = fresh("13900000003")
        #expect(reused.session == other.session && !reused.isClosed && reused.packet == nil && reused.history.isEmpty)
        for phone in ruleSet.demoAccounts.map(\.account.phone) {
            #expect(store.account(phone: phone) == seed.account(phone: phone))
            #expect(store.tickets(phone: phone) == seed.tickets(phone: phone))
        }
        // And it goes on as the fresh one does, to the same ticket number.
        let turns = ["我要投诉", "宽带老是掉线", "转人工"]
        let a = [reused.open()] + turns.map(reused.receive)
        let b = [other.open()] + turns.map(other.receive)
        #expect(a.map(\.replies) == b.map(\.replies))
        // The same transcript lines, numbered from 1 again (the session id and channel aside, both "b" and "chat").
        #expect(a.flatMap(\.events).map(\.line) == b.flatMap(\.events).map(\.line))
        #expect(reused.session == other.session && reused.session.ticket != nil)
    }

    @Test func accountQuestionsAskForPhoneThenPINAndAnswerOnlyAfterIt() throws {
        let (conversation, results) = try talk(["话费还剩多少", "13800000001", "123456"])
        #expect(results[1].replies.joined().contains("手机号码"))
        #expect(results[2].replies.joined().contains("服务密码"))
        #expect(!results[2].replies.joined().contains("86.50"))
        #expect(results[3].replies.joined().contains("86.50"))
        #expect(conversation.session.customer == "13800000001")
    }

    @Test func thePINIsNeverWrittenToTheTranscript() throws {
        let (conversation, results) = try talk(["查一下余额", "13800000001 123 456", "我的服务密码是123456对吗"])
        let lines = (results.flatMap(\.events) + conversation.close()).map(\.line)
        #expect(!lines.joined().contains("123456"))
        #expect(!lines.joined().contains("123 456"))
        #expect(results[2].replies.joined().contains("86.50"))
    }

    @Test func threeWrongPINsHandOffForSecurity() throws {
        let (conversation, results) = try talk(["查账单", "13800000001", "000000", "111111", "222222"])
        #expect(results[3].replies.joined().contains("2"))
        #expect(results[5].handedOff)
        #expect(conversation.session.handoffReasons.contains("security"))
        #expect(conversation.session.customer == nil)
    }

    @Test func anotherAccountsDataIsNeverShown() throws {
        // Identified as the first customer; the business customer's arrears never appear.
        let (_, results) = try talk(["我的余额", "13900000003的余额是多少"], customer: "13800000001")
        let said = results.flatMap(\.replies).joined()
        #expect(said.contains("86.50"))
        #expect(!said.contains("215"))
    }

    @Test func personalNumbersAreMaskedInEveryEvent() throws {
        let (conversation, results) = try talk([
            "我的号码是13812345678，身份证110101199003074513，银行卡6222021234567890123 扣款失败了",
        ])
        let text = (results.flatMap(\.events) + conversation.close()).map(\.line).joined()
        for raw in ["13812345678", "110101199003074513", "6222021234567890123"] { #expect(!text.contains(raw)) }
        #expect(text.contains("138****5678"))
    }

    @Test func aPlanChangeIsDisclosedAndWaitsForAnExplicitYes() throws {
        let (conversation, results) = try talk(["我要换成畅享99", "你好"], customer: "13800000001")
        let disclosure = results[1].replies.joined()
        for part in ["99.00", "30GB", "500分钟", "12月1日", "确认"] { #expect(disclosure.contains(part), "\(part)") }
        #expect(conversation.session.state == "plan.change:confirm")
        // A greeting is not a yes: nothing changes.
        #expect(!results[2].replies.joined().contains("已为您办理"))
    }

    @Test func aDigressionIsAnsweredOnceAndTheQuestionAskedAgain() throws {
        let (conversation, results) = try talk(["家里宽带断了", "余额还有多少"], customer: "13800000001")
        let replies = results[2].replies
        #expect(replies.filter { $0.contains("86.50") }.count == 1, "\(replies)")
        #expect(replies.last?.contains("什么地方") == true)
        #expect(conversation.session.state == "fault.report:ask_place")
    }

    @Test func aSeniorsOnlyPlanIsRefusedToAYoungerCustomer() throws {
        let (_, results) = try talk(["帮我办老年关爱套餐"], customer: "13800000001")
        #expect(results[1].replies.joined().contains("60岁"))
    }

    @Test func theThirdFallbackInARowHandsOff() throws {
        let (conversation, results) = try talk(["asdf qwer", "blorp zzk", "xkcd frobnicate"])
        #expect(!results[2].handedOff)
        #expect(results[3].handedOff)
        #expect(conversation.session.handoffReasons.contains("repeated_fallback"))
    }

    @Test func anElderlyAccountIsOfferedAPersonFirst() throws {
        let (conversation, results) = try talk(["0"], customer: "13800000002")
        #expect(results[0].replies.joined().contains("人工"))
        #expect(results[1].handedOff)
        #expect(Set(conversation.session.handoffReasons) == ["customer_request", "elderly_assist"])
    }
}

@Suite struct PINDigestTests {
    @Test func sha256MatchesTheStandardVectors() {
        func hex(_ s: String) -> String { SHA256.hash(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func digestsDependOnPhoneAndPINAndHideBoth() {
        let d = PINDigest.digest(phone: "13800000001", pin: "123456")
        #expect(d.hasPrefix("sha256:") && d.count == 71)
        #expect(!d.contains("123456") && !d.contains("13800000001"))
        #expect(d != PINDigest.digest(phone: "13800000002", pin: "123456"))
        #expect(d == PINDigest.digest(phone: "13800000001", pin: "123456"))
    }
}

@Suite struct JSONBytesTests {
    /// The byte writer (transcripts) and the String writer (classify) escape alike, and both parse back.
    @Test(arguments: ["plain", "引号\"和\\反斜杠", "tab\tnewline\nreturn\r", "\u{01}\u{1F}\u{7F}", "line\u{2028}sep\u{2029}",
                      "emoji 👍 and 中文", "", "\u{E2}"])
    func bytesAndStringAgree(_ text: String) throws {
        let value = JSONValue.object([("text", .string(text)), ("n", .int(3))])
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == value.serialized())
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        #expect(parsed?["text"] as? String == text)
    }
}
