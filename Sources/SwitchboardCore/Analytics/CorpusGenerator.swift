import Foundation

/// A reproducible corpus of conversation logs for replay, analytics and benchmarks.
///
/// Every session is played through the bot (`Conversation` against the demo data, with a clock
/// the generator moves), by a simulated customer who reads each reply and answers it: so the
/// logs are the bot's own, with real intents, cues, handoffs and outcomes. Sessions start over
/// `days` days from `start`, busier by day than by night; customers take 5–60 s over each
/// message; sessions overlap, and the output is ordered by timestamp, interleaved line by line as
/// a server's log is. The same seed gives the same bytes.
///
///     let stream = CorpusGenerator(ruleSet: rules, seed: 7).sessions(600)
///     while let chunk = stream.nextChunk() { try file.write(contentsOf: chunk) }
///     print(stream.summary.line)
///
/// Output streams in chunks: only the sessions in progress (and customers due back) are held, so
/// 200,000 sessions take no more memory than 600.
public struct CorpusGenerator: Sendable {
    /// The rules the bot plays the sessions with (and the demo accounts and plans customers know).
    public let ruleSet: RuleSet
    /// Fixes every choice: the same seed writes the same bytes.
    public let seed: UInt64
    /// The earliest start of a session (2026-11-01T00:00:00Z by default).
    public var start: Date
    /// How many days the session starts spread over.
    public var days: Int

    /// 2026-11-01T00:00:00Z.
    public static let defaultStart = Date(timeIntervalSince1970: 1_793_491_200)

    /// A generator for `ruleSet`, sessions starting over `days` days from `start`.
    public init(ruleSet: RuleSet, seed: UInt64, start: Date = CorpusGenerator.defaultStart, days: Int = 7) {
        self.ruleSet = ruleSet
        self.seed = seed
        self.start = start
        self.days = max(1, days)
    }

    /// `count` sessions as transcript lines (CONTRACT.md section 5), exactly as the chat command
    /// and the server log them.
    public func sessions(_ count: Int) -> CorpusStream {
        CorpusStream(generator: self, count: count, format: .transcript, seed: seed)
    }

    /// `count` sessions of customers the channel did not identify, written as nothing but
    /// `{"session","role":"customer","text"}` lines (masked): the minimal input replay accepts.
    public func customerOnly(_ count: Int) -> CorpusStream {
        CorpusStream(generator: self, count: count, format: .customerOnly, seed: seed ^ 0xC057_0E15_0000_0001)
    }
}

/// One run of the generator: call `nextChunk()` until it returns nil, then read `summary`.
/// A reference: it holds the conversations in progress.
public final class CorpusStream {
    enum Format { case transcript, customerOnly }

    /// Bytes handed out per chunk (at least; a turn's lines are never split).
    public var chunkBytes = 1 << 16
    /// The figures of the sessions written so far (all of them once `nextChunk()` returns nil).
    public private(set) var summary = CorpusSummary()

    private let generator: CorpusGenerator
    private let count: Int
    private let format: Format
    private var rng: CorpusRandom
    private let engine: DialogueEngine
    private let classifier: Classifier
    private let catalog: CorpusCatalog
    private let queue = CorpusHandoffQueue()
    private let ticketNumbers = TicketNumbers()
    private var arrivals: ArrivalTimes
    private var active = TimeQueue<Visit>()
    private var comingBack = TimeQueue<ReturnVisit>()
    private var dayData: (day: Int64, data: InMemoryOperatorData)?
    private var buffer: [UInt8] = []
    private var order = 0
    private var idSalt: UInt64

    init(generator: CorpusGenerator, count: Int, format: Format, seed: UInt64) {
        self.generator = generator
        self.count = max(0, count)
        self.format = format
        rng = CorpusRandom(seed: seed)
        engine = DialogueEngine(rules: generator.ruleSet)
        classifier = Classifier(generator.ruleSet)
        catalog = CorpusCatalog(ruleSet: generator.ruleSet)
        arrivals = ArrivalTimes(count: self.count, start: generator.start, days: generator.days, rng: rng.split())
        idSalt = rng.next()
        buffer.reserveCapacity(chunkBytes + 4096)
    }

    /// The next lines, in timestamp order; nil when every session has ended.
    public func nextChunk() -> [UInt8]? {
        while buffer.count < chunkBytes, step() {}
        guard !buffer.isEmpty else { return nil }
        defer { buffer.removeAll(keepingCapacity: true) }
        return buffer
    }

    // MARK: The clock

    /// Starts the next session or plays the next move of one in progress, whichever comes first.
    private func step() -> Bool {
        let nextArrival = arrivals.peek()
        if let arrival = nextArrival, active.peekTime.map({ arrival <= $0 }) ?? true {
            arrivals.pop()
            begin(at: arrival)
            return true
        }
        guard let (at, visit) = active.pop() else { return false }
        play(visit, at: at)
        return true
    }

    private func schedule(_ visit: Visit, _ move: SimulatedCustomer.Move, after time: Int64) {
        let pause =
            visit.customer.persona.elderly
            ? 15_000 + Int64(visit.rng.unit() * 45_000)
            : 5_000 + Int64(visit.rng.unit() * visit.rng.unit() * 55_000)
        switch move {
        case .say(let text):
            visit.next = .say(text)
            active.push(visit, at: time + pause)
        case .leave:
            visit.next = .leave
            active.push(visit, at: time + pause)
        case .fallSilent:
            // `serve`'s idle timeout (600 s) ends the session with a goodbye.
            visit.next = .idleGoodbye
            active.push(visit, at: time + 600_000)
        }
    }

    // MARK: Sessions

    private func begin(at time: Int64) {
        var visitRNG = rng.split()
        let visit: Visit
        if let (due, back) = comingBack.peek(), due <= time {
            _ = comingBack.pop()
            let hours = Double(time - back.firstStart) / 3_600_000
            if hours <= 24 { summary.repeatsWithinADay += 1 } else { summary.repeatsLater += 1 }
            var persona = back.persona
            if visitRNG.chance(0.3) { persona.channel = Self.channels(&visitRNG, persona.voice) }
            let twist: SimulatedCustomer.Twist = back.goal.isRepeatable && visitRNG.chance(0.3) ? .frustration : .none
            let customer = SimulatedCustomer(
                persona: persona, goals: [back.goal], twist: twist,
                ending: Self.ending(&visitRNG, persona), isRepeat: true, catalog: catalog,
                rng: visitRNG.split())
            visit = makeVisit(customer, store: back.store, at: time, rng: visitRNG)
        } else {
            let customer = freshCustomer(&visitRNG)
            let store = CorpusOperatorData(base: data(on: time), numbers: ticketNumbers)
            visit = makeVisit(customer, store: store, at: time, rng: visitRNG)
            let goal = customer.goals.first
            if customer.persona.identified, let goal, goal.bringsRepeatContact, visit.rng.chance(0.25) {
                let delay = visit.rng.chance(0.8) ? visit.rng.between(1...22) : visit.rng.between(25...60)
                visit.returnAt = time + Int64(delay) * 3_600_000 + Int64(visit.rng.below(3_600_000))
                visit.returnGoal = goal
            }
        }
        visit.clock.set(time)
        emit(visit.conversation.open().events, of: visit)
        let first = visit.customer.opening()
        schedule(visit, first, after: time)
    }

    private func makeVisit(
        _ customer: SimulatedCustomer, store: CorpusOperatorData, at time: Int64, rng: CorpusRandom
    ) -> Visit {
        var rng = rng
        let prefix = format == .customerOnly ? "min" : customer.persona.channel
        let id = prefix + "-" + Self.sessionNumber(order, salt: idSalt)
        order += 1
        let clock = CorpusClock()
        let conversation = Conversation(
            id: id, engine: engine, classifier: classifier, store: store, queue: queue,
            customer: customer.persona.identified ? customer.persona.account.account.phone : nil,
            channel: customer.persona.channel, clock: { clock.now })
        return Visit(
            conversation: conversation, customer: customer, clock: clock, store: store, startedAt: time,
            rng: rng.split())
    }

    private func play(_ visit: Visit, at time: Int64) {
        visit.clock.set(time)
        let conversation = visit.conversation
        switch visit.next {
        case .say(let text):
            queue.advance(to: visit.clock.now)
            let result = conversation.receive(text)
            emit(result.events, of: visit)
            summary.customerTurns += 1
            if conversation.session.frustrated { visit.wasFrustrated = true }
            if result.ended || conversation.session.ended {
                finish(visit)
                return
            }
            let keys = result.events.compactMap(\.response)
            schedule(visit, visit.customer.next(after: keys, in: conversation.session), after: time)
        case .leave:
            finish(visit)
        case .idleGoodbye:
            emit(conversation.sayGoodbye("idle_goodbye").events, of: visit)
            summary.idleEndings += 1
            finish(visit)
        }
    }

    private func finish(_ visit: Visit) {
        emit(visit.conversation.close(), of: visit)
        let session = visit.conversation.session
        for ticket in [session.ticket].compactMap({ $0 }) + session.returnedTickets { queue.forget(ticket) }
        let persona = visit.customer.persona
        summary.sessions += 1
        summary.outcomes[session.outcome.rawValue, default: 0] += 1
        for reason in Set(session.handoffReasons) { summary.handoffReasons[reason, default: 0] += 1 }
        summary.voices[persona.voice.rawValue, default: 0] += 1
        summary.dialectsDetected[session.dialect?.rawValue ?? "none", default: 0] += 1
        summary.channels[persona.channel, default: 0] += 1
        for intent in Set(session.intents) { summary.intents[intent.rawValue, default: 0] += 1 }
        if persona.identified { summary.identified += 1 }
        if session.elderly { summary.elderly += 1 }
        if visit.wasFrustrated { summary.frustrated += 1 }
        if let at = visit.returnAt, let goal = visit.returnGoal {
            comingBack.push(
                ReturnVisit(persona: persona, goal: goal, store: visit.store, firstStart: visit.startedAt), at: at)
        }
    }

    private func emit(_ events: [TranscriptEvent], of visit: Visit) {
        switch format {
        case .transcript:
            for event in events {
                event.write(to: &buffer)
                buffer.append(0x0A)
            }
        case .customerOnly:
            for event in events where event.role == "customer" {
                guard let text = event.maskedText else { continue }
                JSONValue.object([
                    ("session", .string(visit.conversation.session.id)), ("role", .string("customer")),
                    ("text", .string(text)),
                ])
                .write(to: &buffer)
                buffer.append(0x0A)
            }
        }
    }

    /// The demo data as of the session's day (UTC+8), shared read-only by that day's sessions.
    private func data(on time: Int64) -> InMemoryOperatorData {
        let day = (time + 8 * 3_600_000) / 86_400_000
        if let dayData, dayData.day == day { return dayData.data }
        // Seeded as of 08:00 that morning: open tickets are due later that day or the next.
        let morning = Date(timeIntervalSince1970: Double(day * 86_400))
        let data = InMemoryOperatorData(ruleSet: generator.ruleSet, now: morning)
        dayData = (day, data)
        return data
    }

    // MARK: Customers

    private func freshCustomer(_ rng: inout CorpusRandom) -> SimulatedCustomer {
        let voice: CorpusVoice = rng.weighted([
            (.mandarin, 60), (.english, 23), (.yue, 5), (.sichuan, 3), (.dongbei, 3), (.wu, 3),
            (.minnan, 3),
        ])
        let channel = Self.channels(&rng, voice)
        let phone: String
        switch voice {
        case .english: phone = rng.weighted([("15000000005", 75), ("13800000001", 15), ("13900000003", 10)])
        case .yue: phone = rng.weighted([("13700000004", 85), ("13800000001", 15)])
        default:
            phone = rng.weighted([("13800000001", 35), ("13900000003", 22), ("13700000004", 15), ("13800000002", 18)])
        }
        let account = catalog.account(phone) ?? catalog.accounts[0]
        let elderly = account.account.age >= 60 ? rng.chance(0.75) : rng.chance(0.03)
        let identified: Bool
        if format == .customerOnly {
            identified = false
        } else {
            let rate = ["app": 0.75, "wechat": 0.6, "web": 0.25, "chat": 0.2][channel] ?? 0.5
            identified = rng.chance(rate)
        }
        let persona = CorpusPersona(
            voice: voice, channel: channel, account: account, identified: identified, elderly: elderly)
        let goals = elderly ? elderlyGoals(&rng) : Self.goals(for: persona, catalog: catalog, &rng)
        var twist: SimulatedCustomer.Twist = rng.weighted([
            (.none, 64), (.frustration, 10), (.personMidFlow, 7),
            (.silentMidFlow, 12), (.leaveMidFlow, 7),
        ])
        if twist == .frustration && !(goals.first?.isRepeatable ?? false) { twist = .none }
        return SimulatedCustomer(
            persona: persona, goals: goals, twist: twist, ending: Self.ending(&rng, persona), isRepeat: false,
            catalog: catalog, rng: rng.split())
    }

    private static func channels(_ rng: inout CorpusRandom, _ voice: CorpusVoice) -> String {
        rng.weighted([("app", 35), ("wechat", voice == .english ? 8 : 25), ("web", 25), ("chat", 15)])
    }

    private static func ending(_ rng: inout CorpusRandom, _ persona: CorpusPersona) -> SimulatedCustomer.Ending {
        persona.elderly
            ? rng.weighted([(.thanks, 40), (.person, 20), (.leave, 25), (.goodbye, 15)])
            : rng.weighted([(.thanks, 30), (.goodbye, 14), (.thanksGoodbye, 14), (.leave, 32), (.silent, 10)])
    }

    private func elderlyGoals(_ rng: inout CorpusRandom) -> [SimulatedCustomer.Goal] {
        let first: SimulatedCustomer.Goal = rng.weighted([
            (.elderlySelf, 30), (.elderlyRequest, 25), (.balance, 15), (.usage, 8),
            (.statement, 7), (.payment, 8), (.person, 7),
        ])
        return rng.chance(0.2) && first != .person
            ? [first, rng.pick([.balance, .payment, .usage, .statement])] : [first]
    }

    /// What a customer comes for: one request (sometimes two), weighted as a service desk sees them;
    /// a dialect speaker mostly asks what there are dialect words for.
    static func goals(
        for persona: CorpusPersona, catalog: CorpusCatalog, _ rng: inout CorpusRandom
    ) -> [SimulatedCustomer.Goal] {
        let fault = SimulatedCustomer.Goal.faultReport(rng.pick(CorpusCatalog.faultTypes))
        var weights: [(SimulatedCustomer.Goal, Int)] = [
            (.balance, 11), (.statement, 7), (.chargeQuestion, catalog.chargeAmount(persona.account) == nil ? 0 : 4),
            (.dispute, 5),
            (.payment, 6), (.invoice, 3), (.planCurrent, 4), (.planChange, 7), (.planRecommend, 3), (.usage, 9),
            (.addonSubscribe, 4), (.addonUnsubscribe, 3), (fault, 9),
            (.faultStatus, persona.account.tickets.isEmpty ? 2 : 5), (.complaint, 7), (.accountCancel, 3),
            (.privacy, 3),
            (.person, 4), (.outOfScope, 6), (.greeting, 2),
        ]
        if persona.voice.isDialect && rng.chance(0.9) {
            weights = weights.compactMap { goal, weight in
                if case .faultReport = goal {
                    let own = CorpusCatalog.faultTypes.filter {
                        CorpusPhrases.faults[$0]?.dialects[persona.voice] != nil
                    }
                    return own.isEmpty ? nil : (.faultReport(rng.pick(own)), weight)
                }
                return SimulatedCustomer.hasOwnWords(goal, persona) ? (goal, weight) : nil
            }
        }
        let first = rng.weighted(weights.filter { $0.1 > 0 })
        var goals = [first]
        switch first {
        case .greeting:
            goals.append(.help)
            if rng.chance(0.5) { goals.append(rng.pick([.balance, .usage, .payment, .planRecommend])) }
        case .outOfScope:
            if rng.chance(0.5) { goals.append(rng.pick([.balance, .usage, .payment, .statement, .person])) }
        case .person, .complaint, .accountCancel:
            break
        default:
            if rng.chance(0.22) {
                let second = rng.pick([
                    SimulatedCustomer.Goal.balance, .usage, .statement, .planCurrent, .payment, .invoice, .faultStatus,
                ])
                if second != first { goals.append(second) }
            }
        }
        return goals
    }

    /// Session ids: the channel and twelve hex digits, distinct for every session of a run (a
    /// 48-bit bijection of the session's number, keyed by the seed).
    static func sessionNumber(_ n: Int, salt: UInt64) -> String {
        let mask: UInt64 = (1 << 48) - 1
        var x = (UInt64(n) ^ salt) & mask
        x = (x &* 0x9E37_79B9_7F4B) & mask
        x ^= x >> 24
        x = (x &* 0xBF58_476D_1CE5) & mask
        x ^= x >> 21
        let hex = String(x, radix: 16)
        return String(repeating: "0", count: 12 - hex.count) + hex
    }
}

/// A session in progress.
private final class Visit {
    enum Next {
        case say(String)
        case leave, idleGoodbye
    }

    let conversation: Conversation
    var customer: SimulatedCustomer
    let clock: CorpusClock
    let store: CorpusOperatorData
    let startedAt: Int64
    var rng: CorpusRandom
    var next = Next.leave
    var wasFrustrated = false
    var returnAt: Int64?
    var returnGoal: SimulatedCustomer.Goal?

    init(
        conversation: Conversation, customer: SimulatedCustomer, clock: CorpusClock, store: CorpusOperatorData,
        startedAt: Int64, rng: CorpusRandom
    ) {
        self.conversation = conversation
        self.customer = customer
        self.clock = clock
        self.store = store
        self.startedAt = startedAt
        self.rng = rng
    }
}

/// A customer due back with the same request, with what they left in the data last time.
private struct ReturnVisit {
    var persona: CorpusPersona
    var goal: SimulatedCustomer.Goal
    var store: CorpusOperatorData
    var firstStart: Int64
}

/// The clock one conversation reads: set by the generator before each move. The lock is only
/// there to make it honestly `Sendable` (the conversation's clock must be); one thread uses it.
private final class CorpusClock: @unchecked Sendable {
    private let lock = NSLock()
    private var time = Date(timeIntervalSince1970: 0)

    var now: Date { lock.withLock { time } }

    /// Milliseconds since 1970. (Half a millisecond in, so writing the timestamp, which rounds
    /// down to the millisecond, never lands on the one before.)
    func set(_ milliseconds: Int64) {
        let date = Date(timeIntervalSince1970: (Double(milliseconds) + 0.5) / 1000)
        lock.withLock { time = date }
    }
}

/// Session start times, in order, spread over the days as a service desk sees them: each session
/// gets its own slice of the week's traffic (so the times come out sorted with no sort), and the
/// hours of the week are weighted by when customers write (UTC+8: quiet at night, busy in the
/// morning and evening, a little quieter at the weekend).
private struct ArrivalTimes {
    private let count: Int
    private var index = 0
    private var rng: CorpusRandom
    private let startMilliseconds: Int64
    /// Cumulative weight at the end of each hour of the period.
    private var cumulative: [Double] = []
    private var upcoming: Int64?

    private static let hourWeights: [Double] = [
        1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 4, 6, 7, 7, 5, 5, 6, 6, 6, 5, 5, 6, 7, 6, 4, 2,
    ]

    init(count: Int, start: Date, days: Int, rng: CorpusRandom) {
        self.count = count
        self.rng = rng
        startMilliseconds = Int64((start.timeIntervalSince1970 * 1000).rounded(.down))
        var total = 0.0
        let startHour = startMilliseconds / 3_600_000
        for h in 0..<Int64(days * 24) {
            let localHour = startHour + h + 8
            let weekday = (localHour / 24 + 4) % 7  // 0 is Sunday (1970-01-01 was a Thursday)
            let weekend = weekday == 0 || weekday == 6 ? 0.8 : 1.0
            total += Self.hourWeights[Int(localHour % 24)] * weekend
            cumulative.append(total)
        }
        upcoming = next()
    }

    func peek() -> Int64? { upcoming }

    mutating func pop() { upcoming = next() }

    private mutating func next() -> Int64? {
        guard index < count, let total = cumulative.last else { return nil }
        let u = (Double(index) + rng.unit()) / Double(count)
        index += 1
        let target = u * total
        // The hour whose weight holds the target, then the place inside it.
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        let before = low == 0 ? 0 : cumulative[low - 1]
        let fraction = (target - before) / (cumulative[low] - before)
        return startMilliseconds + Int64(low) * 3_600_000 + Int64(fraction * 3_600_000)
    }
}

/// A min-queue by time (ties in the order pushed): the sessions waiting for their next move.
private struct TimeQueue<Element> {
    private var heap: [(at: Int64, order: Int, element: Element)] = []
    private var pushed = 0

    var peekTime: Int64? { heap.first?.at }

    func peek() -> (Int64, Element)? { heap.first.map { ($0.at, $0.element) } }

    mutating func push(_ element: Element, at time: Int64) {
        heap.append((time, pushed, element))
        pushed += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Int64, Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && less(left, smallest) { smallest = left }
            if right < heap.count && less(right, smallest) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.at, top.element)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].at < heap[b].at || (heap[a].at == heap[b].at && heap[a].order < heap[b].order)
    }
}
