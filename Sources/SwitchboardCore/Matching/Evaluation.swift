/// Accuracy of the rule set on labelled utterances.
public struct Evaluation: Sendable {
    /// One labelled utterance.
    public struct Sample: Sendable {
        public var text: String
        public var intent: IntentID
        public var dialect: DialectID?
        /// Cue labels, where the line has them.
        public var frustrated: Bool?
        public var elderly: Bool?

        public init(text: String, intent: IntentID, dialect: DialectID? = nil, frustrated: Bool? = nil, elderly: Bool? = nil) {
            self.text = text
            self.intent = intent
            self.dialect = dialect
            self.frustrated = frustrated
            self.elderly = elderly
        }
    }

    public private(set) var total = 0
    public private(set) var correct = 0
    /// In-scope samples (expected intent is not out_of_scope) and how many were right.
    public private(set) var inScope = 0
    public private(set) var inScopeCorrect = 0
    /// Out-of-scope detection: predicted and expected counts.
    public private(set) var outOfScopeExpected = 0
    public private(set) var outOfScopePredicted = 0
    public private(set) var outOfScopeBoth = 0
    /// Per expected intent: (samples, correct).
    public private(set) var perIntent: [IntentID: (total: Int, correct: Int)] = [:]
    /// (expected, predicted) → count, for wrong answers.
    public private(set) var confusions: [String: Int] = [:]
    /// Wrong answers, for reading.
    public private(set) var errors: [(text: String, expected: IntentID, predicted: IntentID, confidence: Double)] = []
    /// Samples labelled with a dialect, and how many were detected as that dialect.
    public private(set) var dialectLabelled = 0
    public private(set) var dialectDetected = 0
    /// Cue detection on labelled lines: (labelled, agreed) for each cue.
    public private(set) var frustrationLabelled = 0
    public private(set) var frustrationAgreed = 0
    public private(set) var elderlyLabelled = 0
    public private(set) var elderlyAgreed = 0

    public init(ruleSet: RuleSet, samples: [Sample]) {
        for sample in samples {
            let result = ruleSet.classify(sample.text)
            total += 1
            let right = result.intent == sample.intent
            if right { correct += 1 }
            perIntent[sample.intent, default: (0, 0)].total += 1
            if right { perIntent[sample.intent, default: (0, 0)].correct += 1 }
            if sample.intent == .outOfScope {
                outOfScopeExpected += 1
            } else {
                inScope += 1
                if right { inScopeCorrect += 1 }
            }
            if result.intent == .outOfScope {
                outOfScopePredicted += 1
                if sample.intent == .outOfScope { outOfScopeBoth += 1 }
            }
            if !right {
                confusions["\(sample.intent) → \(result.intent)", default: 0] += 1
                errors.append((sample.text, sample.intent, result.intent, result.confidence))
            }
            if let frustrated = sample.frustrated {
                frustrationLabelled += 1
                if result.cues.frustrated == frustrated { frustrationAgreed += 1 }
            }
            if let elderly = sample.elderly {
                elderlyLabelled += 1
                if result.cues.elderly == elderly { elderlyAgreed += 1 }
            }
            if let dialect = sample.dialect {
                dialectLabelled += 1
                if result.cues.dialect == dialect { dialectDetected += 1 }
            }
        }
    }

    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
    public var inScopeAccuracy: Double { inScope == 0 ? 0 : Double(inScopeCorrect) / Double(inScope) }
    public var outOfScopePrecision: Double { outOfScopePredicted == 0 ? 0 : Double(outOfScopeBoth) / Double(outOfScopePredicted) }
    public var outOfScopeRecall: Double { outOfScopeExpected == 0 ? 0 : Double(outOfScopeBoth) / Double(outOfScopeExpected) }
}
