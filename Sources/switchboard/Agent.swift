import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardStore

/// `switchboard agent`: the human side of the queue. No rule set is loaded: an agent command only
/// opens the database, so it answers at once.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Work the human queue: sign in, list, claim, read, note, resolve, release, return.",
        subcommands: [Login.self, Logout.self, List.self, Claim.self, Show.self, Note.self, Resolve.self, Release.self,
                      Return.self, AgentConnect.self]
    )

    struct Login: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign in with your skills (languages, dialects, domains).")
        @OptionGroup var options: RuleOptions
        @Option(help: "Your agent name.") var name: String
        @Option(help: "Comma-separated skills, e.g. zh,yue,billing.") var skills: String
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard skills.split(separator: ",").contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw ValidationError("--skills needs at least one skill, e.g. zh or zh,yue,billing")
            }
        }

        func run() throws {
            try AgentCommand.guarded(options) { queue in
                let agent = try queue.login(name: try AgentCommand.checkedName(name), skills: skills.split(separator: ",").map(String.init), at: Date())
                let waiting = try queue.waiting(at: Date(), skills: agent.skills).count
                if json {
                    print(JSONValue.object([("agent", .string(agent.name)), ("skills", .array(agent.skills.map { .string($0) })),
                                            ("signed_in", .bool(true)), ("waiting_for_you", .int(waiting))]).serialized())
                } else {
                    print("Signed in as \(agent.name) (skills: \(agent.skills.joined(separator: ", "))). "
                          + "\(waiting) ticket(s) waiting that you can take.")
                }
            }
        }
    }

    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign out; with nobody signed in, customers are offered a call-back.")
        @OptionGroup var options: RuleOptions
        @Option(help: "Your agent name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try AgentCommand.guarded(options) { queue in
                let known = try queue.logout(name: name, at: Date())
                guard known else { throw QueueError("no agent named '\(name)'") }
                print(json ? JSONValue.object([("agent", .string(name)), ("signed_in", .bool(false))]).serialized() : "Signed out \(name).")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Waiting tickets, most urgent first.")
        @OptionGroup var options: RuleOptions
        @Option(help: "Only tickets this agent has the skills for.") var name: String?
        @Flag(help: "Every ticket, newest first, whatever its status.") var all = false
        @Flag(help: "The tickets --name holds now.") var mine = false

        func validate() throws {
            if mine && name == nil { throw ValidationError("--mine needs --name") }
        }
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            try AgentCommand.guarded(options) { queue in
                let now = Date()
                var skills: [String]?
                if let name {
                    guard let agent = try queue.agent(named: name) else { throw QueueError("no agent named '\(name)': log in first") }
                    skills = agent.skills
                }
                let tickets = mine ? try queue.all(limit: 1000).filter { $0.status == .claimed && $0.agent == name }
                    : all ? try queue.all() : try queue.waiting(at: now, skills: skills)
                if json {
                    print(JSONValue.array(tickets.map { AgentCommand.brief($0, now: now) }).serialized())
                    return
                }
                guard !tickets.isEmpty else {
                    print(mine ? "You hold no tickets." : all ? "No tickets yet." : "Nobody is waiting\(name.map { " for \($0)" } ?? "").")
                    return
                }
                for t in tickets { print(AgentView.listLine(t, now: now)) }
            }
        }
    }

    struct Claim: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a ticket: the next one you can handle, or one by id.")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id (omit with --next).") var ticket: String?
        @Flag(help: "The most urgent waiting ticket your skills match.") var next = false
        @Option(help: "Your agent name.") var name: String
        @Flag(help: "Print the claimed ticket as JSON (null when nothing matches).") var json = false

        func validate() throws {
            if next == (ticket != nil) { throw ValidationError(next ? "give a ticket id or --next, not both" : "give a ticket id, or --next for the most urgent one you can take") }
        }

        func run() throws {
            try AgentCommand.guarded(options) { queue in
                let now = Date()
                let claimed = try ticket.map { try queue.claim($0, agent: name, at: now) } ?? queue.claimNext(agent: name, at: now)
                guard let claimed else {
                    print(json ? "null" : "Nothing waiting that matches your skills.")
                    return
                }
                if json {
                    print(try AgentCommand.full(claimed, queue: queue, now: now, viewer: name))
                } else {
                    print("Claimed \(claimed.id).\n")
                    print(AgentView.render(claimed, log: try queue.log(of: claimed.id), now: now, language: nil, viewer: name))
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a ticket: summary, cues, slots, then the transcript.")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id.") var ticket: String
        @Option(help: "Summary language (zh or en); default: the customer's.") var lang: String?
        @Option(help: "Your agent name: the agent holding the ticket also sees the call-back number in full.") var name: String?
        @Flag(help: "Print the full handoff packet as JSON.") var json = false

        func run() throws {
            try AgentCommand.guarded(options) { queue in
                guard let t = try queue.ticket(ticket) else { throw QueueError("no ticket \(ticket)") }
                if json {
                    print(try AgentCommand.full(t, queue: queue, now: Date(), viewer: name))
                } else {
                    print(AgentView.render(t, log: try queue.log(of: t.id), now: Date(), language: lang.flatMap(Language.init(rawValue:)),
                                           viewer: name))
                }
            }
        }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to a ticket.")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id.") var ticket: String
        @Argument(help: "The note (or use --note).") var text: String?
        @Option(help: "The note.") var note: String?
        @Option(help: "Your agent name.") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            guard let body = note ?? text, !body.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("give the note: switchboard agent note ID --note TEXT")
            }
            try AgentCommand.guarded(options) { queue in
                try queue.note(ticket, agent: name, text: Masking.mask(body), at: Date())
                print(json ? JSONValue.object([("ticket", .string(ticket)), ("noted", .bool(true))]).serialized() : "Noted on \(ticket).")
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a claimed ticket with a note of what was done.")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id.") var ticket: String
        @Option(help: "What was done.") var note: String
        @Option(help: "Your agent name.") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try AgentCommand.moved(options, ticket, .resolve, name: name, note: Masking.mask(note), json: json)
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a claimed ticket back in the queue, keeping its place.")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id.") var ticket: String
        @Option(help: "Your agent name.") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try AgentCommand.moved(options, ticket, .release, name: name, note: nil, json: json)
        }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "return", abstract: "Hand the conversation back to the bot (the customer's next message goes to it).")
        @OptionGroup var options: RuleOptions
        @Argument(help: "The ticket id.") var ticket: String
        @Option(help: "Why, for the record.") var note: String?
        @Option(help: "Your agent name.") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try AgentCommand.moved(options, ticket, .handBack, name: name, note: note.map(Masking.mask), json: json)
        }
    }

    // MARK: Shared

    static func checkedName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 64, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
            !trimmed.contains(",")
        else { throw QueueError("an agent name is 1–64 characters, without commas or control characters") }
        return trimmed
    }

    static func moved(_ options: RuleOptions, _ id: String, _ move: SQLiteHandoffQueue.Move, name: String?, note: String?,
                      json: Bool) throws
    {
        try guarded(options) { queue in
            let now = Date()
            let t = try queue.move(id, move, agent: name, note: note, at: now)
            if json {
                print(brief(t, now: now).serialized())
            } else {
                let what = switch move {
                case .resolve: "Resolved"
                case .release: "Released to the queue:"
                case .handBack: "Returned to the bot:"
                }
                print("\(what) \(t.id).")
            }
        }
    }

    /// Opens the queue and turns every failure into one line on stderr and exit status 1.
    static func guarded(_ options: RuleOptions, _ body: (SQLiteHandoffQueue) throws -> Void) throws {
        do {
            let queue = try SQLiteHandoffQueue(path: options.db)
            try body(queue)
        } catch let error as ValidationError {
            throw error
        } catch {
            StandardError.write("switchboard agent: \(error)\n")
            throw ExitCode(1)
        }
    }

    static func brief(_ t: QueuedTicket, now: Date) -> JSONValue {
        .object([
            ("ticket", .string(t.id)), ("status", .string(t.status.rawValue)), ("priority", .int(t.priority)),
            ("reasons", .array(t.reasons.map { .string($0) })), ("skills", .array(t.skills.map { .string($0) })),
            ("language", .string(t.language)), ("dialect", t.dialect.map { .string($0) } ?? .null), ("elderly", .bool(t.elderly)),
            ("created_at", .string(TranscriptEvent.timestamp(t.createdAt))),
            ("waiting_seconds", .int(max(0, Int((t.claimedAt ?? t.closedAt ?? now).timeIntervalSince(t.createdAt))))),
            ("sla_due_at", .string(TranscriptEvent.timestamp(t.slaDueAt))), ("breached", .bool(t.isBreached(at: now))),
            ("agent", t.agent.map { .string($0) } ?? .null), ("callback", .bool(t.callbackPhone != nil)),
            ("summary", .string(t.summary)),
        ])
    }

    /// The stored packet with the queue's own fields added: one JSON object.
    /// The number to call back, in full only for the agent holding the ticket (they must dial it);
    /// masked for everyone else.
    static func callbackNumber(_ t: QueuedTicket, viewer: String?) -> String? {
        guard let phone = t.callbackPhone else { return nil }
        return t.status == .claimed && viewer != nil && t.agent == viewer ? phone : Masking.mask(phone)
    }

    static func full(_ t: QueuedTicket, queue: SQLiteHandoffQueue, now: Date, viewer: String? = nil) throws -> String {
        let log = try queue.log(of: t.id)
        let extra: [(String, JSONValue)] = [
            ("status", .string(t.status.rawValue)), ("agent", t.agent.map { .string($0) } ?? .null),
            ("claimed_at", t.claimedAt.map { .string(TranscriptEvent.timestamp($0)) } ?? .null),
            ("closed_at", t.closedAt.map { .string(TranscriptEvent.timestamp($0)) } ?? .null),
            ("note", t.note.map { .string($0) } ?? .null), ("sla_due_at", .string(TranscriptEvent.timestamp(t.slaDueAt))),
            ("breached", .bool(t.isBreached(at: now))), ("callback", callbackNumber(t, viewer: viewer).map { .string($0) } ?? .null),
            ("waiting_messages", .array(log.filter { $0.kind == "message" }.map(entry))),
            ("notes", .array(log.filter { $0.kind == "note" }.map(entry))),
            ("history", .array(log.filter { $0.kind == "event" }.map(entry))),
        ]
        var out = ""
        JSONValue.object(extra).write(to: &out)
        // The packet's own object follows the queue's fields: `{queue fields, packet fields}`.
        let packet = t.packetJSON.trimmingCharacters(in: .whitespacesAndNewlines)
        guard packet.hasPrefix("{"), out.hasSuffix("}") else { return out }
        out.removeLast()
        return packet == "{}" ? out + "}" : out + "," + packet.dropFirst()
    }

    static func entry(_ e: TicketLogEntry) -> JSONValue {
        .object([("at", .string(TranscriptEvent.timestamp(e.at))), ("role", .string(e.role)),
                 ("author", e.author.map { .string($0) } ?? .null), ("text", .string(e.text))])
    }
}
