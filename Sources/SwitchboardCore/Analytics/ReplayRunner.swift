import Dispatch
import Foundation

/// Replays logs end to end. The calling thread reads the files in blocks, groups the parsed lines
/// into sessions and tallies the results; the blocks are parsed, and batches of sessions
/// replayed, on every core. Both come back in input order, so the report is the same however
/// the threads ran.
public final class ReplayRunner {
    public struct Options: Sendable {
        public var compare = false
        /// Sessions silent this long (log time) are complete even without an `end` event.
        public var sessionGap: Double = 2 * 3600
        /// Blocks parsed or batches replayed at once (default: one per core).
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var clusterLimit = 20
        public var batchSize = 1024
        /// Classifications of messages seen before are remembered (per thread); off, every message
        /// is classified anew. The report is the same.
        public var remembersMessages = true
        public init() {}
    }

    let base: RuleSet
    let other: (rules: RuleSet, names: (base: String, other: String))?
    let options: Options

    public init(rules: RuleSet, other: (rules: RuleSet, names: (base: String, other: String))? = nil, options: Options = Options()) {
        self.base = rules
        self.other = other
        self.options = options
    }

    /// What a run produced: write it with `writeJSON`, or read the figures.
    public final class Result {
        public let tally: ReplayTally
        public let input: ReplayTally.InputCounts
        public let seconds: Double
        /// Messages whose classification came from memory.
        public var classifiedFromMemory = 0
        let clusterLimit: Int
        private var built: ReportPiece?

        init(tally: ReplayTally, input: ReplayTally.InputCounts, seconds: Double, clusterLimit: Int) {
            self.tally = tally
            self.input = input
            self.seconds = seconds
            self.clusterLimit = clusterLimit
        }

        var pieces: ReportPiece {
            if let built { return built }
            let made = tally.pieces(input, clusterLimit: clusterLimit)
            built = made
            return made
        }

        /// The report as one JSON document, written in blocks (the per-session lists stream from disk).
        public func writeJSON(_ sink: (Data) -> Void) { pieces.write(sink) }

        /// The report without its per-session list; changed sessions cut to the first 200 (the HTML page).
        public var summary: JSONValue {
            guard case .object(let members) = pieces.inMemory ?? .null else { return .null }
            return .object(members.map { key, value in
                let comparison = key == "compare" ? tally.compare : key == "what_if" ? tally.whatIf : nil
                guard let comparison, case .object(let fields) = value else { return (key, value) }
                return (key, .object(fields + [("changed_sessions", .array(comparison.firstChanged))]))
            })
        }
    }

    /// Replays every file, in order. `progress` gets bytes read and the total after each block.
    public func run(files: [String], progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let started = DispatchTime.now().uptimeNanoseconds
        let tally = try ReplayTally(compare: options.compare, whatIf: other?.names)
        var input = ReplayTally.InputCounts()
        var assembler = SessionAssembler(gap: options.sessionGap)
        let sizes = files.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
        let total = sizes.reduce(0, +)
        // Blocks of lines are parsed on every core; sessions are assembled here, in file order;
        // batches of sessions are replayed on every core and tallied here, in order.
        let workers = WorkerThreads(count: options.threads, name: "replay")
        defer { workers.stop() }
        let parsing = OrderedStage<ParsedBlock>(limit: options.threads * 3, workers: workers)
        let replaying = OrderedStage<ReplayTally.Batch>(limit: options.threads * 8, workers: workers)
        let engines = EnginePool(runner: self)
        var done: [RecordedSession] = []
        func replay(_ batch: [RecordedSession]) {
            guard !batch.isEmpty else { return }
            if engines.now == nil { engines.now = EnginePool.logWithoutTimes }
            let keepsResults = tally.keepsResults
            replaying.submit({
                let engine = engines.take()
                defer { engines.give(engine) }
                var replayed = ReplayTally.Batch(keepsResults: keepsResults, capacity: batch.count)
                for recorded in batch { replayed.add(engine.base.run(recorded), other: engine.other?.run(recorded)) }
                return replayed
            }, drain: tally.add)
        }
        func assemble(_ parsed: ParsedBlock) {
            input.skippedLines += parsed.skipped
            for record in parsed.records {
                // Replay runs as of the log's first timestamp (so the same log gives the same report
                // on any day); a log without timestamps runs as of 2026-01-01T00:00:00Z.
                if engines.now == nil, let time = record.time { engines.now = Date(timeIntervalSince1970: time) }
                assembler.add(record, strings: parsed.strings, ids: parsed.ids, into: &done)
                if done.count >= options.batchSize {
                    replay(done)
                    done.removeAll(keepingCapacity: true)
                }
            }
        }
        let reader = LineBlocks()
        let pool = BlockPool(keep: options.threads * 3 + 2)
        var readBefore = 0
        for (file, size) in zip(files, sizes) {
            do {
                try reader.read(path: file, pool: pool, progress: { progress?(readBefore + $0, total) }) { chunk in
                    switch chunk {
                    case .tooLong:
                        input.skippedLines += 1
                    case .lines(let block):
                        parsing.submit({
                            let parsed = ParsedBlock(block, reader: reader)
                            pool.give(block)
                            return parsed
                        }, drain: assemble)
                    }
                }
            } catch {
                input.unreadableFiles.append(file)
            }
            readBefore += size
        }
        parsing.finish(assemble)
        assembler.finish(into: &done)
        for start in stride(from: 0, to: done.count, by: options.batchSize) {
            replay(Array(done[start..<min(done.count, start + options.batchSize)]))
        }
        replaying.finish(tally.add)
        input.lateLines = assembler.lateLines
        input.maskedLines = assembler.maskedLines
        input.peakOpenSessions = assembler.peakOpen
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let result = Result(tally: tally, input: input, seconds: seconds, clusterLimit: options.clusterLimit)
        result.classifiedFromMemory = engines.classifiedFromMemory
        return result
    }

    /// What replay keeps of a block of lines: customer and system lines, and the first line of a
    /// run that names the customer (a session verified in the chat is named on the bot's lines
    /// from then on); how many lines were not transcript lines at all.
    struct ParsedBlock: @unchecked Sendable {
        var records: [LogRecord] = []
        /// The records' strings and session ids (`LogRecord` holds indexes into these).
        var strings: [String] = []
        var ids: [UInt8] = []
        var skipped = 0

        init(_ block: [UInt8], reader: LineBlocks) {
            var parser = LogRecord.Parser()
            var named: LogRecord?  // the last bot line that named the customer
            block.withUnsafeBufferPointer { buffer in
                reader.lines(of: buffer) { line in
                    guard let line else {
                        skipped += 1
                        return
                    }
                    if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                    let mark = parser.strings.count
                    guard let record = parser.parse(line) else {
                        skipped += 1
                        return
                    }
                    if record.role == .customer || record.role == .system {
                        records.append(record)
                    } else if record.customer != LogRecord.none, !(named.map { parser.sameSession(record, $0) } ?? false) {
                        named = record
                        records.append(record)
                    } else {
                        parser.drop(since: mark)
                    }
                }
            }
            strings = parser.strings
            ids = parser.ids
        }
    }

    /// Each replaying thread's engines: the rules replayed, and the other rule set's (what-if).
    final class Engines: @unchecked Sendable {
        let base: Replay
        let other: Replay?
        init(_ base: Replay, _ other: Replay?) {
            self.base = base
            self.other = other
        }
    }

    final class EnginePool: @unchecked Sendable {
        let runner: ReplayRunner
        private let lock = NSLock()
        private var free: [Engines] = []
        private var all: [Engines] = []
        /// The instant replay runs at: the log's first timestamp, or this for a log without any.
        var now: Date?
        static let logWithoutTimes = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

        init(runner: ReplayRunner) { self.runner = runner }

        func take() -> Engines {
            lock.lock()
            defer { lock.unlock() }
            if let engine = free.popLast() { return engine }
            let now = self.now ?? Self.logWithoutTimes
            let made = Engines(Replay(ruleSet: runner.base, now: now), runner.other.map { Replay(ruleSet: $0.rules, now: now) })
            made.base.remembersMessages = runner.options.remembersMessages
            made.other?.remembersMessages = runner.options.remembersMessages
            all.append(made)
            return made
        }

        func give(_ engine: Engines) {
            lock.lock()
            free.append(engine)
            lock.unlock()
        }

        /// Messages classified from memory, over all threads.
        var classifiedFromMemory: Int {
            lock.lock()
            defer { lock.unlock() }
            return all.reduce(0) { $0 + $1.base.classifiedFromMemory + ($1.other?.classifiedFromMemory ?? 0) }
        }
    }
}

/// Work run on other threads whose results are taken back in the order it was submitted, with
/// at most `limit` pieces in flight (so memory stays bounded however long the input).
final class OrderedStage<Output>: @unchecked Sendable {
    private let lock = NSCondition()
    private var finished: [Int: Output] = [:]
    private var submitted = 0
    private var next = 0
    private let limit: Int
    private let workers: WorkerThreads
    /// Outputs already drained, handed to the next piece of work to be let go on its thread:
    /// releasing a batch's results (their strings and arrays) cost the draining thread as much
    /// as tallying them.
    private var spent: [Output] = []
    private struct Spent: @unchecked Sendable { let outputs: [Output] }

    init(limit: Int, workers: WorkerThreads) {
        self.limit = max(1, limit)
        self.workers = workers
    }

    /// Queues `work`; `drain` gets finished outputs, in order, on the calling thread.
    func submit(_ work: @escaping @Sendable () -> Output, drain: (Output) -> Void) {
        lock.lock()
        while submitted - next >= limit {
            if !takeReady(drain) { lock.wait() }
        }
        let number = submitted
        submitted += 1
        lock.unlock()
        let spent = Spent(outputs: self.spent)
        self.spent = []
        workers.run { [self] in
            withExtendedLifetime(spent) {}  // released with this job, on its thread
            let output = work()
            lock.lock()
            finished[number] = output
            lock.broadcast()
            lock.unlock()
        }
        lock.lock()
        _ = takeReady(drain)
        lock.unlock()
    }

    /// Waits for everything submitted, draining it in order.
    func finish(_ drain: (Output) -> Void) {
        lock.lock()
        while next < submitted {
            if !takeReady(drain) { lock.wait() }
        }
        lock.unlock()
    }

    /// Hands over the outputs ready in order (with the lock released meanwhile); false if none was.
    private func takeReady(_ drain: (Output) -> Void) -> Bool {
        var took = false
        while let output = finished.removeValue(forKey: next) {
            next += 1
            took = true
            lock.unlock()
            drain(output)
            spent.append(output)
            lock.lock()
        }
        return took
    }
}
