extension RuleSet {
    /// Number of `tests:` entries in the rule files.
    public var inlineTestCount: Int { inlineTests.count }

    /// Runs the `tests:` entries of the rule files; each failure is a diagnostic at the test.
    public func runInlineTests() -> [Diagnostic] {
        inlineTests.compactMap { test in
            let result = classify(test.text)
            guard result.intent != test.intent else { return nil }
            return Diagnostic(test.location,
                              "test '\(test.text)' expects \(test.intent) but the rules say \(result.intent) (confidence \(JSONValue.format(result.confidence)))")
        }
    }
}
