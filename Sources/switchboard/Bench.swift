import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardStore

/// `switchboard bench`: classification throughput and latency on a generated workload.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure rule-set load time, classification throughput and latency percentiles.",
        discussion: "'bench serve' load-tests the socket server instead.",
        subcommands: [BenchServe.self]
    )

    @OptionGroup var options: RuleOptions

    @Option(help: "Number of classifications to time.")
    var count: Int = 200_000

    @Option(help: "Distinct utterances in the generated workload.")
    var distinct: Int = 20_000

    @Option(help: "Time this one utterance instead of the generated workload.")
    var utterance: String?

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    @Flag(help: "Time whole conversation turns (understand, dialogue step, transcript events) instead of classification alone.")
    var turns = false

    @Flag(help: "Time handing off to the SQLite queue (enqueue and commit, on a temporary file) and agents claiming.")
    var handoff = false

    @Option(parsing: .upToNextOption, help: "Time replaying these transcript files or folders (three runs, every core), instead of classification.")
    var replay: [String] = []

    @Flag(name: .customLong("no-memo"), help: "With --replay: classify every message anew, even one seen before.")
    var noMemo = false

    func validate() throws {
        guard count >= 1000 else { throw ValidationError("--count must be at least 1000, got \(count)") }
        guard distinct >= 1 else { throw ValidationError("--distinct must be at least 1, got \(distinct)") }
    }

    func run() throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let ruleSet = try options.loadRuleSet()
        let loadMs = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let workload = utterance.map { [$0] } ?? Workload(ruleSet: ruleSet, count: distinct).utterances
        guard !workload.isEmpty else {
            StandardError.write("switchboard bench: the rule set has no examples to build a workload from\n")
            throw ExitCode(1)
        }
        if turns { return try benchTurns(ruleSet, workload: workload, loadMs: loadMs) }
        if handoff { return try benchHandoff(ruleSet) }
        if !replay.isEmpty { return try benchReplay(ruleSet) }
        // One classifier for the run, as a chat loop or a replay keeps one per thread.
        let classifier = Classifier(ruleSet)
        // Warm-up: caches, lazily built string storage.
        var sink = 0
        for text in workload.prefix(2000) { sink &+= classifier.classify(text).slots.entries.count }

        var latencies = [UInt64](repeating: 0, count: count)
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = classifier.classify(workload[i % workload.count])
            latencies[i] = DispatchTime.now().uptimeNanoseconds - t0
            sink &+= result.intent.rawValue.utf8.count
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
        }
        let throughput = Double(count) / total
        let figures: [(String, Double)] = [
            ("load_ms", loadMs), ("classifications", Double(count)), ("per_second", throughput.rounded()),
            ("mean_us", total * 1e6 / Double(count)), ("p50_us", percentile(0.5)), ("p90_us", percentile(0.9)),
            ("p99_us", percentile(0.99)), ("p999_us", percentile(0.999)), ("max_us", Double(latencies.last!) / 1000),
        ]
        if json {
            print(JSONValue.object(figures.map { ($0.0, .double($0.1)) }).serialized())
        } else {
            print("rule set: \(ruleSet.intents.count) intents, \(ruleSet.termCount) terms, \(ruleSet.patternCount) patterns, \(ruleSet.exampleCount) examples; loaded in \(String(format: "%.1f", loadMs)) ms")
            print(utterance == nil
                  ? "workload: \(workload.count) distinct generated utterances, \(count) classifications on one thread"
                  : "workload: one utterance, \(count) classifications on one thread")
            print(String(format: "throughput: %.0f classifications/s   mean %.2f µs", throughput, total * 1e6 / Double(count)))
            print(String(format: "latency µs: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.1f",
                         percentile(0.5), percentile(0.9), percentile(0.99), percentile(0.999), Double(latencies.last!) / 1000))
        }
        if sink == 42 { print("") }  // keeps the optimizer from dropping the work
    }

    /// Conversations of up to eight messages from the workload, each turn timed with its
    /// transcript events built and serialized into a buffer, as the log writer takes them.
    func benchTurns(_ ruleSet: RuleSet, workload: [String], loadMs: Double) throws {
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        let now = Date()
        let store = InMemoryOperatorData(ruleSet: ruleSet, now: now)
        let customers = ruleSet.demoAccounts.map(\.account.phone)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        var sessions = 0
        func conversation() -> Conversation {
            sessions += 1
            let c = Conversation(id: "bench-\(sessions)", engine: engine, classifier: classifier, store: store,
                                 customer: customers.isEmpty ? nil : customers[sessions % customers.count], clock: { now })
            _ = c.open()
            return c
        }
        var current = conversation()
        var latencies = [UInt64](repeating: 0, count: count)
        // Turns that hand off build the packet and queue it: timed apart as well.
        var handoffs: [UInt64] = []
        var others: [UInt64] = []
        others.reserveCapacity(count)
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            if i % 8 == 0 || current.session.handedOff || current.session.ended { current = conversation() }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = current.receive(workload[i % workload.count])
            for event in result.events {
                event.write(to: &buffer)
                buffer.append(0x0A)
            }
            latencies[i] = DispatchTime.now().uptimeNanoseconds - t0
            if result.handedOff { handoffs.append(latencies[i]) } else { others.append(latencies[i]) }
            sink &+= result.replies.count
            if buffer.count > 1 << 20 { buffer.removeAll(keepingCapacity: true) }
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
        }
        let mean = total * 1e6 / Double(count)
        handoffs.sort()
        others.sort()
        func share(_ values: [UInt64], _ p: Double) -> Double {
            values.isEmpty ? 0 : Double(values[min(values.count - 1, Int(Double(values.count) * p))]) / 1000
        }
        func average(_ values: [UInt64]) -> Double { values.isEmpty ? 0 : Double(values.reduce(0, +)) / Double(values.count) / 1000 }
        if json {
            print(JSONValue.object([
                ("load_ms", .double(loadMs)), ("turns", .int(count)), ("sessions", .int(sessions)),
                ("per_second", .double((Double(count) / total).rounded())), ("mean_us", .double(mean)),
                ("p50_us", .double(percentile(0.5))), ("p99_us", .double(percentile(0.99))),
                ("other_turns_mean_us", .double(average(others))), ("other_turns_p99_us", .double(share(others, 0.99))),
                ("handoff_turns", .int(handoffs.count)), ("handoff_turns_mean_us", .double(average(handoffs))),
                ("handoff_turns_p99_us", .double(share(handoffs, 0.99))),
            ]).serialized())
        } else {
            print("turns: \(count) customer messages in \(sessions) conversations (in-memory account data and queue, events serialized)")
            print(String(format: "throughput: %.0f turns/s   mean %.2f µs   p50 %.2f  p99 %.2f  p99.9 %.2f µs",
                         Double(count) / total, mean, percentile(0.5), percentile(0.99), percentile(0.999)))
            print(String(format: "turns without a handoff (%d): mean %.2f µs  p50 %.2f  p99 %.2f µs", others.count, average(others),
                         share(others, 0.5), share(others, 0.99)))
            print(String(format: "turns that hand off (%d: packet built, summary written, queued in memory): mean %.1f µs  p50 %.1f  p99 %.1f µs",
                         handoffs.count, average(handoffs), share(handoffs, 0.5), share(handoffs, 0.99)))
        }
        if sink == 42 { print("") }
    }

    /// Real handoff packets (conversations that end in 转人工 or a complaint) enqueued one by one into
    /// a fresh SQLite file, each timed from the call to the commit; then agents claim them all.
    func benchHandoff(_ ruleSet: RuleSet) throws {
        let engine = DialogueEngine(rules: ruleSet)
        let classifier = Classifier(ruleSet)
        let now = Date()
        let store = InMemoryOperatorData(ruleSet: ruleSet, now: now)
        let scripts: [(String?, [String])] = [
            (nil, ["转人工"]), ("13800000001", ["上个月账单多少", "为什么这么贵", "转人工"]),
            ("15000000005", ["my broadband is down again", "this is ridiculous, third time!!!", "get me a person"]),
            ("13700000004", ["我想投诉", "你们乱扣我彩铃费，扣了三个月都没人管，我要投诉到工信部"]),
        ]
        // The packets a day of handoffs would bring: built once, enqueued in the timed loop.
        var packets: [HandoffPacket] = []
        let buildStart = DispatchTime.now().uptimeNanoseconds
        for i in 0..<500 {
            let (customer, lines) = scripts[i % scripts.count]
            let c = Conversation(id: "bench-\(i)", engine: engine, classifier: classifier, store: store, customer: customer,
                                 clock: { now })
            _ = c.open()
            for line in lines where !c.session.handedOff { _ = c.receive(line) }
            if let p = c.packet { packets.append(p) }
        }
        let buildUs = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e3 / Double(max(1, packets.count))
        guard !packets.isEmpty else {
            StandardError.write("switchboard bench: the scripted conversations did not hand off\n")
            throw ExitCode(1)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("queue.sqlite").path
        let queue = try SQLiteHandoffQueue(path: path, policy: ruleSet.dialogue.handoff)
        let n = max(1000, count / 100)
        var latencies = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            var packet = packets[i % packets.count]
            packet.session = "bench-\(i)"
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try queue.enqueueTicket(packet, at: now)
            latencies[i] = DispatchTime.now().uptimeNanoseconds - t0
        }
        latencies.sort()
        func percentile(_ values: [UInt64], _ p: Double) -> Double {
            Double(values[min(values.count - 1, Int(Double(values.count) * p))]) / 1000
        }
        // Claims: one agent takes every ticket, each claim its own write transaction.
        _ = try queue.login(name: "bench", skills: ["zh", "en", "yue", "billing", "plans", "technical", "complaints", "retention", "security"],
                            at: now)
        var claims: [UInt64] = []
        while true {
            let t0 = DispatchTime.now().uptimeNanoseconds
            guard try queue.claimNext(agent: "bench", at: now) != nil else { break }
            claims.append(DispatchTime.now().uptimeNanoseconds - t0)
            if claims.count >= 1000 { break }
        }
        claims.sort()
        let bytes = packets.map { $0.encoded().count }.reduce(0, +) / packets.count
        if json {
            print(JSONValue.object([
                ("enqueues", .int(n)), ("packet_bytes", .int(bytes)), ("packet_build_us", .double(buildUs.rounded())),
                ("enqueue_p50_us", .double(percentile(latencies, 0.5))), ("enqueue_p99_us", .double(percentile(latencies, 0.99))),
                ("enqueue_max_us", .double(Double(latencies.last!) / 1000)),
                ("claim_p50_us", .double(claims.isEmpty ? 0 : percentile(claims, 0.5))),
                ("claim_p99_us", .double(claims.isEmpty ? 0 : percentile(claims, 0.99))),
            ]).serialized())
        } else {
            print("handoff: \(n) enqueues of real packets (mean \(bytes) bytes of JSON) into a fresh SQLite file (WAL), each committed")
            print(String(format: "enqueue + commit µs: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f", percentile(latencies, 0.5),
                         percentile(latencies, 0.9), percentile(latencies, 0.99), Double(latencies.last!) / 1000))
            if !claims.isEmpty {
                print(String(format: "claim next (%d claims, queue of %d) µs: p50 %.0f  p99 %.0f", claims.count, n,
                             percentile(claims, 0.5), percentile(claims, 0.99)))
            }
            print(String(format: "building a packet from a conversation (summary, re-read rules, transcript): %.0f µs", buildUs))
        }
    }
}

extension Bench {
    /// Replays the files three times and reports customer turns per second, the input rate and the
    /// process's peak memory (which should follow the open sessions, not the file size).
    func benchReplay(_ ruleSet: RuleSet) throws {
        let (files, missing) = FileSearch.files(replay, suffixes: [".jsonl"])
        if let path = missing.first {
            StandardError.write("switchboard bench: no such file or folder: \(path)\n")
            throw ExitCode(1)
        }
        let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        var rows: [(seconds: Double, turns: Int, masked: Int, sessions: Int, open: Int, classified: Int)] = []
        var options = ReplayRunner.Options()
        if noMemo { options.remembersMessages = false }
        for _ in 0..<3 {
            // Timed to the last byte of the JSON report (clusters, every session's detail).
            let started = DispatchTime.now().uptimeNanoseconds
            let result = try ReplayRunner(rules: ruleSet, options: options).run(files: files)
            var sink = 0
            result.writeJSON { sink &+= $0.count }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            rows.append((seconds, result.tally.turns, result.input.maskedLines, result.tally.outcomes.sessions,
                         result.input.peakOpenSessions, result.classifiedFromMemory))
        }
        let rates = rows.map { Double($0.turns) / $0.seconds }
        // Identity answers (masked numbers and PINs) are customer lines too: read, then dropped.
        let logRates = rows.map { Double($0.turns + $0.masked) / $0.seconds }
        let peak = BenchServe.memory(pid: getpid(), field: "VmHWM") / 1_048_576
        if json {
            print(JSONValue.object([
                ("files", .int(files.count)), ("bytes", .int(bytes)), ("sessions", .int(rows[0].sessions)), ("turns", .int(rows[0].turns)),
                ("identity_answers", .int(rows[0].masked)),
                ("turns_per_s", .array(rates.map { .double($0.rounded()) })), ("log_turns_per_s", .array(logRates.map { .double($0.rounded()) })),
                ("seconds", .array(rows.map { .double($0.seconds) })),
                ("peak_open_sessions", .int(rows[0].open)), ("peak_rss_mb", .int(peak)), ("messages_classified_from_memory", .int(rows[0].classified)),
                ("threads", .int(ProcessInfo.processInfo.activeProcessorCount)),
            ]).serialized())
        } else {
            print("switchboard bench --replay — \(files.count) file(s), \(bytes / 1_000_000) MB, \(rows[0].sessions) sessions, "
                  + "\(rows[0].turns) customer turns replayed (+ \(rows[0].masked) identity answers read and dropped)")
            for (k, row) in rows.enumerated() {
                print(String(format: "  run %d  %.2f s  %.0f turns/s replayed  (%.0f customer lines/s)  %.0f MB/s", k + 1, row.seconds, rates[k],
                             logRates[k], Double(bytes) / row.seconds / 1e6))
            }
            print("  peak open sessions \(rows[0].open), peak memory \(peak) MB, \(ProcessInfo.processInfo.activeProcessorCount) replaying threads")
            print("  classifications answered from memory (messages seen before): \(rows[0].classified)" + (noMemo ? " (--no-memo)" : ""))
        }
    }
}
