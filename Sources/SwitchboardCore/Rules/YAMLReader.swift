import Foundation
import Yams

/// Reads one YAML file through composed nodes, so every value keeps its line and column and every
/// problem becomes a `Diagnostic` instead of a thrown decoding error.
struct YAMLReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    mutating func error(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(location(node), message))
    }

    /// Parses the text; syntax errors become diagnostics at their position.
    mutating func compose(_ text: String) -> Node? {
        do {
            // The basic resolver: every scalar is a string until the reader asks for a number, which
            // skips the regular expressions the default resolver runs on every scalar (a third of load).
            return try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                diagnostics.append(Diagnostic(SourceLocation(file: file, line: mark.line, column: mark.column),
                                              "YAML syntax: \(problem)"))
            case .duplicatedKeysInMapping(let duplicates, let context):
                diagnostics.append(Diagnostic(
                    SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                    "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping"))
            case .reader(let problem, _, _, _):
                diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1),
                                              "cannot read file: \(problem)"))
            default:
                diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1), "\(error)"))
            }
            return nil
        } catch {
            diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1), "\(error)"))
            return nil
        }
    }

    /// The key/value pairs of a mapping, or a diagnostic saying what was expected.
    mutating func pairs(_ node: Node, _ what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let mapping = node.mapping else {
            error(node, "\(what) must be a mapping (key: value)")
            return nil
        }
        return mapping.map { (key: $0.key.string ?? "", keyNode: $0.key, value: $0.value) }
    }

    /// Reports keys outside `allowed`, suggesting the closest allowed one.
    mutating func checkKeys(_ pairs: [(key: String, keyNode: Node, value: Node)], allowed: [String], in what: String) {
        for pair in pairs where !allowed.contains(pair.key) {
            let hint = Spelling.closest(to: pair.key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            error(pair.keyNode, "unknown key '\(pair.key)' in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
        }
    }

    /// A scalar as text; YAML booleans and numbers are read as the text the author wrote.
    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let scalar = node.scalar else {
            error(node, "\(what) must be a single value, not a list or mapping")
            return nil
        }
        return scalar.string
    }

    mutating func number(_ node: Node, _ what: String, in range: ClosedRange<Double>) -> Double? {
        guard let text = string(node, what) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            error(node, "\(what) must be a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            return nil
        }
        return value
    }

    /// A list of scalars; a single scalar counts as a list of one.
    mutating func strings(_ node: Node, _ what: String) -> [(String, Node)] {
        if let scalar = node.scalar { return scalar.string.isEmpty ? [] : [(scalar.string, node)] }
        guard let sequence = node.sequence else {
            error(node, "\(what) must be a list")
            return []
        }
        var result: [(String, Node)] = []
        for item in sequence {
            if let s = string(item, "an entry of \(what)") { result.append((s, item)) }
        }
        return result
    }

    /// A list of term references (literals or `~concept`).
    mutating func terms(_ node: Node, _ what: String) -> [TermRef] {
        strings(node, what).compactMap { text, item in
            let trimmed = text.trimmingSpaces()
            if trimmed.isEmpty || trimmed == "~" {
                error(item, "empty term in \(what)")
                return nil
            }
            return TermRef(parsing: trimmed, at: location(item))
        }
    }
}

/// Suggestions for misspelt keys and names.
enum Spelling {
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
