import Foundation

/// The replay report as one self-contained page (`switchboard replay --html FILE`), for analysts
/// who open it in a browser or attach it to a mail.
///
/// Everything is inline (style, charts drawn here as SVG, no scripts, fonts or images), so the file
/// works offline and travels as one attachment. The markup is also well-formed XML, so tests can parse it
/// and any tool can post-process it. Sections whose data is absent, null or of the wrong type are
/// left out rather than failing: the report grows keys over time and older reports lack them.
public enum HTMLReport {
    /// The page for a replay report (the JSON of `Replay.report`, possibly with segments,
    /// clusters, `compare` and `what_if`); `title` heads the page.
    public static func render(_ report: JSONValue, title: String) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"/>\
            <meta name="viewport" content="width=device-width, initial-scale=1"/>\
            <title>\(escape(title))</title><style>\(style)</style></head><body>

            """
        page += header(report, title: title)
        page += outcomes(report)
        page += segments(report["segments"])
        page += handoffReasons(report)
        page += intents(report["intents"])
        page += clusters(report["fallback_clusters"], heading: "Fallback clusters",
                         note: report["fallback_turns"]?.number.map { "\(grouped($0)) fallback turns in all." })
        page += clusters(report["complaint_clusters"], heading: "Complaint clusters", note: nil)
        if let compare = report["compare"] {
            page += comparison(compare, heading: "Recorded vs replayed", before: ("before", "Recorded"),
                               after: ("after", "Replayed"))
        }
        if let whatIf = report["what_if"] {
            let base = whatIf["base_rules"]?.string ?? "base"
            let other = whatIf["other_rules"]?.string ?? "other"
            page += comparison(whatIf, heading: "What if: \(base) → \(other)", before: ("before", "Base rules"),
                               after: ("after", "Other rules"))
        }
        page += definitions(report["definitions"])
        if let version = report["report_version"]?.number {
            page += "<footer class=\"muted\">Report version \(grouped(version))</footer>\n"
        }
        return page + "</body></html>\n"
    }

    // MARK: Sections

    /// The title and the headline numbers.
    static func header(_ report: JSONValue, title: String) -> String {
        var stats: [(key: String, value: String, note: String?)] = []
        // The headline number, first and largest.
        if let rate = report["deflection_rate"]?.number { stats.append(("Deflection rate", percent(rate), nil)) }
        if let contained = report["contained"], let rate = contained["rate"]?.number {
            var note: [String] = []
            if let n = contained["sessions"]?.number, let of = contained["sessions_with_customer_and_time"]?.number {
                note.append("\(grouped(n)) of \(grouped(of)) sessions")
            }
            if let repeats = contained["repeat_contacts"]?.number { note.append("\(grouped(repeats)) repeat contacts") }
            stats.append(("Contained", percent(rate), note.isEmpty ? nil : note.joined(separator: ", ")))
        }
        for (key, name) in [("sessions", "Sessions"), ("turns", "Turns"), ("fallback_turns", "Fallback turns"),
                            ("changed", "Changed outcomes"), ("skipped_lines", "Skipped lines")] {
            if let n = report[key]?.number { stats.append((name, grouped(n), nil)) }
        }
        var html = "<header><h1>\(escape(title))</h1><p class=\"muted\">Switchboard replay report</p>"
        html += "<div class=\"stats\">"
        for (i, stat) in stats.enumerated() {
            html += "<div class=\"stat\(i == 0 && stat.key == "Deflection rate" ? " big" : "")\">"
            html += "<div class=\"v\">\(escape(stat.value))</div><div class=\"k\">\(escape(stat.key))</div>"
            if let note = stat.note { html += "<div class=\"k\">\(escape(note))</div>" }
            html += "</div>"
        }
        return html + "</div></header>\n"
    }

    /// Resolved, handed off and abandoned as one stacked bar: the three always add up to all sessions.
    static func outcomes(_ report: JSONValue) -> String {
        guard let outcomes = report["outcomes"] else { return "" }
        let parts = outcomeKinds.map { (name: $0.name, count: outcomes[$0.key]?.number ?? 0, colour: $0.colour) }
        let total = parts.reduce(0) { $0 + $1.count }
        guard total > 0 else { return section("Outcomes", "<p class=\"muted\">No sessions.</p>") }
        let width = 760, height = 40
        var svg = svgOpen("Outcomes of \(grouped(total)) sessions", width: width, height: height)
        var x = 0.0
        for part in parts where part.count > 0 {
            let w = part.count / total * Double(width)
            let label = "\(part.name) \(grouped(part.count)) (\(percent(part.count / total)))"
            svg += "<g><title>\(escape(label))</title>"
            svg += "<rect x=\"\(fixed(x))\" y=\"4\" width=\"\(fixed(w))\" height=\"32\" fill=\"\(part.colour)\"/>"
            // A label only where it fits: the legend below always has every number.
            let short = "\(grouped(part.count)) · \(percent(part.count / total))"
            if textWidth(short) + 12 < w {
                let inverse = part.colour == accent ? " class=\"inverse\"" : ""
                svg += "<text x=\"\(fixed(x + 6))\" y=\"25\"\(inverse)>\(escape(short))</text>"
            }
            svg += "</g>"
            x += w
        }
        svg += "</svg>"
        var legend = "<ul class=\"legend\">"
        for part in parts {
            legend += "<li><span class=\"swatch\" style=\"background:\(part.colour)\"></span>"
            legend += "\(escape(part.name)) <strong>\(grouped(part.count))</strong>"
            legend += " (\(percent(part.count / total)))</li>"
        }
        return section("Outcomes", svg + legend + "</ul>")
    }

    /// One small chart per segment kind: deflection per value, the values with most sessions first.
    static func segments(_ segments: JSONValue?) -> String {
        guard let kinds = segments?.pairs, !kinds.isEmpty else { return "" }
        var html = "<div class=\"grid\">"
        for (kind, values) in kinds {
            guard let values = values.pairs, !values.isEmpty else { continue }
            let rows = values
                .map { (name: $0.0, sessions: $0.1["sessions"]?.number ?? 0, rate: $0.1["deflection_rate"]?.number) }
                .sorted { $0.sessions != $1.sessions ? $0.sessions > $1.sessions : $0.name < $1.name }
            let shown = rows.prefix(maxSegmentValues)
            let bars = shown.map { row in
                Bar(label: row.name, share: row.rate ?? 0,
                    value: "\(row.rate.map(percent) ?? "–") · \(grouped(row.sessions)) sessions")
            }
            let caption = kind.replacingOccurrences(of: "_", with: " ")
            html += "<figure><figcaption>\(escape(caption))</figcaption>"
            html += barChart("Deflection rate by \(caption)", bars, width: 500)
            if rows.count > shown.count {
                html += "<p class=\"muted\">\(shown.count) of \(rows.count) values shown, most sessions first.</p>"
            }
            html += "</figure>"
        }
        return section("Deflection by segment", html + "</div>")
    }

    /// Why sessions went to a person; a session can have several reasons, so shares can sum past 100%.
    static func handoffReasons(_ report: JSONValue) -> String {
        guard let reasons = counts(report["handoff_reasons"]), !reasons.isEmpty else { return "" }
        let handoffs = report["outcomes"]?["handoff"]?.number ?? 0
        let top = reasons[0].count
        let bars = reasons.map { reason in
            let share = handoffs > 0 ? " · \(percent(reason.count / handoffs)) of handoffs" : ""
            return Bar(label: reason.name, share: top > 0 ? reason.count / top : 0,
                       value: grouped(reason.count) + share)
        }
        return section("Handoff reasons", barChart("Handoff reasons", bars))
    }

    /// The most common intents; the long tail is counted, not drawn.
    static func intents(_ intents: JSONValue?) -> String {
        guard let intents = counts(intents), !intents.isEmpty else { return "" }
        let shown = intents.prefix(maxIntents)
        let top = intents[0].count
        let bars = shown.map { Bar(label: $0.name, share: top > 0 ? $0.count / top : 0, value: grouped($0.count)) }
        var html = barChart("Sessions per intent", bars)
        if intents.count > shown.count {
            html += "<p class=\"muted\">Top \(shown.count) of \(intents.count) intents.</p>"
        }
        return section("Intents", html)
    }

    /// The largest clusters as bars, then each one's texts, so an analyst sees what the label stands for.
    static func clusters(_ clusters: JSONValue?, heading: String, note: String?) -> String {
        guard let list = clusters?.items, !list.isEmpty else { return "" }
        let shown = list.prefix(maxClusters)
        let top = shown.compactMap { $0["size"]?.number }.max() ?? 0
        let bars = shown.map { cluster in
            let size = cluster["size"]?.number ?? 0
            let distinct = cluster["distinct"]?.number ?? 0
            return Bar(label: cluster["label"]?.string ?? "", share: top > 0 ? size / top : 0,
                       value: "\(grouped(size)) · \(grouped(distinct)) distinct")
        }
        var html = note.map { "<p class=\"muted\">\(escape($0))</p>" } ?? ""
        html += barChart(heading, bars) + "<ol class=\"clusters\">"
        for cluster in shown {
            let size = grouped(cluster["size"]?.number ?? 0), distinct = grouped(cluster["distinct"]?.number ?? 0)
            html += "<li><strong>\(escape(cluster["label"]?.string ?? ""))</strong> "
            html += "<span class=\"muted\">\(size) times, \(distinct) distinct</span>"
            let examples = cluster["examples"]?.items ?? []
            if !examples.isEmpty {
                html += "<ul>"
                for example in examples {
                    html += "<li>\(escape(example["text"]?.string ?? ""))"
                    html += " <span class=\"muted\">×\(grouped(example["count"]?.number ?? 0))</span></li>"
                }
                html += "</ul>"
            }
            html += "</li>"
        }
        html += "</ol>"
        if list.count > shown.count { html += "<p class=\"muted\">… \(list.count - shown.count) more clusters</p>" }
        return section(heading, html)
    }

    /// Before and after outcomes, the transitions between them, and the sessions that changed.
    static func comparison(_ data: JSONValue, heading: String, before: (key: String, name: String),
                           after: (key: String, name: String)) -> String {
        guard data.pairs != nil else { return "" }
        var html = ""
        if let sessions = data["sessions"]?.number {
            html += "<p class=\"muted\">\(grouped(sessions)) sessions compared.</p>"
        }
        if let old = data[before.key], let new = data[after.key] {
            html += "<table><thead><tr><th>Outcome</th><th>\(escape(before.name))</th><th>\(escape(after.name))</th>"
            html += "<th>Change</th></tr></thead><tbody>"
            for kind in outcomeKinds {
                let a = old[kind.key]?.number, b = new[kind.key]?.number
                html += "<tr><td>\(kind.name)</td><td>\(a.map(grouped) ?? "–")</td>"
                html += "<td>\(b.map(grouped) ?? "–")</td>"
                html += "<td>\(a.flatMap { a in b.map { signed($0 - a) } } ?? "–")</td></tr>"
            }
            let a = old["deflection_rate"]?.number, b = new["deflection_rate"]?.number
            html += "<tr><td>Deflection rate</td><td>\(a.map(percent) ?? "–")</td><td>\(b.map(percent) ?? "–")</td>"
            html += "<td>\(a.flatMap { a in b.map { signedPoints($0 - a) } } ?? "–")</td></tr></tbody></table>"
        }
        if let transitions = counts(data["transitions"]), !transitions.isEmpty {
            html += "<h3>Transitions</h3><table><thead><tr><th>From → to</th><th>Sessions</th></tr></thead><tbody>"
            for t in transitions {
                let name = t.name.replacingOccurrences(of: "→", with: " → ")
                html += "<tr><td>\(escape(name))</td><td>\(grouped(t.count))</td></tr>"
            }
            html += "</tbody></table>"
        }
        let changed = data["changed_sessions"]?.items ?? []
        if !changed.isEmpty {
            html += "<h3>Changed sessions</h3>"
            for session in changed.prefix(maxChangedSessions) { html += changedSession(session) }
            let total = max(changed.count, Int(data["changed"]?.number ?? 0))
            if total > maxChangedSessions || total > changed.count {
                let more = total - min(changed.count, maxChangedSessions)
                html += "<p class=\"muted\">… \(grouped(more)) more</p>"
            }
        }
        return html.isEmpty ? "" : section(heading, html)
    }

    /// One changed session, folded: its outcome change in the summary, its turns inside.
    static func changedSession(_ session: JSONValue) -> String {
        let before = session["before"]?.string ?? "?", after = session["after"]?.string ?? "?"
        let reasons = (session["after_reasons"]?.items ?? []).compactMap(\.string)
        var html = "<details><summary><code>\(escape(session["session"]?.string ?? "?"))</code> "
        html += "\(escape(before)) → <strong>\(escape(after))</strong>"
        if !reasons.isEmpty { html += " <span class=\"muted\">(\(escape(reasons.joined(separator: ", "))))</span>" }
        html += "</summary>"
        let beforeReasons = (session["before_reasons"]?.items ?? []).compactMap(\.string)
        if !beforeReasons.isEmpty {
            html += "<p class=\"muted\">Reasons before: \(escape(beforeReasons.joined(separator: ", ")))</p>"
        }
        let turns = (session["turns"]?.items ?? []).compactMap(\.string)
        if !turns.isEmpty {
            html += "<ol class=\"turns\">" + turns.map { "<li>\(escape($0))</li>" }.joined() + "</ol>"
        }
        return html + "</details>\n"
    }

    /// What each number means, in the words the report itself carries.
    static func definitions(_ definitions: JSONValue?) -> String {
        guard let pairs = definitions?.pairs else { return "" }
        let terms = pairs.filter { $0.0 != "version" }.compactMap { key, value in value.string.map { (key, $0) } }
        guard !terms.isEmpty else { return "" }
        var html = "<dl>"
        for (term, text) in terms {
            html += "<dt>\(escape(term.replacingOccurrences(of: "_", with: " ")))</dt><dd>\(escape(text))</dd>"
        }
        html += "</dl>"
        if let version = definitions?["version"]?.string ?? definitions?["version"]?.number.map(grouped) {
            html += "<p class=\"muted\">Definitions version \(escape(version))</p>"
        }
        return section("Definitions", html)
    }

    static func section(_ heading: String, _ body: String) -> String {
        "<section><h2>\(escape(heading))</h2>\(body)</section>\n"
    }

    // MARK: Charts

    /// One bar: its label, its length as a share of the axis (0...1), and the text printed after it.
    struct Bar {
        var label: String
        var share: Double
        var value: String
    }

    /// Horizontal bars, labels on the left, values at the bars' ends; each bar has a `<title>`
    /// with its full label, since long labels are shortened to fit.
    static func barChart(_ caption: String, _ bars: [Bar], width: Int = 760) -> String {
        let labelWidth = width * 3 / 10, valueWidth = 190, row = 26
        let axis = Double(width - labelWidth - valueWidth)
        let height = bars.count * row + 8
        var svg = svgOpen(caption, width: width, height: height)
        for (i, bar) in bars.enumerated() {
            let y = 4 + i * row
            let share = bar.share.isFinite ? min(max(bar.share, 0), 1) : 0
            // A non-zero value keeps a sliver of a bar, so it never reads as nothing.
            let length = share > 0 ? max(axis * share, 2) : 0
            svg += "<g><title>\(escape(bar.label)): \(escape(bar.value))</title>"
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">"
            svg += "\(escape(fit(bar.label, width: Double(labelWidth - 12))))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(fixed(length))\" height=\"18\" rx=\"2\" "
            svg += "fill=\"\(accent)\"/>"
            svg += "<text x=\"\(fixed(Double(labelWidth) + length + 6))\" y=\"\(y + 15)\">\(escape(bar.value))</text>"
            svg += "</g>"
        }
        svg += "<line x1=\"\(labelWidth)\" y1=\"2\" x2=\"\(labelWidth)\" y2=\"\(height - 2)\" stroke=\"#9ca3af\"/>"
        return svg + "</svg>"
    }

    static func svgOpen(_ caption: String, width: Int, height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(caption))\">"
            + "<title>\(escape(caption))</title>"
    }

    /// `text` shortened with "…" to fit `width` pixels at the charts' 13px font.
    static func fit(_ text: String, width: Double) -> String {
        guard textWidth(text) > width else { return text }
        var out = ""
        var used = textWidth("…")
        for character in text {
            let w = textWidth(String(character))
            if used + w > width { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// An estimate, since the page cannot measure text without a script: CJK and other wide
    /// characters take about one em, the rest a bit over half.
    static func textWidth(_ text: String) -> Double {
        text.unicodeScalars.reduce(0) { width, scalar in
            let v = scalar.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
            return width + (wide ? 13 : 7.4)
        }
    }

    // MARK: Text

    /// Text for an element or a quoted attribute: markup characters escaped, and characters XML
    /// forbids (most control characters) replaced, since customer text can hold anything.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                let forbidden = v < 0x20 || (0x7F...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF
                out.unicodeScalars.append(forbidden ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }

    /// 12345 → "12,345"; fractions are rounded (counts are whole, but JSON may carry them as doubles).
    static func grouped(_ number: Double) -> String {
        guard number.isFinite else { return "–" }
        let n = Int(number.rounded())
        var digits = String(n.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(digits.suffix(3), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (n < 0 ? "−" : "") + groups.joined(separator: ",")
    }

    static func grouped(_ number: Int) -> String { grouped(Double(number)) }

    /// 0.6667 → "66.7%".
    static func percent(_ rate: Double) -> String { oneDecimal(rate * 100) + "%" }

    static func signed(_ delta: Double) -> String { (delta > 0 ? "+" : "") + grouped(delta) }

    /// A change of rate in percentage points: 0.6 → 0.65 is "+5.0 pp".
    static func signedPoints(_ delta: Double) -> String {
        let text = oneDecimal(delta * 100)
        return (text.hasPrefix("−") || text == "0.0" ? "" : "+") + text + " pp"
    }

    /// Without `String(format:)`, whose output follows the locale.
    static func oneDecimal(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let tenths = Int((value * 10).rounded())
        return (tenths < 0 ? "−" : "") + "\(tenths.magnitude / 10).\(tenths.magnitude % 10)"
    }

    /// A two-decimal SVG coordinate.
    static func fixed(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let whole = hundredths / 100, rest = hundredths % 100
        return rest == 0 ? "\(whole)" : "\(whole)." + (rest < 10 ? "0\(rest)" : "\(rest)")
    }

    /// A `{"name": count}` object as pairs, largest first (ties by name); nil if it is not one.
    static func counts(_ value: JSONValue?) -> [(name: String, count: Double)]? {
        value?.pairs?.compactMap { key, value in value.number.map { (key, $0) } }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
    }

    // MARK: Look

    static let accent = "#2563eb"
    static let outcomeKinds = [(key: "resolved", name: "Resolved", colour: accent),
                               (key: "handoff", name: "Handed off", colour: "#93b4f5"),
                               (key: "abandoned", name: "Abandoned", colour: "#d1d5db")]
    static let maxSegmentValues = 12
    static let maxIntents = 15
    static let maxClusters = 20
    static let maxChangedSessions = 200

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC",\
        "Microsoft YaHei",sans-serif;color:#1f2937;max-width:1060px;margin:0 auto;padding:24px;line-height:1.45}\
        h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;margin:32px 0 10px;padding-bottom:4px;\
        border-bottom:1px solid #e5e7eb}h3{font-size:1rem;margin:18px 0 6px}\
        .muted{color:#6b7280}.stats{display:flex;flex-wrap:wrap;gap:12px;margin-top:14px}\
        .stat{border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;min-width:110px}\
        .stat .v{font-size:1.4rem;font-weight:600}.stat.big .v{font-size:2.6rem;color:#2563eb}\
        .stat .k{color:#6b7280;font-size:.85rem}svg{max-width:100%;height:auto;display:block}\
        svg text{font-family:inherit;font-size:13px;fill:#1f2937}svg text.inverse{fill:#fff}\
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:18px 28px}\
        figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}\
        .legend{list-style:none;padding:0;display:flex;gap:20px;flex-wrap:wrap}\
        .swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}\
        .clusters li{margin:6px 0}.clusters ul{margin:2px 0;color:#374151}\
        table{border-collapse:collapse;margin:6px 0}th,td{padding:4px 14px;border-bottom:1px solid #e5e7eb;\
        text-align:right}th:first-child,td:first-child{text-align:left}\
        details{border-bottom:1px solid #f0f1f3;padding:4px 0}summary{cursor:pointer}\
        dt{font-weight:600;margin-top:8px}dd{margin:2px 0 0 0;color:#374151}footer{margin-top:32px}
        """
}
