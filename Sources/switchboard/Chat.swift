import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardServer
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
        let queue = try options.openQueue(ruleSet)
        let logFile: TranscriptLog
        do {
            // Written at each append, before the reply is shown.
            logFile = try TranscriptLog(path: log ?? TranscriptLog.defaultPath(), interval: nil)
        } catch {
            StandardError.write("switchboard chat: \(error)\n")
            throw ExitCode(1)
        }
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        let output = OutputBuffer()
        func show(_ result: TurnResult) {
            // Logged before the reply is shown: what the customer saw is on disk.
            logFile.append(result.events)
            if jsonl {
                for event in result.events where event.role != "customer" { output.write(event.line + "\n") }
            } else {
                for reply in result.replies { output.write(reply + "\n") }
            }
        }
        func open(_ id: String, customer: String?) -> Conversation {
            let conversation = Conversation(id: id, engine: engine, classifier: classifier, store: store, queue: queue,
                                            customer: customer)
            conversation.queueFailed = { error in StandardError.write("switchboard chat: handoff queue: \(error)\n") }
            if let customer, conversation.session.customer == nil {
                StandardError.write("switchboard chat: no account for \(Masking.mask(customer)); continuing unidentified\n")
            }
            show(conversation.open())
            return conversation
        }
        func close(_ conversation: Conversation) {
            let end = conversation.close()
            logFile.append(end)
            if jsonl { for event in end { output.write(event.line + "\n") } }
        }
        func error(_ message: String) {
            var e = ""
            JSONValue.object([("role", .string("system")), ("event", .string("error")), ("text", .string(message))]).write(to: &e)
            output.write(e + "\n")
        }
        let main = open("chat-" + UUID().uuidString.prefix(8).lowercased(), customer: customer)
        // With --jsonl, a line may name its own session: one process then carries many
        // conversations (a channel gateway), each opened on its first line.
        var others: [String: Conversation] = [:]
        let reader = LineReader(beforeBlocking: { output.flush() })
        while let bytes = reader.next() {
            var text = String(decoding: bytes, as: UTF8.self)
            var conversation = main
            if jsonl {
                if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                let parsed: InputLine
                switch Self.input(fromJSONLine: text) {
                case .success(let line): parsed = line
                case .failure(let problem):
                    error(problem.message)
                    continue
                }
                if let id = parsed.session {
                    if parsed.end && others[id] == nil {
                        error("no open session '\(id)' to end")
                        continue
                    }
                    if let existing = others[id] {
                        conversation = existing
                    } else {
                        guard others.count < Self.maxSessions else {
                            error("too many open sessions (\(Self.maxSessions)); end some first")
                            continue
                        }
                        conversation = open(id, customer: parsed.customer)
                        others[id] = conversation
                    }
                    if parsed.end {
                        close(conversation)
                        others[id] = nil
                        continue
                    }
                }
                guard let t = parsed.text else { continue }
                text = t
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let result = conversation.receive(text)
            show(result)
            // A customer waiting for a person may keep writing: their messages go to the ticket.
            if result.ended || conversation.session.ended {
                // The default conversation ending ends the process, unless others are still open.
                if conversation === main {
                    if others.isEmpty { break }
                    continue
                }
                close(conversation)
                others[conversation.session.id] = nil
            }
        }
        for conversation in others.values.sorted(by: { $0.session.id < $1.session.id }) { close(conversation) }
        close(main)
        output.flush()
    }

    static let maxSessions = 10_000

    struct InputLine {
        var text: String?
        var session: String?
        var customer: String?
        var end = false
    }

    struct InputProblem: Error { var message: String }

    /// `{"text": ...}`, optionally with `"session"` (and `"customer"` on its first line, `"end": true` to close it).
    static func input(fromJSONLine line: String) -> Result<InputLine, InputProblem> {
        guard let data = line.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return .failure(InputProblem(message: "each line must be a JSON object with a \"text\" string")) }
        var parsed = InputLine()
        parsed.text = object["text"] as? String
        if let session = object["session"] {
            guard let id = session as? String, (1...64).contains(id.count),
                id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else { return .failure(InputProblem(message: "\"session\" must be 1–64 printable ASCII characters")) }
            parsed.session = id
        }
        if let customer = object["customer"] as? String {
            guard customer.count == 11, customer.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return .failure(InputProblem(message: "\"customer\" must be an 11-digit mobile number"))
            }
            parsed.customer = customer
        }
        parsed.end = object["end"] as? Bool ?? false
        guard parsed.text != nil || (parsed.session != nil && parsed.end) else {
            return .failure(InputProblem(message: "each line must be a JSON object with a \"text\" string"))
        }
        return .success(parsed)
    }
}


extension RuleOptions {
    /// The operator data for a live conversation: the SQLite database at `--db`, created and seeded
    /// with the demo accounts on first use.
    func openQueue(_ ruleSet: RuleSet) throws -> SQLiteHandoffQueue {
        do {
            return try SQLiteHandoffQueue(path: db, policy: ruleSet.dialogue.handoff)
        } catch {
            StandardError.write("switchboard: \(error)\n")
            throw ExitCode(1)
        }
    }

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
