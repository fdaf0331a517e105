/// Where something was written: a file and a 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A problem in the rule set, printed like a compiler diagnostic.
public struct Diagnostic: Sendable, Hashable, Comparable, CustomStringConvertible, Error {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): error: \(message)" }

    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        (a.location, a.message) < (b.location, b.message)
    }
}

/// A term as written in a rule file: a literal or a `~concept` reference.
struct TermRef: Sendable {
    enum Kind: Sendable, Equatable {
        case literal(String)
        case concept(String)
    }
    var kind: Kind
    var location: SourceLocation

    init(parsing text: String, at location: SourceLocation) {
        if text.hasPrefix("~") {
            kind = .concept(String(text.dropFirst()))
        } else {
            kind = .literal(text)
        }
        self.location = location
    }
}

/// One element of a pattern as written.
enum PatternElementDef: Sendable {
    case terms([TermRef])
    case gap
    case negation([TermRef])
    case number
}

/// An ordered pattern with its weight.
struct PatternDef: Sendable {
    var source: String
    var elements: [PatternElementDef]
    var weight: Double
    var location: SourceLocation
}

/// A literal (or concept) phrase with its weight.
struct PhraseDef: Sendable {
    var term: TermRef
    var weight: Double
}

/// A regular expression rule, evaluated on the normalized message.
struct RegexDef: Sendable {
    var source: String
    var weight: Double
    var location: SourceLocation
}

/// An example utterance of an intent.
struct ExampleDef: Sendable {
    var text: String
    var language: Language
    var location: SourceLocation
}

/// An intent as written in a domain file.
struct IntentDef: Sendable {
    var id: IntentID
    var description: String
    var location: SourceLocation
    var phrases: [PhraseDef] = []
    var patterns: [PatternDef] = []
    var regexes: [RegexDef] = []
    var exclude: [TermRef] = []
    var negatedBy: [TermRef] = []
    var examples: [ExampleDef] = []
}

/// A named synonym set.
struct ConceptDef: Sendable {
    var name: String
    var terms: [TermRef]
    var location: SourceLocation
}

/// Which utterance cue a lexicon group feeds.
enum CueKind: String, Sendable {
    case frustration
    case elderly
}

/// A weighted group of cue terms.
struct CueGroupDef: Sendable {
    var kind: CueKind
    var label: String
    var weight: Double
    var terms: [TermRef]
    var location: SourceLocation
}

/// Thresholds and non-lexical signal weights for the utterance cues.
struct CueSettings: Sendable {
    var frustrationThreshold = 0.5
    var repeatedPunctuation = 0.3
    var shouting = 0.35
    var repetition = 0.25
    var elderlyThreshold = 0.5
    var ageAtLeast = 60
}

/// Words that give a slot a value (`fault_type: no_signal`).
struct SlotVocabularyDef: Sendable {
    var slot: SlotName
    var value: String
    var terms: [TermRef]
    /// Groups of terms that give the value only together ("上不了网 + 没信号").
    var together: [[TermRef]] = []
    var location: SourceLocation
}

/// A plan of the catalogue.
public struct Plan: Sendable, Equatable {
    public var code: String
    public var name: [Language: String]
    public var monthlyFee: Double
    public var dataGB: Double
    public var voiceMinutes: Int
    public var terms: [Language: String]
    public var minAge: Int?
    public var maxAge: Int?
    public var contractMonths: Int?
    public var earlyExitFee: Double?
    public var roamingDataGBPerDay: Double?
}

/// A value-added service of the catalogue.
public struct Addon: Sendable, Equatable {
    public var code: String
    public var name: [Language: String]
    public var monthlyFee: Double
    public var terms: [Language: String]
    /// Extra data a month, for data packs.
    public var dataGB: Double = 0
}

/// One dialect → Mandarin entry.
struct LexiconEntry: Sendable {
    var source: String
    var target: String
    var weight: Double
    var location: SourceLocation
}

/// A dialect lexicon file.
struct DialectLexiconDef: Sendable {
    var id: DialectID
    var name: String
    var minEvidence: Double
    var entries: [LexiconEntry]
    var location: SourceLocation
}

/// A check that a message classifies as an intent, written beside the rules.
struct InlineTestDef: Sendable {
    var text: String
    var intent: IntentID
    var location: SourceLocation
}

/// Scoring settings from `normalization.yaml`.
public struct ScoringSettings: Sendable {
    public var confidenceFloor = 0.35
    public var ambiguityMargin = 0.08
    public var exampleWeight = 0.8
    /// The most that example similarity can add (as a share of what the rules left open).
    public var exampleCap = 0.85
    public var extraHitBonus = 0.15
}

/// Everything read from `intents/` and `dialect-lexicons/`, before compilation.
struct RuleDefinitions: Sendable {
    var concepts: [ConceptDef] = []
    var intents: [IntentDef] = []
    var cueGroups: [CueGroupDef] = []
    var cueSettings = CueSettings()
    var agePatterns: [PatternDef] = []
    var slotVocabulary: [SlotVocabularyDef] = []
    var plans: [(Plan, [TermRef], SourceLocation)] = []
    var addons: [(Addon, [TermRef], SourceLocation)] = []
    var lexicons: [DialectLexiconDef] = []
    var characterMap: [UInt32: UInt32] = [:]
    var fillers: [TermRef] = []
    var corrections: [LexiconEntry] = []
    var numeralMeasures: [String] = []
    var defaultLanguage: Language = .zh
    var scoring = ScoringSettings()
    var monthNeedsContext: Set<String> = []
    var monthContext: [TermRef] = []
    var currencyBefore: [TermRef] = []
    var currencyAfter: [TermRef] = []
    var pinContext: [TermRef] = []
    var ticketPrefixes: [String] = []
    var notAgeAfter: [String] = []
    var demoAccounts: [(DemoAccount, SourceLocation)] = []
    var dialogue = DialogueData()
    var flowLocations: [(IntentID, SourceLocation)] = []
    /// Intents the handoff policy names, with where, for `check`.
    var handoffIntentUses: [(IntentID, SourceLocation)] = []
    /// Response keys named by flows, with where, for `check`.
    var responseUses: [(String, SourceLocation)] = []
    var responsesFile: String?
    var tests: [InlineTestDef] = []
    /// Examples given apart from their intent (`examples:` sections): intent, example, where the intent was named.
    var exampleBank: [(IntentID, ExampleDef, SourceLocation)] = []
    /// Ordinary English words, never corrected (`english-words.txt`).
    var englishWords: [[UInt32]] = []
}
