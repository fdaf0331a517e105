import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardStore

/// `switchboard chat`: one conversation on standard input and output.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hold one conversation with the bot on stdin/stdout.",
        discussion: """
            Type a message per line; the bot answers in your language. With --customer the channel has \
            already identified you (as an app would); otherwise account questions ask for your number \
            and 6-digit service PIN. Events are appended, masked, to the transcript log.
            """
    )

    @OptionGroup var options: RuleOptions

    @Option(help: "The customer's phone number, already authenticated by the channel.")
    var customer: String?

    @Flag(help: "Read {\"text\": ...} per line and write one JSON event per line.")
    var jsonl = false

    @Option(help: "The transcript log to append to (default: transcripts/log/DATE.jsonl).")
    var log: String?

    func validate() throws {
        if let customer, customer.count != 11 || !customer.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            throw ValidationError("--customer must be an 11-digit mobile number, got '\(customer)'")
        }
    }

    func run() throws {
        let ruleSet = try options.loadRuleSet()
        let store = try options.openStore(ruleSet)
        let logFile: TranscriptFile
        do {
            logFile = try TranscriptFile(path: log ?? TranscriptFile.defaultPath())
        } catch {
            StandardError.write("switchboard chat: \(error)\n")
            throw ExitCode(1)
        }
        let engine = DialogueEngine(rules: ruleSet)
        let conversation = Conversation(
            id: "chat-" + UUID().uuidString.prefix(8).lowercased(), engine: engine, classifier: Classifier(ruleSet),
            store: store, customer: customer)
        if let customer, conversation.session.customer == nil {
            StandardError.write("switchboard chat: no account for \(Masking.mask(customer)); continuing unidentified\n")
        }
        let output = OutputBuffer()
        func show(_ result: TurnResult) {
            logFile.append(result.events)
            if jsonl {
                for event in result.events where event.role != "customer" { output.write(event.line + "\n") }
            } else {
                for reply in result.replies { output.write(reply + "\n") }
            }
        }
        show(conversation.open())
        let reader = LineReader(beforeBlocking: { output.flush() })
        while let bytes = reader.next() {
            var text = String(decoding: bytes, as: UTF8.self)
            if jsonl {
                guard let parsed = Self.text(fromJSONLine: text) else {
                    if !text.trimmingCharacters(in: .whitespaces).isEmpty {
                        output.write(#"{"role":"system","event":"error","text":"each line must be a JSON object with a \"text\" string"}"# + "\n")
                    }
                    continue
                }
                text = parsed
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let result = conversation.receive(text)
            show(result)
            if result.handedOff || result.ended { break }
        }
        let end = conversation.close()
        logFile.append(end)
        if jsonl { for event in end { output.write(event.line + "\n") } }
        output.flush()
    }

    /// The `text` of a `{"text": ...}` line, or nil when the line is not such an object.
    static func text(fromJSONLine line: String) -> String? {
        guard let data = line.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["text"] as? String
    }
}


extension RuleOptions {
    /// The operator data for a live conversation: the SQLite database at `--db`, created and seeded
    /// with the demo accounts on first use.
    func openStore(_ ruleSet: RuleSet) throws -> any OperatorData {
        do {
            let store = try SQLiteOperatorData(path: db, ruleSet: ruleSet, now: Date())
            store.readFailed = { error in StandardError.write("switchboard: database read failed: \(error)\n") }
            return store
        } catch {
            StandardError.write("switchboard: \(error)\n")
            throw ExitCode(1)
        }
    }
}
