/// Slot values found in one message, in the order a reader expects them.
public struct Slots: Sendable, Equatable, Sequence {
    public private(set) var entries: [(name: SlotName, value: String)] = []

    public init() {}

    public subscript(name: SlotName) -> String? {
        get { entries.first { $0.name == name }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[(name: SlotName, value: String)]> { entries.makeIterator() }

    public static func == (a: Slots, b: Slots) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The slots as a JSON object, keys sorted.
    public var json: JSONValue {
        .object(entries.sorted { $0.name < $1.name }.map { ($0.name.rawValue, .string($0.value)) })
    }
}

/// What one message shows about the customer (CONTRACT.md section 3, per utterance).
public struct UtteranceCues: Sendable, Equatable {
    /// Frustration signals in this message, in [0, 1].
    public var frustration: Double = 0
    public var frustrated: Bool = false
    /// Elderly-user signals in this message.
    public var elderlyScore: Double = 0
    public var elderly: Bool = false
    /// The dialect lexicon that matched with enough evidence.
    public var dialect: DialectID?
    /// Labels of the cue groups and signals that fired, for explanations.
    public var signals: [String] = []

    public init() {}

    /// The `cues` object of the transcript and classify formats.
    public var json: JSONValue {
        .object([
            ("frustration", .double(frustration)), ("frustrated", .bool(frustrated)), ("elderly", .bool(elderly)),
            ("dialect", dialect.map { .string($0.rawValue) } ?? .null),
        ])
    }
}

/// One scored intent.
public struct IntentScore: Sendable, Equatable {
    public var intent: IntentID
    public var confidence: Double
}

/// The understanding of one message.
public struct Classification: Sendable {
    /// The message as received.
    public var text: String
    public var language: Language
    /// The winning intent, or `out_of_scope` under the confidence floor.
    public var intent: IntentID
    public var confidence: Double
    public var slots: Slots
    public var cues: UtteranceCues
    /// The best-scoring intents, best first (at most three, each above zero).
    public var candidates: [IntentScore]
    /// True when the runner-up is within the ambiguity margin: the dialogue should ask which.
    public var ambiguous: Bool
    /// Present when classification was asked to explain itself.
    public var explanation: Explanation?

    /// The line `switchboard classify --jsonl` prints (CONTRACT.md section 6).
    public var json: JSONValue {
        .object([
            ("text", .string(text)), ("lang", .string(language.rawValue)), ("intent", .string(intent.rawValue)),
            ("confidence", .double(confidence)), ("slots", slots.json), ("cues", cues.json),
        ])
    }
}

/// Why a message was understood as it was.
public struct Explanation: Sendable {
    public struct RuleHit: Sendable {
        public var intent: IntentID
        public var rule: String
        public var weight: Double
    }

    public struct Replacement: Sendable {
        public var from: String
        public var to: String
        public var source: String
    }

    public var normalized: String = ""
    public var rewritten: String = ""
    public var replacements: [Replacement] = []
    public var ruleHits: [RuleHit] = []
    public var vetoes: [(intent: IntentID, term: String)] = []
    public var negated: [(intent: IntentID, rule: String)] = []
    public var examples: [(intent: IntentID, example: String, similarity: Double)] = []
    public var scores: [(intent: IntentID, rule: Double, similarity: Double, confidence: Double)] = []
    public var dialectEvidence: [(dialect: DialectID, evidence: Double)] = []
}
