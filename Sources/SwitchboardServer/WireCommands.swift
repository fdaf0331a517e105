import Foundation
import SwitchboardCore

/// A line from a jsonl customer connection: `{"text": …}`, optionally with `"customer"` (a
/// number the channel has already authenticated), or `{"resume": SESSION}` as the first line of a
/// new connection, or `{"end": true}`.
struct CustomerLine: Equatable {
    var text: String?
    var customer: String?
    var resume: String?
    var end = false

    struct Problem: Error { var message: String }

    static func parse(_ line: String) -> Result<CustomerLine, Problem> {
        guard let object = JSONReader.parse(Array(line.utf8))?.object else {
            return .failure(Problem(message: "each line must be a JSON object: {\"text\": \"…\"}"))
        }
        var parsed = CustomerLine()
        for key in ["text", "customer", "resume"] where object[key] != nil && object[key]?.string == nil {
            return .failure(Problem(message: "\"\(key)\" must be a string"))
        }
        parsed.text = object["text"]?.string
        if let phone = object["customer"]?.string {
            guard phone.utf8.count == 11, phone.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return .failure(Problem(message: "\"customer\" must be an 11-digit mobile number"))
            }
            parsed.customer = phone
        }
        if let id = object["resume"]?.string {
            guard (1...64).contains(id.utf8.count) else { return .failure(Problem(message: "\"resume\" must be the session id from the start event")) }
            parsed.resume = id
        }
        parsed.end = object["end"]?.bool ?? false
        guard parsed.text != nil || parsed.resume != nil || parsed.end else {
            return .failure(Problem(message: "each line must be a JSON object with a \"text\" string"))
        }
        return .success(parsed)
    }
}

/// A line from an agent connection (the jsonl agent protocol, `docs/agent-protocol.md`).
enum AgentCommand: Equatable {
    case login(name: String, skills: [String])
    case list(all: Bool)
    case claim(ticket: String?)
    case show(ticket: String?)
    case say(String)
    case handBack
    case resolve(note: String?)
    case release
    case logout

    static func parse(_ line: String) -> AgentCommand? {
        guard let object = JSONReader.parse(Array(line.utf8))?.object, let cmd = object["cmd"]?.string else { return nil }
        let ticket = object["ticket"]?.string
        switch cmd {
        case "login":
            guard let name = object["name"]?.string, !name.isEmpty, name.count <= 64 else { return nil }
            let skills: [String]
            if let list = object["skills"]?.strings {
                skills = list
            } else if let text = object["skills"]?.string {
                skills = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                return nil
            }
            return .login(name: name, skills: skills)
        case "list": return .list(all: object["all"]?.bool ?? false)
        case "claim": return .claim(ticket: ticket)
        case "show": return .show(ticket: ticket)
        case "say":
            guard let text = object["text"]?.string, !text.isEmpty else { return nil }
            return .say(text)
        case "return": return .handBack
        case "resolve": return .resolve(note: object["note"]?.string)
        case "release": return .release
        case "logout": return .logout
        default: return nil
        }
    }
}
