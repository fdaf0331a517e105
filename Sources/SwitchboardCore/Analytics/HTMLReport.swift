// PLACEHOLDER until the real renderer lands (same API).
public enum HTMLReport {
    public static func render(_ report: JSONValue, title: String) -> String { "<html><body>\(title)</body></html>" }
}
