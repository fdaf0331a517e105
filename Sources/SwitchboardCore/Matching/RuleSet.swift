import Foundation

/// The rule set compiled once: one automaton over every term, per-term tables saying what a hit
/// means, compiled patterns, the example index and the typo index. Immutable and shared by every
/// session; classifying a message allocates only per-message scratch.
public struct RuleSet: Sendable {
    struct PhraseUse: Sendable {
        var intent: Int32
        var weight: Float
        var rule: Int32
    }

    enum RewriteKind: Sendable, Equatable {
        case dialect(Int32)
        case correction
        case filler
    }

    struct RewriteUse: Sendable {
        var kind: RewriteKind
        var target: [UInt32]
        var weight: Double
    }

    struct SlotCombo: Sendable {
        var slotIndex: Int32
        var value: String
        var parts: [[Int32]]
    }

    struct SlotUse: Sendable {
        var slot: SlotName
        var value: String
        /// Index of `slot` in `RuleSet.vocabularySlots`.
        var slotIndex: Int32

        init(slot: SlotName, value: String) {
            self.slot = slot
            self.value = value
            self.slotIndex = Int32(RuleSet.vocabularySlots.firstIndex(of: slot) ?? 0)
        }
    }

    /// What a term is to the slot scanners, and which per-term tables have an entry for it, so
    /// a hit reads one small array instead of touching every table.
    struct TermFlags: OptionSet, Sendable {
        let rawValue: UInt16
        static let monthContext = TermFlags(rawValue: 1)
        static let currencyBefore = TermFlags(rawValue: 2)
        static let currencyAfter = TermFlags(rawValue: 4)
        static let pinContext = TermFlags(rawValue: 8)
        static let slotContext: TermFlags = [.monthContext, .currencyBefore, .currencyAfter, .pinContext]

        static let phrase = TermFlags(rawValue: 16)
        static let exclude = TermFlags(rawValue: 32)
        static let negator = TermFlags(rawValue: 64)
        static let cue = TermFlags(rawValue: 128)
        static let slot = TermFlags(rawValue: 256)
        static let rewrite = TermFlags(rawValue: 512)
        /// One word of a slot word pair ("上不了网 + 没信号").
        static let slotPair = TermFlags(rawValue: 1024)
    }

    /// A pattern element; its terms are `patternTerms[termsStart..<termsEnd]`, sorted for bisection.
    struct Element: Sendable {
        enum Kind: UInt8, Sendable {
            case terms, gap, negation, number
        }
        var kind: Kind
        var termsStart: Int32
        var termsEnd: Int32
    }

    /// A pattern is `patternElements[elementsStart..<elementsEnd]`; flat storage keeps matching
    /// free of reference counting.
    struct CompiledPattern: Sendable {
        var elementsStart: Int32
        var elementsEnd: Int32
        var intent: Int32
        var weight: Float
        var rule: Int32
    }

    struct CompiledRegex: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and safe to share for matching.
        var regex: NSRegularExpression
        var intent: Int32
        var weight: Float
        var rule: Int32
    }

    struct DialectInfo: Sendable {
        var id: DialectID
        var name: String
        var minEvidence: Double
    }

    struct CueGroup: Sendable {
        var kind: CueKind
        var label: String
        var weight: Double
    }

    let normalizer: TextNormalizer
    let automaton: Automaton
    let termText: [String]
    let phraseUses: FlatLists<PhraseUse>
    /// Which intent patterns, and which age patterns, a message's hits make worth trying.
    let patternGate: PatternGate
    let ageGate: PatternGate
    let excludes: FlatLists<Int32>
    let negators: FlatLists<Int32>
    let cueUses: FlatLists<Int32>
    let slotUses: FlatLists<SlotUse>
    /// Values given only by words together ("上不了网 + 没信号" is no_signal): each part lists the
    /// terms that can stand for it.
    var slotCombos: [SlotCombo] = []
    let rewriteUses: FlatLists<RewriteUse>
    let termFlags: [TermFlags]
    let patterns: [CompiledPattern]
    let agePatterns: [CompiledPattern]
    let patternElements: [Element]
    let patternTerms: [Int32]
    let elementTerms: ElementTermSet
    let regexes: [CompiledRegex]
    /// Built after the rest, from examples read the way messages are.
    var examples: ExampleIndex
    let typos: TypoCorrector
    let dialects: [DialectInfo]
    let cueGroups: [CueGroup]
    let cueSettings: CueSettings
    let monthNeedsContext: Set<String>
    /// Characters that, right after a number, say it is not an age (`not_age_after` in entities.yaml).
    let notAgeAfter: Set<UInt32>
    /// Lower-case ticket id prefixes, as scalars.
    let ticketPrefixes: [[UInt32]]
    let ruleDescriptions: [String]

    /// The intents, in load order; `out_of_scope` is implicit.
    public let intents: [IntentID]
    /// Each intent's description, by id.
    public let intentDescriptions: [IntentID: String]
    /// Scoring thresholds.
    public let scoring: ScoringSettings
    /// The language for messages that show none.
    public let defaultLanguage: Language
    /// The plan catalogue.
    public let plans: [Plan]
    /// The add-ons.
    public let addons: [Addon]
    /// The dialect lexicons loaded, with their entry counts.
    public let dialectEntryCounts: [DialectID: Int]
    /// Checks written beside the rules (`tests:` in rule files).
    let inlineTests: [InlineTestDef]
    /// The demo accounts of `accounts.yaml`, seeded into a fresh database and into replay's copy.
    public let demoAccounts: [DemoAccount]
    /// Flows, responses and policy of the dialogue.
    public let dialogue: DialogueData

    /// Number of terms in the automaton.
    public var termCount: Int { termText.count }
    /// Number of example utterances indexed.
    public var exampleCount: Int { examples.exampleIntent.count }
    /// Number of compiled patterns.
    public var patternCount: Int { patterns.count }
}

extension RuleSet {
    /// Compiles validated definitions; problems found on the way are returned, not thrown.
    static func compile(_ defs: RuleDefinitions, sources: RuleSources) -> (ruleSet: RuleSet, diagnostics: [Diagnostic]) {
        var builder = RuleSetBuilder(defs: defs, sources: sources)
        let ruleSet = builder.build()
        return (ruleSet, builder.diagnostics)
    }
}

/// Holds the mutable state of compilation.
struct RuleSetBuilder {
    let defs: RuleDefinitions
    let sources: RuleSources
    let normalizer: TextNormalizer
    var diagnostics: [Diagnostic] = []
    var termIndex: [[UInt32]: Int32] = [:]
    var terms: [[UInt32]] = []
    var termText: [String] = []
    var phraseUses: [[RuleSet.PhraseUse]] = []
    var excludes: [[Int32]] = []
    var negators: [[Int32]] = []
    var cueUses: [[Int32]] = []
    var slotUses: [[RuleSet.SlotUse]] = []
    var slotCombos: [RuleSet.SlotCombo] = []
    var rewriteUses: [[RuleSet.RewriteUse]] = []
    var termFlags: [RuleSet.TermFlags] = []
    var ruleDescriptions: [String] = []
    var patternElements: [RuleSet.Element] = []
    var patternTerms: [Int32] = []
    var conceptDefs: [String: ConceptDef] = [:]
    var conceptTerms: [String: [Int32]] = [:]
    var resolving: Set<String> = []

    init(defs: RuleDefinitions, sources: RuleSources) {
        self.defs = defs
        self.sources = sources
        self.normalizer = TextNormalizer(characterMap: defs.characterMap, numeralMeasures: defs.numeralMeasures)
    }

    mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    /// The term id of a literal, normalized like a message; nil (with a diagnostic) when nothing is left.
    mutating func intern(_ literal: String, at location: SourceLocation) -> Int32? {
        let scalars = normalizer.normalize(literal).scalars
        guard !scalars.isEmpty, !(scalars.count == 1 && scalars[0] == Scalar.space) else {
            error(location, "'\(literal)' is empty after normalization")
            return nil
        }
        if let id = termIndex[scalars] { return id }
        let id = Int32(terms.count)
        termIndex[scalars] = id
        terms.append(scalars)
        termText.append(String(String.UnicodeScalarView(scalars.compactMap(Unicode.Scalar.init))))
        phraseUses.append([])
        excludes.append([])
        negators.append([])
        cueUses.append([])
        slotUses.append([])
        rewriteUses.append([])
        termFlags.append([])
        return id
    }

    mutating func resolve(_ ref: TermRef) -> [Int32] {
        switch ref.kind {
        case .literal(let text):
            return intern(text, at: ref.location).map { [$0] } ?? []
        case .concept(let name):
            return concept(name, referencedAt: ref.location)
        }
    }

    mutating func resolve(_ refs: [TermRef]) -> [Int32] {
        var out: [Int32] = []
        for ref in refs { out += resolve(ref) }
        return out
    }

    mutating func concept(_ name: String, referencedAt location: SourceLocation) -> [Int32] {
        if let done = conceptTerms[name] { return done }
        guard let def = conceptDefs[name] else {
            let hint = Spelling.closest(to: name, in: Array(conceptDefs.keys)).map { " (did you mean '~\($0)'?)" } ?? ""
            error(location, "unknown concept '~\(name)'\(hint)")
            return []
        }
        if resolving.contains(name) {
            error(def.location, "concept '~\(name)' includes itself")
            return []
        }
        resolving.insert(name)
        let ids = resolve(def.terms)
        resolving.remove(name)
        conceptTerms[name] = ids
        return ids
    }

    mutating func describe(_ what: String, at location: SourceLocation) -> Int32 {
        ruleDescriptions.append("\(what) (\(location.file):\(location.line))")
        return Int32(ruleDescriptions.count - 1)
    }

    mutating func compilePattern(_ def: PatternDef, intent: Int32, rule: Int32) -> RuleSet.CompiledPattern {
        let first = Int32(patternElements.count)
        for element in def.elements {
            let start = Int32(patternTerms.count)
            switch element {
            case .terms(let refs):
                patternTerms += Array(Set(resolve(refs))).sorted()
                patternElements.append(.init(kind: .terms, termsStart: start, termsEnd: Int32(patternTerms.count)))
            case .negation(let refs):
                patternTerms += Array(Set(resolve(refs))).sorted()
                patternElements.append(.init(kind: .negation, termsStart: start, termsEnd: Int32(patternTerms.count)))
            case .gap: patternElements.append(.init(kind: .gap, termsStart: start, termsEnd: start))
            case .number: patternElements.append(.init(kind: .number, termsStart: start, termsEnd: start))
            }
        }
        return RuleSet.CompiledPattern(elementsStart: first, elementsEnd: Int32(patternElements.count), intent: intent,
                                       weight: Float(def.weight), rule: rule)
    }

    mutating func build() -> RuleSet {
        // Concepts first: names are global across files.
        for concept in defs.concepts {
            if let first = conceptDefs[concept.name] {
                error(concept.location, "concept '\(concept.name)' is defined twice (first at \(first.location))")
            } else {
                conceptDefs[concept.name] = concept
            }
        }
        for concept in defs.concepts where conceptDefs[concept.name]?.location == concept.location {
            _ = self.concept(concept.name, referencedAt: concept.location)
        }

        // Intents.
        var intentIDs: [IntentID] = []
        var intentIndex: [IntentID: Int32] = [:]
        var descriptions: [IntentID: String] = [:]
        var firstLocation: [IntentID: SourceLocation] = [:]
        var patterns: [RuleSet.CompiledPattern] = []
        var regexes: [RuleSet.CompiledRegex] = []
        var examples: [(intent: Int32, text: String, scalars: [UInt32])] = []
        for intent in defs.intents {
            if let first = firstLocation[intent.id] {
                error(intent.location, "intent '\(intent.id)' is defined twice (first at \(first))")
                continue
            }
            firstLocation[intent.id] = intent.location
            let index = Int32(intentIDs.count)
            intentIDs.append(intent.id)
            intentIndex[intent.id] = index
            descriptions[intent.id] = intent.description
            for phrase in intent.phrases {
                let label: String
                switch phrase.term.kind {
                case .literal(let text): label = "phrase '\(text)'"
                case .concept(let name): label = "phrase '~\(name)'"
                }
                let rule = describe(label, at: phrase.term.location)
                for t in resolve(phrase.term) {
                    phraseUses[Int(t)].append(RuleSet.PhraseUse(intent: index, weight: Float(phrase.weight), rule: rule))
                }
            }
            for pattern in intent.patterns {
                let rule = describe("pattern '\(pattern.source)'", at: pattern.location)
                patterns.append(compilePattern(pattern, intent: index, rule: rule))
            }
            for regex in intent.regexes {
                do {
                    let compiled = try NSRegularExpression(pattern: regex.source, options: [.caseInsensitive])
                    let rule = describe("regex '\(regex.source)'", at: regex.location)
                    regexes.append(RuleSet.CompiledRegex(regex: compiled, intent: index, weight: Float(regex.weight), rule: rule))
                } catch {
                    self.error(regex.location, "intent '\(intent.id)': bad regex '\(regex.source)': \(error.localizedDescription)")
                }
            }
            for t in resolve(intent.exclude) { excludes[Int(t)].append(index) }
            for t in resolve(intent.negatedBy) { negators[Int(t)].append(index) }
            for example in intent.examples {
                let scalars = normalizer.normalize(example.text).scalars
                if scalars.isEmpty {
                    error(example.location, "intent '\(intent.id)': example is empty after normalization")
                    continue
                }
                examples.append((index, example.text, scalars))
            }
        }
        for (id, example, named) in defs.exampleBank {
            guard let index = intentIndex[id] else {
                let hint = Spelling.closest(to: id.rawValue, in: intentIDs.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
                error(named, "examples for unknown intent '\(id)'\(hint)")
                continue
            }
            let scalars = normalizer.normalize(example.text).scalars
            if scalars.isEmpty {
                error(example.location, "intent '\(id)': example is empty after normalization")
                continue
            }
            examples.append((index, example.text, scalars))
        }
        for id in IntentID.canonical where sources.requiresCanonicalIntents && intentIndex[id] == nil {
            error(SourceLocation(file: sources.rulesDirectory, line: 1, column: 1),
                  "canonical intent '\(id)' (CONTRACT.md section 2) is not defined by any rule file")
        }
        // Cues.
        var cueGroups: [RuleSet.CueGroup] = []
        for group in defs.cueGroups {
            let index = Int32(cueGroups.count)
            cueGroups.append(RuleSet.CueGroup(kind: group.kind, label: group.label, weight: group.weight))
            for t in resolve(group.terms) { cueUses[Int(t)].append(index) }
        }
        let agePatterns = defs.agePatterns.map { compilePattern($0, intent: -1, rule: -1) }

        // Slots.
        let plans = defs.plans.map(\.0)
        var seenPlan: [String: SourceLocation] = [:]
        for (plan, aliases, location) in defs.plans {
            if let first = seenPlan[plan.code] { error(location, "plan code '\(plan.code)' is used twice (first at \(first))") }
            seenPlan[plan.code] = location
            for t in resolve(aliases) { slotUses[Int(t)].append(RuleSet.SlotUse(slot: .plan, value: plan.code)) }
            if let code = intern(plan.code, at: location) {
                slotUses[Int(code)].append(RuleSet.SlotUse(slot: .plan, value: plan.code))
            }
        }
        var seenAddon: [String: SourceLocation] = [:]
        for (addon, aliases, location) in defs.addons {
            if let first = seenAddon[addon.code] { error(location, "add-on code '\(addon.code)' is used twice (first at \(first))") }
            seenAddon[addon.code] = location
            for t in resolve(aliases) { slotUses[Int(t)].append(RuleSet.SlotUse(slot: .addon, value: addon.code)) }
        }
        let faultTypes: Set<String> = ["no_signal", "slow_data", "broadband_outage", "call_failure", "sms_failure", "other"]
        for vocabulary in defs.slotVocabulary {
            switch vocabulary.slot {
            case .faultType where !faultTypes.contains(vocabulary.value):
                error(vocabulary.location, "unknown fault type '\(vocabulary.value)'; allowed: \(faultTypes.sorted().joined(separator: ", "))")
            case .month where !(1...12).contains(Int(vocabulary.value) ?? 0):
                error(vocabulary.location, "month '\(vocabulary.value)' must be 1...12")
            case .relativeMonth where !(-12...0).contains(Int(vocabulary.value) ?? 1):
                error(vocabulary.location, "relative month '\(vocabulary.value)' must be 0, -1, -2, …")
            default: break
            }
            for t in resolve(vocabulary.terms) {
                slotUses[Int(t)].append(RuleSet.SlotUse(slot: vocabulary.slot, value: vocabulary.value))
            }
            for group in vocabulary.together {
                let use = RuleSet.SlotUse(slot: vocabulary.slot, value: vocabulary.value)
                slotCombos.append(RuleSet.SlotCombo(slotIndex: use.slotIndex, value: use.value, parts: group.map { resolve($0) }))
            }
        }
        for t in resolve(defs.monthContext) { termFlags[Int(t)].insert(.monthContext) }
        for t in resolve(defs.currencyBefore) { termFlags[Int(t)].insert(.currencyBefore) }
        for t in resolve(defs.currencyAfter) { termFlags[Int(t)].insert(.currencyAfter) }
        for t in resolve(defs.pinContext) { termFlags[Int(t)].insert(.pinContext) }

        // Rewrites: dialect entries, corrections, fillers.
        var dialects: [RuleSet.DialectInfo] = []
        var entryCounts: [DialectID: Int] = [:]
        for lexicon in defs.lexicons {
            let index = Int32(dialects.count)
            dialects.append(RuleSet.DialectInfo(id: lexicon.id, name: lexicon.name, minEvidence: lexicon.minEvidence))
            entryCounts[lexicon.id] = lexicon.entries.count
            for entry in lexicon.entries {
                guard let t = intern(entry.source, at: entry.location) else { continue }
                let target = normalizer.normalize(entry.target).scalars
                if target.isEmpty {
                    error(entry.location, "entry '\(entry.source)' has an empty Mandarin target after normalization")
                    continue
                }
                rewriteUses[Int(t)].append(RuleSet.RewriteUse(kind: .dialect(index), target: target, weight: entry.weight))
            }
        }
        for entry in defs.corrections {
            guard let t = intern(entry.source, at: entry.location) else { continue }
            rewriteUses[Int(t)].append(RuleSet.RewriteUse(kind: .correction, target: normalizer.normalize(entry.target).scalars, weight: 1))
        }
        for filler in defs.fillers {
            for t in resolve(filler) { rewriteUses[Int(t)].append(RuleSet.RewriteUse(kind: .filler, target: [], weight: 0)) }
        }

        // Inline tests name intents that must exist.
        for test in defs.tests where test.intent != .outOfScope && intentIndex[test.intent] == nil {
            let hint = Spelling.closest(to: test.intent.rawValue, in: intentIDs.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
            error(test.location, "test names unknown intent '\(test.intent)'\(hint)")
        }

        // English vocabulary for typo correction: every word of the rules, and the words of the
        // examples that are ordinary English (an example written with a typo must not make the
        // typo a known word).
        var vocabulary: [[UInt32]: Int] = [:]
        func addWords(_ s: [UInt32], if accept: (ArraySlice<UInt32>) -> Bool = { _ in true }) {
            Scalar.forEachWord(in: s) { range in
                if s[range].allSatisfy(Scalar.isASCIILetter), accept(s[range]) { vocabulary[Array(s[range]), default: 0] += 1 }
            }
        }
        for t in terms { addWords(t) }
        let ruleWords = TypoCorrector(vocabulary: vocabulary, ordinaryWords: defs.englishWords)
        for e in examples { addWords(e.scalars, if: ruleWords.isKnown) }

        for t in terms.indices {
            if !phraseUses[t].isEmpty { termFlags[t].insert(.phrase) }
            if !excludes[t].isEmpty { termFlags[t].insert(.exclude) }
            if !negators[t].isEmpty { termFlags[t].insert(.negator) }
            if !cueUses[t].isEmpty { termFlags[t].insert(.cue) }
            if !slotUses[t].isEmpty { termFlags[t].insert(.slot) }
            if !rewriteUses[t].isEmpty { termFlags[t].insert(.rewrite) }
        }
        for combo in slotCombos { for part in combo.parts { for t in part { termFlags[Int(t)].insert(.slotPair) } } }
        validateDialogue()
        var ruleSet = RuleSet(
            normalizer: normalizer, automaton: Automaton(terms: terms), termText: termText, phraseUses: FlatLists(phraseUses),
            patternGate: PatternGate(patterns: patterns, elements: patternElements, terms: patternTerms, termCount: terms.count),
            ageGate: PatternGate(patterns: agePatterns, elements: patternElements, terms: patternTerms, termCount: terms.count),
            excludes: FlatLists(excludes), negators: FlatLists(negators),
            cueUses: FlatLists(cueUses), slotUses: FlatLists(slotUses), rewriteUses: FlatLists(rewriteUses), termFlags: termFlags, patterns: patterns,
            agePatterns: agePatterns, patternElements: patternElements, patternTerms: patternTerms,
            elementTerms: ElementTermSet(elements: patternElements, terms: patternTerms, termCount: terms.count), regexes: regexes, examples: ExampleIndex(examples: []),
            typos: TypoCorrector(vocabulary: vocabulary, ordinaryWords: defs.englishWords), dialects: dialects, cueGroups: cueGroups,
            cueSettings: defs.cueSettings, monthNeedsContext: defs.monthNeedsContext,
            notAgeAfter: Set(defs.notAgeAfter.flatMap { normalizer.normalize($0).scalars }),
            ticketPrefixes: defs.ticketPrefixes.map { Array($0.lowercased().unicodeScalars.map(\.value)) }, ruleDescriptions: ruleDescriptions,
            intents: intentIDs, intentDescriptions: descriptions, scoring: defs.scoring,
            defaultLanguage: defs.defaultLanguage, plans: plans, addons: defs.addons.map(\.0),
            dialectEntryCounts: entryCounts, inlineTests: defs.tests,
            demoAccounts: defs.demoAccounts.map(\.0), dialogue: defs.dialogue)
        // Examples are read like messages (a Cantonese example is compared in its Mandarin form).
        var none: Explanation?
        ruleSet.slotCombos = slotCombos
        ruleSet.examples = ExampleIndex(examples: examples.map { example in
            (example.intent, example.text, ruleSet.read(example.text, explanation: &none).normalized.scalars)
        })
        return ruleSet
    }
}

extension RuleSetBuilder {
    /// Flows name defined intents and existing responses; every response the engine uses exists;
    /// demo accounts name plans and add-ons of the catalogue.
    mutating func validateDialogue() {
        let defined = Set(defs.intents.map(\.id))
        for (intent, location) in defs.flowLocations where !defined.contains(intent) {
            error(location, "flow for unknown intent '\(intent)'")
        }
        for (intent, location) in defs.handoffIntentUses where defs.dialogue.flows[intent] == nil {
            error(location, "handoff after_bot names '\(intent)', which has no flow")
        }
        if !defs.dialogue.flows.isEmpty {
            let file = defs.responsesFile ?? "intents/responses.yaml"
            for key in HandoffSummary.requiredTemplates where defs.dialogue.summaryTemplates[key] == nil {
                error(SourceLocation(file: file, line: 1, column: 1), "handoff summary template '\(key)' is missing")
            }
        }
        let responses = defs.dialogue.responses
        for (key, location) in defs.responseUses where responses[key] == nil {
            error(location, "unknown response '\(key)'")
        }
        if !defs.dialogue.flows.isEmpty || !responses.isEmpty {
            let file = defs.responsesFile ?? "intents/responses.yaml"
            for key in DialogueData.requiredResponses where responses[key] == nil {
                error(SourceLocation(file: file, line: 1, column: 1), "response '\(key)' is missing (the dialogue uses it)")
            }
        }
        let plans = Set(defs.plans.map(\.0.code))
        let addons = Set(defs.addons.map(\.0.code))
        for (demo, location) in defs.demoAccounts {
            if !plans.contains(demo.account.planCode) {
                error(location, "account \(demo.account.phone): unknown plan '\(demo.account.planCode)'")
            }
            for code in demo.account.addons where !addons.contains(code) {
                error(location, "account \(demo.account.phone): unknown add-on '\(code)'")
            }
        }
    }
}
