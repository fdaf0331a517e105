import NIOCore
import NIOEmbedded
import Testing

@testable import SwitchboardServer

/// Framing and reading the lines clients send, without sockets.
struct WireTests {
    func frames(_ chunks: [[UInt8]], max: Int = 16, close: Bool = false) throws -> [InboundFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFramer(maxLength: max)))
        for chunk in chunks { try channel.writeInbound(ByteBuffer(bytes: chunk)) }
        if close { _ = try? channel.finish() }
        var out: [InboundFrame] = []
        while let frame = try channel.readInbound(as: InboundFrame.self) { out.append(frame) }
        return out
    }

    func text(_ frame: InboundFrame) -> String? {
        guard case .line(let buffer) = frame else { return nil }
        return String(buffer: buffer)
    }

    @Test func aCharacterSplitAcrossReadsArrivesWhole() throws {
        let bytes = Array("你好\r\n查话费\n".utf8)
        let out = try frames([Array(bytes[0..<2]), Array(bytes[2..<5]), Array(bytes[5...])])
        #expect(out.map(text) == ["你好", "查话费"])
    }

    @Test func anOverlongLineIsReportedOnceAndTheNextOneIsRead() throws {
        let long = Array(repeating: UInt8(0x61), count: 40)
        let out = try frames([Array(long[0..<20]), Array(long[20...]) + Array("\nok\n".utf8)])
        #expect(out.count == 2)
        #expect(out.first == .tooLong(bytes: 40))
        #expect(text(out[1]) == "ok")
    }

    @Test func aLastLineWithoutNewlineCountsAtEndOfStream() throws {
        let out = try frames([Array("one\ntwo".utf8)], close: true)
        #expect(out.map(text) == ["one", "two"])
    }

    @Test func invalidUTF8IsRefusedAndControlCharactersBecomeSpaces() {
        #expect(LineText.decode(ByteBuffer(bytes: [0x66, 0xFF])) == .failure(.invalidUTF8))
        #expect(LineText.decode(ByteBuffer(bytes: [0xE4, 0xBD])) == .failure(.invalidUTF8))
        #expect(LineText.decode(ByteBuffer(string: "查\u{7}话\u{1}费")) == .success("查 话 费"))
        #expect(LineText.decode(ByteBuffer(string: "plain")) == .success("plain"))
    }

    @Test func customerLinesAreRead() throws {
        let parsed = try CustomerLine.parse(#"{"text":"他说\"你好\"\n\u4f60\ud83d\ude00","customer":"13800000001"}"#).get()
        #expect(parsed.text == "他说\"你好\"\n你😀")
        #expect(parsed.customer == "13800000001")
        #expect(try CustomerLine.parse(#"{"resume":"s-00ff"}"#).get().resume == "s-00ff")
        #expect(try CustomerLine.parse(#" { "end" : true } "#).get().end)
        // Nested values take the long way and still work.
        #expect(try CustomerLine.parse(#"{"text":"hi","meta":{"a":[1,2]}}"#).get().text == "hi")
    }

    @Test func badCustomerLinesSayWhatIsWrong() {
        func problem(_ line: String) -> String? {
            if case .failure(let p) = CustomerLine.parse(line) { return p.message }
            return nil
        }
        #expect(problem("not json")?.contains("JSON object") == true)
        #expect(problem(#"{"text": 5}"#)?.contains("string") == true)
        #expect(problem(#"{"text":"hi","customer":"123"}"#)?.contains("11-digit") == true)
        #expect(problem(#"{"other":"x"}"#)?.contains("\"text\"") == true)
        #expect(problem(#"{"text":"a"} trailing"#) != nil)
    }

    @Test func agentCommands() {
        #expect(AgentCommand.parse(#"{"cmd":"login","name":"小王","skills":"zh, billing"}"#) == .login(name: "小王", skills: ["zh", "billing"]))
        #expect(AgentCommand.parse(#"{"cmd":"claim","ticket":"HO202611290001"}"#) == .claim(ticket: "HO202611290001"))
        #expect(AgentCommand.parse(#"{"cmd":"say","text":""}"#) == nil)
        #expect(AgentCommand.parse(#"{"cmd":"fly"}"#) == nil)
        #expect(AgentCommand.parse(#"{"cmd":"resolve","note":"done"}"#) == .resolve(note: "done"))
    }
}
