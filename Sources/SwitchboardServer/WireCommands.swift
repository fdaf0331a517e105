import Foundation

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
        // Nearly every line is a flat object of strings and booleans: read those directly
        // (Foundation's parser costs a fifth of a turn); anything else goes the long way.
        if let flat = FlatJSON.object(line.utf8) {
            return from(strings: flat.strings, bools: flat.bools, others: flat.others)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return .failure(Problem(message: "each line must be a JSON object: {\"text\": \"…\"}"))
        }
        var parsed = CustomerLine()
        if let text = object["text"] {
            guard let text = text as? String else { return .failure(Problem(message: "\"text\" must be a string")) }
            parsed.text = text
        }
        if let customer = object["customer"] {
            guard let phone = customer as? String, phone.utf8.count == 11, phone.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return .failure(Problem(message: "\"customer\" must be an 11-digit mobile number"))
            }
            parsed.customer = phone
        }
        if let resume = object["resume"] {
            guard let id = resume as? String, (1...64).contains(id.utf8.count) else {
                return .failure(Problem(message: "\"resume\" must be the session id from the start event"))
            }
            parsed.resume = id
        }
        parsed.end = object["end"] as? Bool ?? false
        guard parsed.text != nil || parsed.resume != nil || parsed.end else {
            return .failure(Problem(message: "each line must be a JSON object with a \"text\" string"))
        }
        return .success(parsed)
    }
}

extension CustomerLine {
    /// The same checks as `parse`, for an object already read by `FlatJSON`.
    static func from(strings: [String: String], bools: [String: Bool], others: Set<String>) -> Result<CustomerLine, Problem> {
        for key in ["text", "customer", "resume"] where others.contains(key) || bools[key] != nil {
            return .failure(Problem(message: "\"\(key)\" must be a string"))
        }
        var parsed = CustomerLine()
        parsed.text = strings["text"]
        if let phone = strings["customer"] {
            guard phone.utf8.count == 11, phone.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return .failure(Problem(message: "\"customer\" must be an 11-digit mobile number"))
            }
            parsed.customer = phone
        }
        if let id = strings["resume"] {
            guard (1...64).contains(id.utf8.count) else { return .failure(Problem(message: "\"resume\" must be the session id from the start event")) }
            parsed.resume = id
        }
        parsed.end = bools["end"] ?? false
        guard parsed.text != nil || parsed.resume != nil || parsed.end else {
            return .failure(Problem(message: "each line must be a JSON object with a \"text\" string"))
        }
        return .success(parsed)
    }
}

/// A reader for the common line: one JSON object whose values are strings, booleans, numbers or
/// null (numbers and null are noted, not kept). Returns nil for anything it does not read
/// (nested values, bad syntax), and the caller falls back to Foundation.
enum FlatJSON {
    struct Object {
        var strings: [String: String] = [:]
        var bools: [String: Bool] = [:]
        var others: Set<String> = []
    }

    static func object(_ utf8: String.UTF8View) -> Object? {
        var bytes = Array(utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> Object? in
            var i = 0
            let n = buffer.count
            func skip() { while i < n, buffer[i] == 0x20 || buffer[i] == 0x09 || buffer[i] == 0x0D || buffer[i] == 0x0A { i += 1 } }
            func string() -> String? {
                guard i < n, buffer[i] == 0x22 else { return nil }
                i += 1
                var out: [UInt8] = []
                while i < n {
                    let b = buffer[i]
                    if b == 0x22 {
                        i += 1
                        return String(validating: out, as: UTF8.self)
                    }
                    if b < 0x20 { return nil }
                    if b != 0x5C {
                        out.append(b)
                        i += 1
                        continue
                    }
                    i += 1
                    guard i < n else { return nil }
                    switch buffer[i] {
                    case 0x22: out.append(0x22)
                    case 0x5C: out.append(0x5C)
                    case 0x2F: out.append(0x2F)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75:
                        guard let unit = hex4(i + 1) else { return nil }
                        i += 4
                        var scalar = UInt32(unit)
                        if (0xD800...0xDBFF).contains(unit) {
                            guard i + 6 < n, buffer[i + 1] == 0x5C, buffer[i + 2] == 0x75, let low = hex4(i + 3),
                                (0xDC00...0xDFFF).contains(low) else { return nil }
                            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                            i += 6
                        } else if (0xDC00...0xDFFF).contains(unit) {
                            return nil
                        }
                        guard let s = Unicode.Scalar(scalar) else { return nil }
                        out += Array(String(Character(s)).utf8)
                    default: return nil
                    }
                    i += 1
                }
                return nil
            }
            func hex4(_ at: Int) -> UInt16? {
                guard at + 4 <= n else { return nil }
                var v: UInt16 = 0
                for k in at..<at + 4 {
                    let c = buffer[k]
                    let d: UInt8
                    switch c {
                    case 0x30...0x39: d = c - 0x30
                    case 0x41...0x46: d = c - 0x37
                    case 0x61...0x66: d = c - 0x57
                    default: return nil
                    }
                    v = v << 4 | UInt16(d)
                }
                return v
            }
            func literal(_ word: StaticString) -> Bool {
                let count = word.utf8CodeUnitCount
                guard i + count <= n else { return false }
                for k in 0..<count where buffer[i + k] != word.utf8Start[k] { return false }
                i += count
                return true
            }
            var object = Object()
            skip()
            guard i < n, buffer[i] == 0x7B else { return nil }
            i += 1
            skip()
            if i < n, buffer[i] == 0x7D {
                i += 1
                skip()
                return i == n ? object : nil
            }
            while true {
                skip()
                guard let key = string() else { return nil }
                skip()
                guard i < n, buffer[i] == 0x3A else { return nil }
                i += 1
                skip()
                guard i < n else { return nil }
                switch buffer[i] {
                case 0x22:
                    guard let value = string() else { return nil }
                    object.strings[key] = value
                case 0x74:
                    guard literal("true") else { return nil }
                    object.bools[key] = true
                case 0x66:
                    guard literal("false") else { return nil }
                    object.bools[key] = false
                case 0x6E:
                    guard literal("null") else { return nil }
                    object.others.insert(key)
                case 0x2D, 0x30...0x39:
                    while i < n, (0x30...0x39).contains(buffer[i]) || buffer[i] == 0x2D || buffer[i] == 0x2B || buffer[i] == 0x2E
                        || buffer[i] == 0x65 || buffer[i] == 0x45 { i += 1 }
                    object.others.insert(key)
                default:
                    return nil
                }
                skip()
                guard i < n else { return nil }
                if buffer[i] == 0x2C {
                    i += 1
                    continue
                }
                guard buffer[i] == 0x7D else { return nil }
                i += 1
                skip()
                return i == n ? object : nil
            }
        }
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
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let cmd = object["cmd"] as? String
        else { return nil }
        let ticket = object["ticket"] as? String
        switch cmd {
        case "login":
            guard let name = object["name"] as? String, !name.isEmpty, name.count <= 64 else { return nil }
            let skills: [String]
            if let list = object["skills"] as? [String] {
                skills = list
            } else if let text = object["skills"] as? String {
                skills = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                return nil
            }
            return .login(name: name, skills: skills)
        case "list": return .list(all: object["all"] as? Bool ?? false)
        case "claim": return .claim(ticket: ticket)
        case "show": return .show(ticket: ticket)
        case "say":
            guard let text = object["text"] as? String, !text.isEmpty else { return nil }
            return .say(text)
        case "return": return .handBack
        case "resolve": return .resolve(note: object["note"] as? String)
        case "release": return .release
        case "logout": return .logout
        default: return nil
        }
    }
}
