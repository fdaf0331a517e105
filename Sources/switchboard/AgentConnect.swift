#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard agent connect`: an agent's live terminal on a running `serve`. The queue updates
/// as it changes; claiming a ticket whose customer is connected opens a live conversation.
struct AgentConnect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Work the queue live on a running 'switchboard serve': claim, talk with the customer, return or resolve.",
        discussion: """
            Type a line to send it to the customer you are serving. Commands: /list (tickets you can take), \
            /all, /claim [ID], /show [ID], /return (back to the bot), /resolve [note], /release (back to the \
            queue), /quit. With --jsonl, standard input and output carry the agent protocol itself \
            (docs/agent-protocol.md); the login line is sent for you.
            """
    )

    @Option(help: "Your agent name.") var name: String
    @Option(help: "Comma-separated skills, e.g. zh,yue,billing.") var skills: String
    @Option(help: "The server's address.") var host = "127.0.0.1"
    @Option(help: "The server's agent port.") var port = 7879
    @Flag(help: "Speak the jsonl agent protocol on stdin/stdout.") var jsonl = false

    func validate() throws {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 64 else { throw ValidationError("--name must be 1–64 characters") }
        guard skills.split(separator: ",").contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ValidationError("--skills needs at least one skill, e.g. zh or zh,yue,billing")
        }
    }

    func run() throws {
        let fd = try Self.connect(host: host, port: port)
        let socket = AgentSocket(fd: fd)
        let skillList = skills.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        socket.send(.object([("cmd", .string("login")), ("name", .string(name)), ("skills", .array(skillList.map { .string($0) }))]))
        let view = AgentTerminal(raw: jsonl)
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            socket.readLines { line in view.show(line) }
            view.closed()
            done.signal()
        }
        reader.start()
        if !jsonl { view.say("Connecting to \(host):\(port) as \(name)… type /help for commands.") }
        let input = LineReader()
        while let bytes = input.next() {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if jsonl {
                socket.sendRaw(text)
                continue
            }
            guard let command = Self.command(for: text) else {
                view.say(Self.help)
                continue
            }
            if case .quit = command { break }
            if case .send(let value) = command { socket.send(value) }
        }
        socket.send(.object([("cmd", .string("logout"))]))
        shutdown(fd, Int32(SHUT_WR))
        _ = done.wait(timeout: .now() + 2)
    }

    enum Typed {
        case send(JSONValue)
        case quit
    }

    static let help = """
        /list            tickets you can take (the queue also updates by itself)
        /all             every waiting ticket
        /claim [ID]      take the most urgent ticket you can serve, or that one
        /show [ID]       the handoff packet: summary, slots, the transcript
        /return          give the customer back to the bot (everything said is kept)
        /resolve [note]  close the case; the customer is told and the chat ends
        /release         put the ticket back in the queue for someone else
        /quit            sign out (a ticket you hold goes back to the queue)
        anything else    is sent to the customer you are serving
        """

    static func command(for text: String) -> Typed? {
        guard text.hasPrefix("/") else { return .send(.object([("cmd", .string("say")), ("text", .string(text))])) }
        let parts = text.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
        func cmd(_ name: String, _ extra: [(String, JSONValue)] = []) -> Typed { .send(.object([("cmd", .string(name))] + extra)) }
        switch parts.first ?? "" {
        case "list", "l": return cmd("list")
        case "all": return cmd("list", [("all", .bool(true))])
        case "claim", "c": return cmd("claim", argument.map { [("ticket", .string($0))] } ?? [])
        case "show", "s": return cmd("show", argument.map { [("ticket", .string($0))] } ?? [])
        case "return", "r": return cmd("return")
        case "resolve": return cmd("resolve", argument.map { [("note", .string($0))] } ?? [])
        case "release": return cmd("release")
        case "quit", "q", "exit": return .quit
        default: return nil
        }
    }

    static func connect(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            StandardError.write("switchboard agent connect: cannot resolve \(host)\n")
            throw ExitCode(1)
        }
        defer { freeaddrinfo(result) }
        var address: UnsafeMutablePointer<addrinfo>? = first
        while let a = address {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                close(fd)
            }
            address = a.pointee.ai_next
        }
        StandardError.write("switchboard agent connect: cannot connect to \(host):\(port): \(String(cString: strerror(errno))) (is 'switchboard serve' running?)\n")
        throw ExitCode(1)
    }
}

/// The connection to the server: whole lines out, lines in.
final class AgentSocket: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()

    init(fd: Int32) { self.fd = fd }

    func send(_ value: JSONValue) { sendRaw(value.serialized()) }

    func sendRaw(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    func readLines(_ body: (String) -> Void) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += chunk[0..<n]
            while let newline = pending.firstIndex(of: 0x0A) {
                body(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }
}

/// What the agent sees: server events rendered as short lines (or passed through with --jsonl).
final class AgentTerminal: @unchecked Sendable {
    let raw: Bool
    private let lock = NSLock()

    init(raw: Bool) { self.raw = raw }

    func say(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        let output = OutputBuffer()
        output.write(text + "\n")
        output.flush()
    }

    func closed() { if !raw { say("(connection closed)") } }

    func show(_ line: String) {
        if raw { return say(line) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return say(line) }
        let ticket = object["ticket"] as? String ?? ""
        switch object["event"] as? String ?? "" {
        case "welcome":
            say("Signed in as \(object["agent"] as? String ?? "?") (skills: \((object["skills"] as? [String] ?? []).joined(separator: ", ")))")
        case "queue":
            let tickets = object["tickets"] as? [[String: Any]] ?? []
            var lines = ["── queue: \(object["waiting"] as? Int ?? tickets.count) waiting for you ──"]
            for t in tickets.prefix(8) {
                let summary = (t["summary"] as? String ?? "").split(separator: "\n").first.map(String.init) ?? ""
                let waited = (t["waited_seconds"] as? Int ?? 0) / 60
                lines.append("  \(t["ticket"] as? String ?? "?")  P\(t["priority"] as? Int ?? 0)  \((t["skills"] as? [String] ?? []).joined(separator: ","))  \(waited) min"
                             + ((t["live"] as? Bool ?? false) ? "  [online]" : "") + ((t["breached"] as? Bool ?? false) ? "  [SLA!]" : "")
                             + "\n      \(summary)")
            }
            say(lines.joined(separator: "\n"))
        case "claimed":
            guard !ticket.isEmpty else { return say("Nothing in the queue that you can take.") }
            let live = object["live"] as? Bool ?? false
            say("You have \(ticket)." + (live ? " The customer is online: type to talk to them." : " The customer is not connected (call back, then /resolve)."))
            if let packet = object["packet"] as? [String: Any] { showPacket(packet) }
        case "packet":
            if let packet = object["packet"] as? [String: Any] { showPacket(packet) }
        case "customer":
            say("Customer: \(object["text"] as? String ?? "")")
        case "customer_disconnected":
            say("(the customer's connection dropped; they may come back)")
        case "customer_back":
            say("(the customer is back)")
        case "customer_left":
            let callback = object["callback"] as? String
            say("(the customer left \(ticket); " + (callback.map { "it is now a call-back to \($0)" } ?? "no number to call back") + ")")
        case "returned": say("\(ticket) is back with the bot.")
        case "resolved": say("\(ticket) resolved.")
        case "released": say("\(ticket) is back in the queue.")
        case "sent": break
        case "error": say("! \(object["text"] as? String ?? line)")
        case "shutdown", "signed_out": say("(\(object["text"] as? String ?? "signed out"))")
        default: say(line)
        }
    }

    private func showPacket(_ packet: [String: Any]) {
        var lines: [String] = []
        if let summary = packet["summary"] as? [String: Any] {
            let text = summary["zh"] as? String ?? summary["en"] as? String ?? ""
            lines.append(text)
        } else if let summary = packet["summary"] as? String {
            lines.append(summary)
        }
        let transcript = packet["transcript"] as? [[String: Any]] ?? []
        if !transcript.isEmpty { lines.append("── conversation so far ──") }
        for entry in transcript.suffix(20) {
            guard let text = entry["text"] as? String else { continue }
            let who = switch entry["role"] as? String ?? "" {
            case "customer": "Customer"
            case "bot": "Bot"
            case "agent": entry["agent"] as? String ?? "Agent"
            default: "·"
            }
            lines.append("  \(who): \(text)")
        }
        say(lines.joined(separator: "\n"))
    }
}
