import CSQLite
import Foundation
import SwitchboardCore

/// One ticket as the queue holds it.
public struct QueuedTicket: Sendable {
    public var id: String
    public var session: String
    public var createdAt: Date
    public var priority: Int
    public var language: String
    public var dialect: String?
    public var skills: [String]
    public var reasons: [String]
    public var elderly: Bool
    public var status: TicketStatus
    public var slaDueAt: Date
    public var breached: Bool
    public var agent: String?
    public var claimedAt: Date?
    public var closedAt: Date?
    public var note: String?
    /// The number to call back, as stored (shown masked).
    public var callbackPhone: String?
    public var callbackAt: Date?
    public var summary: String
    /// The packet as stored (JSON).
    public var packetJSON: String
    /// Until this moment the dialect in `skills` is required; after it, any agent with the rest may take the ticket.
    public var dialectUntil: Date?

    /// Whether an agent with `have` may take the ticket now: every skill it lists, except the dialect
    /// once the ticket has waited past `dialectUntil` for a dialect speaker.
    public func canBeTaken(by have: Set<String>, at now: Date) -> Bool {
        SQLiteHandoffQueue.covers(have, skills: skills, dialect: dialect, dialectUntil: dialectUntil, at: now)
    }

    /// Past its SLA: marked so, or still waiting after its deadline (marked at the next list or claim).
    public func isBreached(at now: Date) -> Bool { breached || (status == .waiting && now > slaDueAt) }
}

/// A line of a ticket's log: a message the customer sent while waiting, an agent's note, or
/// something that happened to the ticket (claimed, released…).
public struct TicketLogEntry: Sendable {
    public var at: Date
    public var kind: String
    public var role: String
    public var author: String?
    public var text: String
}

/// An agent as the queue knows them.
public struct Agent: Sendable {
    public var name: String
    public var skills: [String]
    public var signedIn: Bool
    public var seenAt: Date
}

/// Why an agent command could not be done, said so the agent knows what to do next.
public struct QueueError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The human queue in SQLite: shared by every bot process and every agent on one database file
/// (WAL, a busy timeout, and write transactions that take the lock up front). Enqueue commits before
/// it returns, so a customer told "you are in the queue" is in it even if the bot is killed next;
/// a claim is one `UPDATE … WHERE status = 'waiting'` inside the write lock, so two agents racing
/// for one ticket cannot both get it.
public final class SQLiteHandoffQueue: HandoffQueue {
    let database: Database
    public let policy: HandoffPolicy
    /// An agent counts as signed in for this long after their last command or login.
    public var shift: TimeInterval = 12 * 3600

    public init(path: String, policy: HandoffPolicy = HandoffPolicy()) throws(StoreError) {
        database = try Database(path: path)
        try Migrations.apply(to: database)
        self.policy = policy
    }

    static func ms(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(_ ms: Int) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    /// Retries a write when another process holds the lock past the busy timeout.
    private func write<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        var attempt = 0
        while true {
            do throws(StoreError) {
                return try database.transaction(.immediate, body)
            } catch {
                attempt += 1
                guard error.code == SQLITE_BUSY || error.code == SQLITE_LOCKED, attempt < 5 else { throw error }
                usleep(useconds_t(20_000 * attempt))
            }
        }
    }

    // MARK: The bot's side

    public func enqueue(_ packet: HandoffPacket, at now: Date) throws -> String {
        try enqueueTicket(packet, at: now)
    }

    /// `enqueue` with the store's own error type.
    public func enqueueTicket(_ packet: HandoffPacket, at now: Date) throws(StoreError) -> String {
        let created = Self.ms(now)
        let due = created + policy.sla(priority: packet.priority) * 60_000
        // Encoded before the write lock is taken; the ticket id goes in once the lock is held.
        var template = packet
        template.ticket = HandoffPacket.ticketPlaceholder
        let encoded = template.encoded()
        return try write { () throws(StoreError) -> String in
            let seq = (try database.queryFirst("SELECT COALESCE(MAX(seq), 0) + 1 FROM handoff_tickets") { $0.int(0) }) ?? 1
            var stored = packet
            stored.ticket = HandoffTicketID.make(sequence: seq, at: now)
            let json = String(decoding: HandoffPacket.encoded(encoded, ticket: stored.ticket) ?? stored.encoded(), as: UTF8.self)
            try database.execute("""
                INSERT INTO handoff_tickets (seq, id, session, created_at, priority, language, dialect, skills, dialect_until,
                    reasons, elderly, status, sla_due_at, summary, packet)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)
                """, [.int(seq), .text(stored.ticket), .text(packet.session), .int(created), .int(packet.priority),
                      .text(packet.language), .nullable(packet.dialect), .text(packet.skills.joined(separator: ",")),
                      packet.dialect == nil ? .null : .int(created + policy.dialectWaitMinutes * 60_000),
                      .text(packet.reasons.joined(separator: ",")), .bool(packet.elderly), .int(due), .text(packet.summary),
                      .text(json)])
            try log(stored.ticket, at: now, kind: "event", role: "system", author: nil,
                    text: "queued: priority \(packet.priority), skills \(packet.skills.joined(separator: ","))")
            return stored.ticket
        }
    }

    public func state(of ticket: String) -> TicketState? {
        try? database.queryFirst("SELECT status, agent, note, callback_phone IS NOT NULL FROM handoff_tickets WHERE id = ?",
                                 [.text(ticket)]) { row throws(StoreError) in
            TicketState(status: try row.value(0, as: TicketStatus.self), agent: row.optionalText(1), note: row.optionalText(2),
                        callback: row.bool(3))
        } ?? nil
    }

    public func position(of ticket: String, at now: Date) -> QueuePosition? {
        guard let place = try? database.queryFirst("""
            SELECT 1 + (SELECT COUNT(*) FROM handoff_tickets o WHERE o.status = 'waiting' AND o.id != t.id
                AND (o.priority > t.priority OR (o.priority = t.priority AND (o.created_at < t.created_at
                    OR (o.created_at = t.created_at AND o.seq < t.seq)))))
            FROM handoff_tickets t WHERE t.id = ?
            """, [.text(ticket)], { $0.int(0) })
        else { return nil }
        return QueuePosition(place: place, agentsOnline: agentsOnline(at: now), handleMinutes: averageHandleMinutes())
    }

    /// Minutes an agent takes per ticket: measured over the last 50 resolved, once there are 5.
    func averageHandleMinutes() -> Int {
        let measured = try? database.queryFirst("""
            SELECT COUNT(*), AVG(closed_at - claimed_at) FROM (SELECT closed_at, claimed_at FROM handoff_tickets
                WHERE status = 'resolved' AND claimed_at IS NOT NULL ORDER BY closed_at DESC LIMIT 50)
            """) { ($0.int(0), $0.double(1)) }
        if let (count, average) = measured ?? nil, count >= 5 { return max(1, Int((average / 60_000).rounded(.up))) }
        return policy.averageHandleMinutes
    }

    public func agentsOnline(at now: Date) -> Int {
        (try? database.queryFirst("SELECT COUNT(*) FROM agents WHERE signed_in = 1 AND seen_at >= ?",
                                  [.int(Self.ms(now) - Int(shift * 1000))]) { $0.int(0) }) ?? nil ?? 0
    }

    public func append(ticket: String, role: String, text: String, at now: Date) throws {
        try write { () throws(StoreError) in try log(ticket, at: now, kind: "message", role: role, author: nil, text: text) }
    }

    public func requestCallback(ticket: String, phone: String, at now: Date) throws {
        try write { () throws(StoreError) in
            try database.execute("UPDATE handoff_tickets SET callback_phone = ?, callback_at = ? WHERE id = ?",
                                 [.text(phone), .int(Self.ms(now)), .text(ticket)])
            try log(ticket, at: now, kind: "event", role: "customer", author: nil,
                    text: "call-back requested on \(Masking.mask(phone))")
        }
    }

    private func log(_ ticket: String, at now: Date, kind: String, role: String, author: String?, text: String) throws(StoreError) {
        try database.execute("INSERT INTO handoff_log (ticket, at, kind, role, author, text) VALUES (?, ?, ?, ?, ?, ?)",
                             [.text(ticket), .int(Self.ms(now)), .text(kind), .text(role), .nullable(author), .text(text)])
    }

    // MARK: The agent's side

    /// Signs an agent in with their skills (language, dialect, domain: `zh,yue,billing`).
    public func login(name: String, skills: [String], at now: Date) throws(StoreError) -> Agent {
        let skills = Self.normalized(skills)
        _ = try write { () throws(StoreError) in
            try database.execute("""
                INSERT INTO agents (name, skills, signed_in, signed_in_at, seen_at) VALUES (?, ?, 1, ?, ?)
                ON CONFLICT (name) DO UPDATE SET skills = excluded.skills, signed_in = 1, signed_in_at = excluded.signed_in_at,
                    seen_at = excluded.seen_at
                """, [.text(name), .text(skills.joined(separator: ",")), .int(Self.ms(now)), .int(Self.ms(now))])
        }
        return Agent(name: name, skills: skills, signedIn: true, seenAt: now)
    }

    public func logout(name: String, at now: Date) throws(StoreError) -> Bool {
        try write { () throws(StoreError) -> Int in
            try database.execute("UPDATE agents SET signed_in = 0, seen_at = ? WHERE name = ?", [.int(Self.ms(now)), .text(name)])
        } > 0
    }

    public func agent(named name: String) throws(StoreError) -> Agent? {
        try database.queryFirst("SELECT name, skills, signed_in, seen_at FROM agents WHERE name = ?", [.text(name)]) {
            row throws(StoreError) in
            Agent(name: try row.text(0), skills: Self.split(try row.text(1)), signedIn: row.bool(2), seenAt: Self.date(row.int(3)))
        }
    }

    static func normalized(_ skills: [String]) -> [String] {
        var seen: [String] = []
        for s in skills.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !s.isEmpty && !seen.contains(s) {
            seen.append(s)
        }
        return seen
    }

    static func split(_ list: String) -> [String] { list.split(separator: ",").map(String.init) }

    /// Skill matching: all of `skills`, or all but the dialect once its wait is over.
    static func covers(_ have: Set<String>, skills: [String], dialect: String?, dialectUntil: Date?, at now: Date) -> Bool {
        if skills.allSatisfy(have.contains) { return true }
        guard let dialect, let until = dialectUntil, now >= until else { return false }
        return skills.allSatisfy { $0 == dialect || have.contains($0) }
    }

    private static let columns = """
        id, session, created_at, priority, language, dialect, skills, reasons, elderly, status, sla_due_at, breached, agent,
        claimed_at, closed_at, note, callback_phone, callback_at, summary, packet, dialect_until
        """

    private static func ticket(_ row: Row) throws(StoreError) -> QueuedTicket {
        QueuedTicket(
            id: try row.text(0), session: try row.text(1), createdAt: date(row.int(2)), priority: row.int(3),
            language: try row.text(4), dialect: row.optionalText(5), skills: split(try row.text(6)), reasons: split(try row.text(7)),
            elderly: row.bool(8), status: try row.value(9, as: TicketStatus.self), slaDueAt: date(row.int(10)),
            breached: row.bool(11), agent: row.optionalText(12), claimedAt: row.optionalInt(13).map(date),
            closedAt: row.optionalInt(14).map(date), note: row.optionalText(15), callbackPhone: row.optionalText(16),
            callbackAt: row.optionalInt(17).map(date), summary: try row.text(18), packetJSON: try row.text(19),
            dialectUntil: row.optionalInt(20).map(date))
    }

    /// Marks waiting tickets past their SLA as breached (kept marked after they are claimed).
    private func markBreaches(at now: Date) throws(StoreError) {
        try database.execute("UPDATE handoff_tickets INDEXED BY handoff_tickets_sla SET breached = 1 WHERE status = 'waiting' AND breached = 0 AND sla_due_at < ?",
                             [.int(Self.ms(now))])
    }

    /// Waiting tickets, most urgent first, then longest waiting; with `skills`, only those the agent can take.
    public func waiting(at now: Date, skills: [String]? = nil) throws(StoreError) -> [QueuedTicket] {
        try write { () throws(StoreError) in try markBreaches(at: now) }
        let all = try database.query("SELECT \(Self.columns) FROM handoff_tickets WHERE status = 'waiting' "
                                     + "ORDER BY priority DESC, created_at, seq", [], Self.ticket)
        guard let skills else { return all }
        let have = Set(Self.normalized(skills))
        return all.filter { $0.canBeTaken(by: have, at: now) }
    }

    /// How many tickets wait for an agent.
    public func waitingCount() throws(StoreError) -> Int {
        try database.queryFirst("SELECT COUNT(*) FROM handoff_tickets WHERE status = 'waiting'", []) { $0.int(0) } ?? 0
    }

    /// Every ticket, newest first (for `list --all`).
    public func all(limit: Int = 100) throws(StoreError) -> [QueuedTicket] {
        try database.query("SELECT \(Self.columns) FROM handoff_tickets ORDER BY seq DESC LIMIT ?", [.int(limit)], Self.ticket)
    }

    public func ticket(_ id: String) throws(StoreError) -> QueuedTicket? {
        try database.queryFirst("SELECT \(Self.columns) FROM handoff_tickets WHERE id = ?", [.text(id)], Self.ticket)
    }

    public func log(of id: String) throws(StoreError) -> [TicketLogEntry] {
        try database.query("SELECT at, kind, role, author, text FROM handoff_log WHERE ticket = ? ORDER BY at, rowid", [.text(id)]) {
            row throws(StoreError) in
            TicketLogEntry(at: Self.date(row.int(0)), kind: try row.text(1), role: try row.text(2), author: row.optionalText(3),
                           text: try row.text(4))
        }
    }

    /// Claims the most urgent waiting ticket the agent has the skills for, or nil when none.
    public func claimNext(agent name: String, at now: Date) throws -> QueuedTicket? {
        guard let agent = try agent(named: name), agent.signedIn else {
            throw QueueError("agent '\(name)' is not signed in: run 'switchboard agent login --name \(name) --skills …' first")
        }
        let have = Set(agent.skills)
        return try write { () throws(StoreError) -> QueuedTicket? in
            try markBreaches(at: now)
            try touch(name, now)
            // Inside the write lock: nobody can claim between this read and the update. Rows are
            // read in queue order only until the first the agent can take.
            let id = try database.first(
                "SELECT id, skills, dialect, dialect_until FROM handoff_tickets WHERE status = 'waiting' ORDER BY priority DESC, created_at, seq") {
                    row throws(StoreError) -> String? in
                    Self.covers(have, skills: Self.split(try row.text(1)), dialect: row.optionalText(2),
                                dialectUntil: row.optionalInt(3).map(Self.date), at: now) ? try row.text(0) : nil
                }
            guard let id else { return nil }
            return try take(id, agent: name, at: now)
        }
    }

    /// Claims one ticket by id.
    public func claim(_ id: String, agent name: String, at now: Date) throws -> QueuedTicket {
        guard let agent = try agent(named: name), agent.signedIn else {
            throw QueueError("agent '\(name)' is not signed in: run 'switchboard agent login --name \(name) --skills …' first")
        }
        let result = try write { () throws(StoreError) -> Result<QueuedTicket, QueueError> in
            try markBreaches(at: now)
            try touch(name, now)
            guard let current = try ticket(id) else { return .failure(QueueError("no ticket \(id)")) }
            guard current.status == .waiting else {
                return .failure(QueueError("ticket \(id) is \(current.status.rawValue)\(current.agent.map { " by \($0)" } ?? "")"))
            }
            let missing = current.skills.filter { !agent.skills.contains($0) }
            guard current.canBeTaken(by: Set(agent.skills), at: now) else {
                return .failure(QueueError("ticket \(id) needs skills you have not signed in with: \(missing.joined(separator: ", "))"))
            }
            guard let taken = try take(id, agent: name, at: now) else { return .failure(QueueError("ticket \(id) was just taken")) }
            return .success(taken)
        }
        return try result.get()
    }

    /// The claim itself: only a waiting ticket changes hands.
    private func take(_ id: String, agent: String, at now: Date) throws(StoreError) -> QueuedTicket? {
        let changed = try database.execute("""
            UPDATE handoff_tickets SET status = 'claimed', agent = ?, claimed_at = ?,
                breached = breached OR sla_due_at < ? WHERE id = ? AND status = 'waiting'
            """, [.text(agent), .int(Self.ms(now)), .int(Self.ms(now)), .text(id)])
        guard changed == 1 else { return nil }
        try log(id, at: now, kind: "event", role: "agent", author: agent, text: "claimed")
        return try ticket(id)
    }

    private func touch(_ agent: String, _ now: Date) throws(StoreError) {
        try database.execute("UPDATE agents SET seen_at = ? WHERE name = ?", [.int(Self.ms(now)), .text(agent)])
    }

    /// Adds an agent's note to a ticket (any status).
    public func note(_ id: String, agent: String?, text: String, at now: Date) throws {
        let found = try write { () throws(StoreError) -> Bool in
            guard try ticket(id) != nil else { return false }
            if let agent { try touch(agent, now) }
            try log(id, at: now, kind: "note", role: "agent", author: agent, text: text)
            return true
        }
        if !found { throw QueueError("no ticket \(id)") }
    }

    /// A line a live agent wrote to the customer (`serve`), kept with the ticket.
    public func message(_ id: String, agent: String, text: String, at now: Date) throws {
        try write { () throws(StoreError) in
            try touch(agent, now)
            try log(id, at: now, kind: "message", role: "agent", author: agent, text: text)
        }
    }

    /// Moves a ticket on: resolve (claimed → resolved, with a note), release (claimed → waiting,
    /// keeping its place), or hand back to the bot (waiting or claimed → returned).
    public enum Move: String, Sendable { case resolve, release, handBack = "return" }

    public func move(_ id: String, _ move: Move, agent: String?, note: String?, at now: Date) throws -> QueuedTicket {
        let result = try write { () throws(StoreError) -> Result<QueuedTicket, QueueError> in
            guard let current = try ticket(id) else { return .failure(QueueError("no ticket \(id)")) }
            if let agent, current.status == .claimed, current.agent != agent {
                return .failure(QueueError("ticket \(id) is claimed by \(current.agent ?? "another agent"), not \(agent)"))
            }
            let allowed: [TicketStatus] = switch move {
            case .resolve, .release: [.claimed]
            case .handBack: [.waiting, .claimed]
            }
            guard allowed.contains(current.status) else {
                let need = move == .handBack ? "waiting or claimed" : "claimed"
                return .failure(QueueError("ticket \(id) is \(current.status.rawValue); \(move.rawValue) needs it \(need)"))
            }
            let t = Self.ms(now)
            switch move {
            case .resolve:
                try database.execute("UPDATE handoff_tickets SET status = 'resolved', closed_at = ?, note = ? WHERE id = ?",
                                     [.int(t), .nullable(note), .text(id)])
            case .release:
                try database.execute("UPDATE handoff_tickets SET status = 'waiting', agent = NULL, claimed_at = NULL WHERE id = ?",
                                     [.text(id)])
            case .handBack:
                try database.execute("UPDATE handoff_tickets SET status = 'returned', closed_at = ?, note = COALESCE(?, note) WHERE id = ?",
                                     [.int(t), .nullable(note), .text(id)])
            }
            if let agent { try touch(agent, now) }
            let what = switch move {
            case .resolve: "resolved"
            case .release: "released to the queue"
            case .handBack: "returned to the bot"
            }
            try log(id, at: now, kind: "event", role: "agent", author: agent ?? current.agent, text: what + (note.map { ": \($0)" } ?? ""))
            guard let updated = try ticket(id) else { return .failure(QueueError("no ticket \(id)")) }
            return .success(updated)
        }
        return try result.get()
    }
}
