import Foundation
import SwitchboardCore
import SwitchboardStore

/// A ticket rendered for reading on a terminal: the summary first, then the cues, slots and what is
/// pending, then the transcript with customer and bot turns aligned. Times are the operator's (UTC+8).
enum AgentView {
    static let width = 100

    static func listLine(_ t: QueuedTicket, now: Date) -> String {
        let waited = minutes(now.timeIntervalSince(t.createdAt))
        let sla = t.isBreached(at: now) ? "SLA BREACHED" : "SLA \(clock(t.slaDueAt))"
        let headline = t.summary.split(separator: "\n").first.map(String.init) ?? ""
        let tags = [t.skills.joined(separator: ","), t.reasons.joined(separator: ","), t.callbackPhone != nil ? "call-back" : ""]
            .filter { !$0.isEmpty }.joined(separator: "  ")
        return "\(t.id)  P\(t.priority)  \(t.status.rawValue) \(waited)  \(sla)  \(tags)\n    \(headline)"
    }

    static func render(_ t: QueuedTicket, log: [TicketLogEntry], now: Date, language: Language?, viewer: String? = nil) -> String {
        guard let packet = try? HandoffPacket.decode(Data(t.packetJSON.utf8)) else {
            return "\(t.id): the stored packet cannot be read by this build (newer version or damaged).\n\(t.summary)"
        }
        var out: [String] = []
        let status: String = switch t.status {
        case .waiting: "waiting \(minutes(now.timeIntervalSince(t.createdAt)))"
        case .claimed: "claimed by \(t.agent ?? "?") at \(clock(t.claimedAt ?? now))"
        case .resolved: "resolved at \(clock(t.closedAt ?? now))"
        case .returned: "returned to the bot at \(clock(t.closedAt ?? now))"
        }
        let sla = t.isBreached(at: now) ? "SLA \(clock(t.slaDueAt)) BREACHED" : "SLA \(clock(t.slaDueAt))"
        out.append("== \(t.id) · priority \(t.priority) · \(status) · \(sla) ==")
        out.append("")
        let summary = language.flatMap { packet.summaries[$0.rawValue] } ?? packet.summary
        out.append("Summary")
        for line in summary.split(separator: "\n") { out += wrap(String(line), indent: "  ") }
        out.append("")
        func field(_ name: String, _ value: String) {
            guard !value.isEmpty else { return }
            let label = name.padding(toLength: 10, withPad: " ", startingAt: 0)
            let lines = wrap(value, indent: String(repeating: " ", count: 10))
            out.append(label + lines[0].dropFirst(10))
            out += lines.dropFirst()
        }
        field("Reasons", packet.reasons.joined(separator: ", "))
        field("Skills", packet.skills.joined(separator: ", "))
        var lang = packet.language
        if let d = packet.dialect { lang += " · dialect \(d)" }
        if packet.elderly { lang += " · elderly: use short, plain sentences" }
        field("Language", lang)
        if let c = packet.customer {
            var who = "\(c.phone) \(c.verified ? "verified" : "NOT verified")"
            if let name = c.name, !name.isEmpty { who += " · \(name)" }
            if let plan = c.planName ?? c.plan { who += " · \(plan)" }
            if let balance = c.balance { who += " · balance ¥\(balance)\(c.inArrears == true ? " (arrears)" : "")" }
            if c.seniorAccount == true { who += " · senior account" }
            field("Account", who)
        } else {
            field("Account", "not identified")
        }
        if let callback = AgentCommand.callbackNumber(t, viewer: viewer) {
            let hint = callback == t.callbackPhone ? "" : " (claim it to see the number)"
            field("Call-back", "requested on \(callback) at \(clock(t.callbackAt ?? now))\(hint)")
        }
        let cues = packet.cues
        field("Cues", "frustration \(String(format: "%.2f", cues.frustration))\(cues.frustrated ? " (frustrated)" : "")"
              + (cues.elderly ? " · elderly" : "") + (cues.dialect.map { " · dialect \($0)" } ?? ""))
        let trail = packet.frustrationTrail.map { step in
            "t\(step.turn) \(String(format: "%.2f", step.frustration))" + (step.signals.isEmpty ? "" : " " + step.signals.joined(separator: "+"))
        }
        field("Trail", trail.joined(separator: " · "))
        field("Intents", packet.intents.joined(separator: " → "))
        field("Slots", packet.slots.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        if let p = packet.pending {
            var pending = p.intent
            if let a = p.awaiting { pending += " (waiting for \(a))" }
            if !p.filled.isEmpty { pending += " · has " + p.filled.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            pending += p.missing.isEmpty ? " · nothing missing" : " · missing " + p.missing.joined(separator: ", ")
            field("Pending", pending)
        }
        for f in packet.failedTurns { field("Missed", "t\(f.turn) \"\(f.text)\" (read as \(f.intent) \(String(format: "%.2f", f.confidence)))") }
        let open = packet.openTickets.map { "\($0.id) \($0.kind) \($0.status)" }
        let made = packet.ticketsMade.map { "\($0.id) \($0.kind)" }
        if !open.isEmpty { field("Open", open.joined(separator: "; ")) }
        if !made.isEmpty { field("Bot made", made.joined(separator: "; ")) }
        out.append("")
        out.append("Transcript")
        for line in packet.transcript { out += transcriptLine(line) }
        let messages = log.filter { $0.kind == "message" }
        if !messages.isEmpty {
            out.append("")
            out.append("While waiting")
            for m in messages { out += aligned(clock(m.at), m.role, m.text) }
        }
        let notes = log.filter { $0.kind != "message" }
        if !notes.isEmpty {
            out.append("")
            out.append("Notes and history")
            for n in notes { out += aligned(clock(n.at), n.author ?? n.role, (n.kind == "note" ? "note: " : "") + n.text) }
        }
        if !packet.rulesFired.isEmpty {
            out.append("")
            out.append("Rules fired")
            for rule in packet.rulesFired { out += wrap(rule, indent: "  ") }
        }
        if let note = t.note {
            out.append("")
            out.append("Resolution: \(note)")
        }
        return out.joined(separator: "\n")
    }

    static func transcriptLine(_ line: TranscriptLine) -> [String] {
        let time = line.ts.map(localClock) ?? ""
        switch line.role {
        case "customer":
            var text = line.text ?? ""
            if let intent = line.intent { text += "   [\(intent) \(String(format: "%.2f", line.confidence ?? 0))]" }
            return aligned(time, "customer", text)
        case "bot":
            return aligned(time, "bot", line.text ?? "")
        default:
            var text = line.event ?? "event"
            if let reasons = line.reasons { text += " " + reasons.joined(separator: ", ") }
            if let ticket = line.ticket { text += " → \(ticket)" }
            return aligned(time, "·", text)
        }
    }

    /// `10:00:01  customer │ text`, continuation lines under the text.
    static func aligned(_ time: String, _ role: String, _ text: String) -> [String] {
        let head = "  " + pad(time, 9) + pad(role, 9) + "│ "
        let indent = String(repeating: " ", count: 20) + "│ "
        let body = wrap(text, indent: indent)
        return [head + body[0].dropFirst(indent.count)] + body.dropFirst()
    }

    /// Wraps at the terminal width, counting wide (CJK) characters as two columns.
    static func wrap(_ text: String, indent: String) -> [String] {
        let room = max(20, width - indent.count)
        var lines: [String] = []
        var current = ""
        var used = 0
        for ch in text {
            if ch == "\n" {
                lines.append(indent + current)
                current = ""
                used = 0
                continue
            }
            let w = columns(ch)
            if used + w > room {
                // Break at the last space if the line has one (English), anywhere otherwise (Chinese).
                if let space = current.lastIndex(of: " "), current.distance(from: current.startIndex, to: space) > room / 2 {
                    let rest = String(current[current.index(after: space)...])
                    lines.append(indent + current[..<space])
                    current = rest
                    used = rest.reduce(0) { $0 + columns($1) }
                } else {
                    lines.append(indent + current)
                    current = ""
                    used = 0
                }
            }
            current.append(ch)
            used += w
        }
        lines.append(indent + current)
        return lines
    }

    /// Pads to a number of terminal columns (a Chinese name is two columns a character).
    static func pad(_ text: String, _ width: Int) -> String {
        let used = text.reduce(0) { $0 + columns($1) }
        return used >= width ? text + " " : text + String(repeating: " ", count: width - used)
    }

    static func columns(_ ch: Character) -> Int {
        guard let v = ch.unicodeScalars.first?.value else { return 1 }
        return (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v) ? 2 : 1
    }

    /// HH:mm:ss in UTC+8.
    static func clock(_ date: Date) -> String {
        String(TranscriptEvent.timestamp(date.addingTimeInterval(8 * 3600)).dropFirst(11).prefix(8))
    }

    /// The clock of an RFC 3339 UTC timestamp, in UTC+8.
    static func localClock(_ ts: String) -> String {
        let parts = ts.dropFirst(11).prefix(8).split(separator: ":")
        guard parts.count == 3, let hour = Int(parts[0]) else { return String(ts.prefix(19)) }
        let h = (hour + 8) % 24
        return "\(h < 10 ? "0" : "")\(h):\(parts[1]):\(parts[2])"
    }

    static func minutes(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }
}
