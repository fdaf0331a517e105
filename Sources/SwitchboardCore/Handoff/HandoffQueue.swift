import Foundation

/// Where a handoff ticket stands.
public enum TicketStatus: String, Sendable, Codable, CaseIterable {
    /// In the queue, waiting for an agent.
    case waiting
    /// An agent has it.
    case claimed
    /// Done, with the agent's note.
    case resolved
    /// The agent handed the conversation back to the bot.
    case returned
}

/// What the customer's side needs to know about their ticket.
public struct TicketState: Sendable, Equatable {
    public var status: TicketStatus
    public var agent: String?
    public var note: String?
    public var callback: Bool

    public init(status: TicketStatus, agent: String? = nil, note: String? = nil, callback: Bool = false) {
        self.status = status
        self.agent = agent
        self.note = note
        self.callback = callback
    }
}

/// A waiting customer's place: how many are ahead, how long it should take, who is there.
public struct QueuePosition: Sendable, Equatable {
    /// 1 when next.
    public var place: Int
    public var expectedWaitMinutes: Int
    public var agentsOnline: Int

    public init(place: Int, expectedWaitMinutes: Int, agentsOnline: Int) {
        self.place = place
        self.expectedWaitMinutes = expectedWaitMinutes
        self.agentsOnline = agentsOnline
    }

    /// A place in the queue with its wait: each agent works one ticket at a time.
    public init(place: Int, agentsOnline: Int, handleMinutes: Int) {
        let agents = max(1, agentsOnline)
        self.init(place: place, expectedWaitMinutes: max(1, (place * handleMinutes + agents - 1) / agents),
                  agentsOnline: agentsOnline)
    }
}

/// The human queue as the bot's side sees it: put a ticket in, ask where it stands, add what the
/// customer says while waiting. `SQLiteHandoffQueue` (SwitchboardStore) is the production one;
/// `InMemoryHandoffQueue` serves conversation tests and replay, which must not touch a real queue.
public protocol HandoffQueue: AnyObject {
    /// Stores the packet as a waiting ticket and returns the ticket id. When this returns, the
    /// ticket is durable: the customer may be told.
    func enqueue(_ packet: HandoffPacket, at now: Date) throws -> String
    func state(of ticket: String) -> TicketState?
    func position(of ticket: String, at now: Date) -> QueuePosition?
    /// Agents signed in now.
    func agentsOnline(at now: Date) -> Int
    /// A message the customer sent while waiting (masked), kept with the ticket.
    func append(ticket: String, role: String, text: String, at now: Date) throws
    /// The customer would rather be called back: the ticket stays in the queue, marked for a call.
    func requestCallback(ticket: String, phone: String, at now: Date) throws
}

/// Ticket ids: `HO` + the date (UTC+8) + a number from the queue, e.g. `HO202611290007`.
public enum HandoffTicketID {
    public static func make(sequence: Int, at now: Date) -> String {
        let day = CivilDate(now, offset: 8 * 3600).compact
        let digits = String(sequence)
        return "HO" + day + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// A queue in memory, for tests and replay: same answers as the SQLite queue for one process.
public final class InMemoryHandoffQueue: HandoffQueue {
    public struct Entry: Sendable {
        public var packet: HandoffPacket
        public var state: TicketState
        public var createdAt: Date
        public var messages: [(role: String, text: String)]
        public var callbackPhone: String?
    }

    public private(set) var entries: [Entry] = []
    /// How many agents are signed in (tests set 0 to see the call-back offer).
    public var agents: Int
    public var averageHandleMinutes: Int
    /// When set, enqueue fails with this message (tests of a broken queue).
    public var failure: String?

    public init(agents: Int = 1, averageHandleMinutes: Int = 6) {
        self.agents = agents
        self.averageHandleMinutes = averageHandleMinutes
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Empty again, as a new queue (replay reuses one for the sessions it runs one after another).
    public func removeAll() { entries.removeAll(keepingCapacity: true) }

    public func enqueue(_ packet: HandoffPacket, at now: Date) throws -> String {
        if let failure { throw Failure(description: failure) }
        var packet = packet
        packet.ticket = HandoffTicketID.make(sequence: entries.count + 1, at: now)
        entries.append(Entry(packet: packet, state: TicketState(status: .waiting), createdAt: now, messages: []))
        return packet.ticket
    }

    func index(_ ticket: String) -> Int? { entries.firstIndex { $0.packet.ticket == ticket } }

    public func state(of ticket: String) -> TicketState? { index(ticket).map { entries[$0].state } }

    public func position(of ticket: String, at now: Date) -> QueuePosition? {
        guard let i = index(ticket) else { return nil }
        let me = entries[i]
        let ahead = entries.filter {
            $0.state.status == .waiting && $0.packet.ticket != ticket
                && ($0.packet.priority > me.packet.priority || ($0.packet.priority == me.packet.priority && $0.createdAt < me.createdAt))
        }.count
        return QueuePosition(place: ahead + 1, agentsOnline: agents, handleMinutes: averageHandleMinutes)
    }

    public func agentsOnline(at now: Date) -> Int { agents }

    public func append(ticket: String, role: String, text: String, at now: Date) throws {
        guard let i = index(ticket) else { throw Failure(description: "no ticket \(ticket)") }
        entries[i].messages.append((role, text))
    }

    public func requestCallback(ticket: String, phone: String, at now: Date) throws {
        guard let i = index(ticket) else { throw Failure(description: "no ticket \(ticket)") }
        entries[i].state.callback = true
        entries[i].callbackPhone = phone
    }

    /// Tests play the agent: claim, resolve or hand back a ticket.
    public func set(_ ticket: String, _ state: TicketState) {
        guard let i = index(ticket) else { return }
        entries[i].state = state
    }
}
