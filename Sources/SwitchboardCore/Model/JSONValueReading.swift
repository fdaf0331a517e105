/// Reading a report back: what the HTML page and the terminal report take from the JSON a
/// replay built. Missing, null and mistyped values read as nil.
public extension JSONValue {
    /// The value under `key` if this is an object holding a non-null one.
    subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self, let value = pairs.first(where: { $0.0 == key })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    /// Members along a path of keys.
    subscript(path: [String]) -> JSONValue? {
        path.reduce(Optional(self)) { value, key in value?[key] }
    }

    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d) where d.isFinite: d
        default: nil
        }
    }

    var int: Int? { number.map { Int($0) } }

    var string: String? {
        if case .string(let s) = self { s } else { nil }
    }

    var items: [JSONValue]? {
        if case .array(let items) = self { items } else { nil }
    }

    var pairs: [(String, JSONValue)]? {
        if case .object(let pairs) = self { pairs } else { nil }
    }
}
