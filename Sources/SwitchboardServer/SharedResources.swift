import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore
import SwitchboardStore

/// Classifiers keep working memory between messages, so each is used by one thread at a time:
/// a turn borrows one and gives it back. There are never more than turns running at once.
final class ClassifierPool: @unchecked Sendable {
    private let rules: RuleSet
    private let lock = NIOLock()
    private var free: [Classifier] = []

    init(rules: RuleSet) { self.rules = rules }

    func with<T>(_ body: (Classifier) throws -> T) rethrows -> T {
        let classifier = lock.withLock { free.popLast() } ?? Classifier(rules)
        defer { lock.withLock { free.append(classifier) } }
        return try body(classifier)
    }
}

/// The account data shared by every session of the server: one SQLite connection, one caller at
/// a time, and a short-lived cache in front of it. A turn may read the same account several
/// times, and a SQLite read (file locks, pages) costs more than the rest of the turn. Every
/// change goes through here and drops that customer's entries at once; changes made by other
/// processes are seen within `ttl`.
final class SharedOperatorData: OperatorData, @unchecked Sendable {
    private let inner: SQLiteOperatorData
    private let lock: NIOLock
    private let cacheLock = NIOLock()
    private var cache: [String: Entry] = [:]
    private let ttl: TimeAmount

    private struct Entry {
        var at: NIODeadline
        var account: CustomerAccount??
        var bills: [Bill]?
        var usage: [UsageMonth]?
        var tickets: [Ticket]?
    }

    /// `lock` is the database's: the queue holds the same one, so this process's two connections
    /// never wait on each other's write lock (SQLite would make the loser sleep).
    init(_ inner: SQLiteOperatorData, lock: NIOLock, ttl: TimeAmount = .seconds(5)) {
        self.inner = inner
        self.lock = lock
        self.ttl = ttl
    }

    private func cached<T>(_ phone: String, _ field: WritableKeyPath<Entry, T?>, _ load: () -> T) -> T {
        let now = NIODeadline.now()
        if let hit = cacheLock.withLock({ () -> T? in
            guard let entry = cache[phone], now - entry.at < ttl else { return nil }
            return entry[keyPath: field]
        }) {
            return hit
        }
        let value = lock.withLock(load)
        cacheLock.withLock {
            if cache.count > 50_000 { cache.removeAll(keepingCapacity: true) }
            var entry = cache[phone].flatMap { now - $0.at < ttl ? $0 : nil } ?? Entry(at: now)
            entry[keyPath: field] = value
            cache[phone] = entry
        }
        return value
    }

    private func changed(_ phone: String) { cacheLock.withLock { _ = cache.removeValue(forKey: phone) } }

    func account(phone: String) -> CustomerAccount? { cached(phone, \.account) { inner.account(phone: phone) } }
    func bills(phone: String) -> [Bill] { cached(phone, \.bills) { inner.bills(phone: phone) } }
    func usageHistory(phone: String) -> [UsageMonth] { cached(phone, \.usage) { inner.usageHistory(phone: phone) } }
    func tickets(phone: String) -> [Ticket] { cached(phone, \.tickets) { inner.tickets(phone: phone) } }
    /// Never cached: a PIN is checked against the database every time.
    func verify(phone: String, pin: String) -> Bool { lock.withLock { inner.verify(phone: phone, pin: pin) } }

    func createTicket(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket {
        defer { changed(draft.phone) }
        lock.lock()
        defer { lock.unlock() }
        return try inner.createTicket(draft, at: time)
    }
    func schedulePlanChange(phone: String, to code: String) throws(OperatorDataError) {
        defer { changed(phone) }
        lock.lock()
        defer { lock.unlock() }
        return try inner.schedulePlanChange(phone: phone, to: code)
    }
    func setAddon(phone: String, code: String, active: Bool) throws(OperatorDataError) {
        defer { changed(phone) }
        lock.lock()
        defer { lock.unlock() }
        return try inner.setAddon(phone: phone, code: code, active: active)
    }
}

/// The handoff queue shared by the server's sessions and its agents: one SQLite connection, one
/// caller at a time. A commit holds it for a fraction of a millisecond; other sessions' turns do
/// not touch it unless they are handing off or waiting.
final class SharedQueue: HandoffQueue, @unchecked Sendable {
    let inner: SQLiteHandoffQueue
    private let lock: NIOLock
    /// Agents signed in, counted at most once a second (every handoff and waiting turn asks).
    private var online: (count: Int, at: Date)?
    /// Ticket states read in the last second: a waiting customer's every message asks. Local
    /// changes clear them; an agent working from another process is seen within a second.
    private var states: [String: (TicketState?, NIODeadline)] = [:]

    init(_ inner: SQLiteHandoffQueue, lock: NIOLock) {
        self.inner = inner
        self.lock = lock
    }

    func enqueue(_ packet: HandoffPacket, at now: Date) throws -> String {
        try lock.withLock { try inner.enqueue(packet, at: now) }
    }
    func state(of ticket: String) -> TicketState? {
        lock.withLock {
            let now = NIODeadline.now()
            if let (state, at) = states[ticket], now - at < .seconds(1) { return state }
            let state = inner.state(of: ticket)
            if states.count > 20_000 { states.removeAll(keepingCapacity: true) }
            states[ticket] = (state, now)
            return state
        }
    }
    /// Places in the queue, read at most once a second per ticket (a waiting customer's every
    /// message shows it).
    private var positions: [String: (QueuePosition?, NIODeadline)] = [:]

    func position(of ticket: String, at now: Date) -> QueuePosition? {
        lock.withLock {
            let clock = NIODeadline.now()
            if let (position, at) = positions[ticket], clock - at < .seconds(1) { return position }
            let position = inner.position(of: ticket, at: now)
            if positions.count > 20_000 { positions.removeAll(keepingCapacity: true) }
            positions[ticket] = (position, clock)
            return position
        }
    }
    func agentsOnline(at now: Date) -> Int {
        lock.withLock {
            if let online, now.timeIntervalSince(online.at) < 1, now >= online.at { return online.count }
            let count = inner.agentsOnline(at: now)
            online = (count, now)
            return count
        }
    }
    func append(ticket: String, role: String, text: String, at now: Date) throws {
        try lock.withLock { try inner.append(ticket: ticket, role: role, text: text, at: now) }
    }
    func requestCallback(ticket: String, phone: String, at now: Date) throws {
        try lock.withLock {
            states[ticket] = nil
            try inner.requestCallback(ticket: ticket, phone: phone, at: now)
        }
    }

    /// Anything else the agents' side needs, under the same lock.
    func withQueue<T>(_ body: (SQLiteHandoffQueue) throws -> T) rethrows -> T {
        try lock.withLock {
            online = nil
            states.removeAll(keepingCapacity: true)
            positions.removeAll(keepingCapacity: true)
            return try body(inner)
        }
    }
}
