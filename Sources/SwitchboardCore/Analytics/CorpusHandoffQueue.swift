import Foundation

/// The human queue as simulated customers meet it: a shift of agents by the hour (nobody at night,
/// so night-time handoffs are offered a call-back), tickets numbered for the whole corpus, places
/// counted among the tickets still open, and a ticket claimed once its expected wait has passed.
/// Only the tickets of sessions in progress are kept (`forget` drops one when its session ends),
/// so a corpus of any size holds a handful.
final class CorpusHandoffQueue: HandoffQueue {
    private struct Entry {
        var ticket: String
        var priority: Int
        var createdAt: Date
        var state: TicketState
    }

    private var open: [Entry] = []
    private var sequences: [String: Int] = [:]
    /// Minutes an agent spends on a ticket.
    private let handleMinutes = 6
    /// Agents signed in by local hour (UTC+8): a night with nobody, a day shift, a thinner evening.
    private static let shift = [0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 6, 6, 5, 5, 6, 6, 6, 5, 4, 4, 3, 3, 2, 1]

    func enqueue(_ packet: HandoffPacket, at now: Date) throws -> String {
        let day = String(TranscriptEvent.timestamp(now.addingTimeInterval(8 * 3600)).prefix(10))
        let n = (sequences[day] ?? 0) + 1
        sequences[day] = n
        let ticket = HandoffTicketID.make(sequence: n, at: now)
        open.append(
            Entry(ticket: ticket, priority: packet.priority, createdAt: now, state: TicketState(status: .waiting)))
        return ticket
    }

    func state(of ticket: String) -> TicketState? {
        guard let i = index(ticket) else { return nil }
        return open[i].state
    }

    /// Claims the ticket once the wait it was promised has passed, when someone is on shift.
    func advance(to now: Date) {
        for i in open.indices where open[i].state.status == .waiting && agentsOnline(at: now) > 0 {
            let wait = position(of: open[i].ticket, at: open[i].createdAt)?.expectedWaitMinutes ?? 1
            if now.timeIntervalSince(open[i].createdAt) >= Double(wait * 60) {
                let number = Int(open[i].ticket.suffix(4)) ?? 0
                open[i].state = TicketState(status: .claimed, agent: Self.agents[number % Self.agents.count])
            }
        }
    }

    private static let agents = ["小王", "小李", "Alice", "小陈", "Ben", "小周"]

    func position(of ticket: String, at now: Date) -> QueuePosition? {
        guard let i = index(ticket) else { return nil }
        let me = open[i]
        let ahead = open.filter {
            $0.state.status == .waiting && $0.ticket != ticket
                && ($0.priority > me.priority || ($0.priority == me.priority && $0.createdAt < me.createdAt))
        }.count
        return QueuePosition(place: ahead + 1, agentsOnline: agentsOnline(at: now), handleMinutes: handleMinutes)
    }

    func agentsOnline(at now: Date) -> Int {
        let seconds = Int(now.timeIntervalSince1970) + 8 * 3600
        return Self.shift[(seconds / 3600) % 24]
    }

    func append(ticket: String, role: String, text: String, at now: Date) throws {}

    func requestCallback(ticket: String, phone: String, at now: Date) throws {
        guard let i = index(ticket) else { return }
        open[i].state.callback = true
    }

    /// The session holding the ticket has ended.
    func forget(_ ticket: String) { open.removeAll { $0.ticket == ticket } }

    private func index(_ ticket: String) -> Int? { open.firstIndex { $0.ticket == ticket } }
}
