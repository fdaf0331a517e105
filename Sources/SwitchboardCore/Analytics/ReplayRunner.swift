import Dispatch
import Foundation

/// Replays logs end to end: one thread reads and groups lines into sessions, the others replay
/// batches of sessions, and the tally takes the results back in input order, so the report is
/// the same however the threads ran.
public final class ReplayRunner {
    public struct Options: Sendable {
        public var compare = false
        /// Sessions silent this long (log time) are complete even without an `end` event.
        public var sessionGap: Double = 2 * 3600
        /// Replaying threads (default: one per core).
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var clusterLimit = 20
        public var batchSize = 256
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
        let total = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let pipeline = Pipeline(runner: self, tally: tally)
        var done: [RecordedSession] = []
        var readBefore = 0
        let reader = LineBlocks()
        for file in files {
            do {
                try reader.read(path: file, progress: { progress?(readBefore + $0, total) }) { piece in
                    guard case .line(let line) = piece else {
                        input.skippedLines += 1
                        return
                    }
                    if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                    guard let record = LogRecord.parse(line) else {
                        input.skippedLines += 1
                        return
                    }
                    pipeline.noteTime(record.time)
                    assembler.add(record, into: &done)
                    if done.count >= options.batchSize {
                        pipeline.submit(done)
                        done.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                input.unreadableFiles.append(file)
            }
            readBefore += (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        }
        assembler.finish(into: &done)
        for start in stride(from: 0, to: done.count, by: options.batchSize) {
            pipeline.submit(Array(done[start..<min(done.count, start + options.batchSize)]))
        }
        pipeline.finish()
        input.lateLines = assembler.lateLines
        input.maskedLines = assembler.maskedLines
        input.peakOpenSessions = assembler.peakOpen
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Result(tally: tally, input: input, seconds: seconds, clusterLimit: options.clusterLimit)
    }

    /// Batches out to the replaying threads; results back to the tally in submission order.
    final class Pipeline: @unchecked Sendable {
        let runner: ReplayRunner
        let tally: ReplayTally
        private let lock = NSCondition()
        /// A thread's engines: the rules replayed, and the other rule set's (what-if).
        final class Engines: @unchecked Sendable {
            let base: Replay
            let other: Replay?
            init(_ base: Replay, _ other: Replay?) {
                self.base = base
                self.other = other
            }
        }
        private var engines: [Engines] = []
        private var madeEngines = 0
        private var finished: [Int: [(SessionResult, SessionResult?)]] = [:]
        private var nextToTally = 0
        private var submitted = 0
        private var inFlight = 0
        private var now: Date?
        private let queue = DispatchQueue(label: "replay", attributes: .concurrent)

        init(runner: ReplayRunner, tally: ReplayTally) {
            self.runner = runner
            self.tally = tally
        }

        /// Replay runs as of the log's first timestamp (so the same log gives the same report on
        /// any day); a log without timestamps runs as of 2026-01-01T00:00:00Z.
        func noteTime(_ time: Double?) {
            if now == nil, let time { now = Date(timeIntervalSince1970: time) }
        }

        func submit(_ batch: [RecordedSession]) {
            guard !batch.isEmpty else { return }
            lock.lock()
            // At most two batches per thread in flight: memory stays bounded however big the log.
            while inFlight >= runner.options.threads * 2 {
                lock.wait()
                drainLocked()
            }
            let number = submitted
            submitted += 1
            inFlight += 1
            if now == nil { now = Date(timeIntervalSince1970: 1_767_225_600) }
            let engine = engines.popLast() ?? {
                madeEngines += 1
                return Engines(Replay(ruleSet: runner.base, now: now!), runner.other.map { Replay(ruleSet: $0.rules, now: now!) })
            }()
            lock.unlock()
            queue.async { [self] in
                let results = batch.map { recorded in (engine.base.run(recorded), engine.other?.run(recorded)) }
                lock.lock()
                engines.append(engine)
                finished[number] = results
                inFlight -= 1
                lock.signal()
                lock.unlock()
            }
            lock.lock()
            drainLocked()
            lock.unlock()
        }

        /// Tallies finished batches in order (called with the lock held; the tally is only ever
        /// touched by the reading thread).
        private func drainLocked() {
            while let results = finished.removeValue(forKey: nextToTally) {
                nextToTally += 1
                lock.unlock()
                for (result, other) in results { tally.add(result, other: other) }
                lock.lock()
            }
        }

        func finish() {
            lock.lock()
            while nextToTally < submitted {
                drainLocked()
                if nextToTally < submitted { lock.wait() }
            }
            lock.unlock()
        }
    }
}
