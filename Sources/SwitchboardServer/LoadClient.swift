#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore

/// The load client behind `switchboard bench serve`: many concurrent sessions, each playing
/// scripted conversations at a set pace (open loop: a late answer delays nothing but itself, and
/// its latency is counted from when the message was due), plus sessions that connect and stay
/// silent. Written on plain NIO handlers so the client costs little of the machine it shares.
public struct LoadPlan: Sendable {
    public var host = "127.0.0.1"
    public var port = 7878
    public var wire = WireProtocol.jsonl
    /// Sessions sending messages.
    public var active = 1000
    /// Messages per second across all active sessions.
    public var rate = 20_000.0
    public var duration: Double = 20
    /// Seconds at the start not counted in the figures.
    public var warmup: Double = 3
    /// Sessions that connect, read the greeting, and say nothing.
    public var idle = 0
    public var threads = 1
    /// Every `handoffEvery`-th connection's conversation asks for a person and ends there (0: none).
    public var handoffEvery = 0
    /// After this many messages a session ends and a new connection starts another (0: a
    /// session plays one script after another for the whole run).
    public var turnsPerConnection = 0
    public init() {}
}

public struct LoadReport: Sendable {
    public var turns = 0
    public var seconds = 0.0
    public var latenciesNanos: [UInt64] = []
    public var idleConnected = 0
    public var activeConnected = 0
    public var conversations = 0
    public var timeouts = 0
    public var errors = 0
    public var refused = 0
    /// Per session id: customer turns the server answered (jsonl only).
    public var acknowledged: [String: Int] = [:]
    /// Handoff tickets the server announced to a customer.
    public var tickets: [String] = []
    /// New sessions while measuring: from starting to connect to the greeting.
    public var greetingNanos: [UInt64] = []
    /// The part of that before the connection was up (TCP connect as the client saw it).
    public var connectNanos: [UInt64] = []

    public var turnsPerSecond: Double { seconds > 0 ? Double(turns) / seconds : 0 }

    public func percentile(_ p: Double, of samples: [UInt64]? = nil) -> Double {
        let samples = samples ?? latenciesNanos
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return Double(sorted[max(0, index)]) / 1e6
    }
}

/// Scripted conversations: account, plan and fault questions in Chinese and English; some as an
/// identified customer (as an app would connect them); a handoff now and then.
enum LoadScripts {
    struct Script {
        var customer: String?
        var lines: [String]
    }

    /// Taken from conversations the test suite checks, so each plays out as a customer's would.
    static let conversations: [Script] = [
        Script(customer: "13800000001", lines: ["我这张卡还有多少钱", "好的谢谢"]),
        Script(customer: "13900000003", lines: ["我是不是欠费了，欠了多少", "那我怎么交钱"]),
        Script(customer: "13900000003", lines: ["10月账单里58.5元是怎么收的", "明白了"]),
        Script(customer: "13800000001", lines: ["手机一点信号都没有", "在家里，望京花园小区", "前天晚上开始的"]),
        Script(customer: "13800000001", lines: ["我要换套餐", "畅享99吧", "算了不换了"]),
        Script(customer: "15000000005", lines: ["How much credit do I have left?", "great, thanks"]),
        Script(customer: nil, lines: ["what's my balance please", "13800000001", "123456", "thanks"]),
        Script(customer: "13800000001", lines: ["how much was my bill in October?", "and my bill for September"]),
        Script(customer: "13900000003", lines: ["my home broadband is down", "Room 1203, Tower B, Jianwai SOHO", "since about 8 this morning"]),
        Script(customer: "13800000002", lines: ["网速特别慢", "算了，不报了"]),
        Script(customer: nil, lines: ["你好", "你能做什么", "谢谢"]),
    ]

    static let handoff = Script(customer: "13800000001", lines: ["我要转人工", "我的话费扣错了，上个月多扣了50块"])
}

/// Collects what the sessions on one event loop measure (touched only on that loop).
final class LoadRecorder: @unchecked Sendable {
    var latencies: [UInt64] = []
    var turns = 0
    var timeouts = 0
    var errors = 0
    var refused = 0
    var conversations = 0
    var acknowledged: [String: Int] = [:]
    var tickets: [String] = []
    /// From starting to connect to the greeting, for sessions opened while measuring.
    var greetings: [UInt64] = []
    var connects: [UInt64] = []
    var measuring = false
    init() { latencies.reserveCapacity(1 << 20) }
}

/// One client connection playing conversations one after another (a new connection each).
final class LoadSessionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = InboundFrame

    let wire: WireProtocol
    let interval: TimeAmount
    let recorder: LoadRecorder
    private var script: LoadScripts.Script
    private var scriptIndex: Int
    private var sent = 0
    let turnsPerConnection: Int
    let handoffEvery: Int
    let idle: Bool
    let onGreeting: () -> Void
    let onClose: (_ ended: Bool) -> Void
    private var greeted = false
    private var next = 0
    private var due: NIODeadline?
    private var awaiting = false
    private var session: String?
    private let connectStarted = NIODeadline.now()
    private var watchdog: RepeatedTask?
    private var handedOff = false
    private var sentAt: NIODeadline?
    private var finished = false

    init(wire: WireProtocol, interval: TimeAmount, recorder: LoadRecorder, handoff: Bool, scriptIndex: Int,
         turnsPerConnection: Int, handoffEvery: Int, idle: Bool, firstDue: NIODeadline?, onGreeting: @escaping () -> Void,
         onClose: @escaping (Bool) -> Void)
    {
        self.wire = wire
        self.interval = interval
        self.recorder = recorder
        self.scriptIndex = scriptIndex
        self.script = handoff ? LoadScripts.handoff : LoadScripts.conversations[scriptIndex % LoadScripts.conversations.count]
        self.turnsPerConnection = turnsPerConnection
        self.handoffEvery = handoffEvery
        self.idle = idle
        self.due = firstDue
        self.onGreeting = onGreeting
        self.onClose = onClose
    }

    private var activeAt = NIODeadline.now()

    func channelActive(context: ChannelHandlerContext) {
        activeAt = .now()
        // One check every two seconds for an answer that never came (not a timer per message).
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(2), delay: .seconds(2)) { _ in
            let (handler, context) = loopBound.value
            guard handler.awaiting, let sentAt = handler.sentAt, NIODeadline.now() - sentAt > .seconds(10) else { return }
            handler.recorder.timeouts += 1
            handler.awaiting = false
            handler.due = .now()
            handler.schedule(context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let buffer) = unwrapInboundIn(data) else { return }
        let isReply: Bool
        if wire == .jsonl {
            let view = buffer.readableBytesView
            if session == nil, let value = Self.value(after: Self.sessionKey, in: view) { session = value }
            if Self.find(Self.busy, in: view) != nil { recorder.refused += 1 }
            if Self.find(Self.handoff, in: view) != nil, let ticket = Self.value(after: Self.ticketKey, in: view) {
                recorder.tickets.append(ticket)
                handedOff = true
            }
            isReply = Self.find(Self.bot, in: view) != nil
        } else {
            isReply = true
        }
        guard isReply else { return }
        if !greeted {
            greeted = true
            if recorder.measuring {
                recorder.greetings.append(UInt64(max(0, (NIODeadline.now() - connectStarted).nanoseconds)))
                recorder.connects.append(UInt64(max(0, (activeAt - connectStarted).nanoseconds)))
            }
            onGreeting()
            if !idle { schedule(context) }
            return
        }
        guard awaiting, let sentDue = due else { return }
        // The server's goodbye when it stops answers nothing: the message in flight was not taken.
        if wire == .jsonl, Self.find(Self.closing, in: buffer.readableBytesView) != nil { return }
        awaiting = false
        let now = NIODeadline.now()
        if recorder.measuring {
            recorder.turns += 1
            recorder.latencies.append(UInt64(max(0, (now - sentDue).nanoseconds)))
        }
        if let session { recorder.acknowledged[session, default: 0] += 1 }
        due = sentDue + interval
        schedule(context)
    }

    static let sessionKey = Array(#""session":""#.utf8)
    static let ticketKey = Array(#""ticket":""#.utf8)
    static let busy = Array(#""event":"busy""#.utf8)
    static let handoff = Array(#""event":"handoff""#.utf8)
    static let bot = Array(#""role":"bot""#.utf8)
    static let closing = Array(#""response":"server_closing"#.utf8)

    static func find(_ needle: [UInt8], in view: ByteBufferView) -> Int? {
        view.withContiguousStorageIfAvailable { hay -> Int? in
            guard hay.count >= needle.count, let first = needle.first else { return nil }
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                if hay[i] == first {
                    var k = 1
                    while k < needle.count && hay[i + k] == needle[k] { k += 1 }
                    if k == needle.count { return i }
                }
                i += 1
            }
            return nil
        } ?? nil
    }

    static func value(after key: [UInt8], in view: ByteBufferView) -> String? {
        guard let at = find(key, in: view) else { return nil }
        let start = view.startIndex + at + key.count
        guard let end = view[start...].firstIndex(of: 0x22) else { return nil }
        return String(decoding: view[start..<end], as: UTF8.self)
    }

    private func schedule(_ context: ChannelHandlerContext) {
        let when = due ?? .now()
        due = when
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: when) {
            let (handler, context) = loopBound.value
            handler.send(context)
        }
    }

    private func send(_ context: ChannelHandlerContext) {
        guard context.channel.isActive, !finished else { return }
        var out = ""
        if next >= script.lines.count {
            recorder.conversations += 1
            // A customer handed to a person stays with them: that session ends after its script.
            if !handedOff && (turnsPerConnection == 0 || sent < turnsPerConnection) {
                // The customer asks about something else in the same session.
                scriptIndex += 1
                script = handoffEvery > 0 && scriptIndex % handoffEvery == handoffEvery - 1
                    ? LoadScripts.handoff : LoadScripts.conversations[scriptIndex % LoadScripts.conversations.count]
                next = 0
                return send(context)
            }
            // The session is over: end it, and a new connection starts another.
            finished = true
            if wire == .jsonl {
                context.writeAndFlush(wrapOutbound("{\"end\":true}\n"), promise: nil)
            }
            context.close(promise: nil)
            return
        }
        let text = script.lines[next]
        if wire == .jsonl {
            var fields: [(String, JSONValue)] = [("text", .string(text))]
            if sent == 0, let customer = script.customer { fields.append(("customer", .string(customer))) }
            out = JSONValue.object(fields).serialized()
        } else {
            out = text
        }
        next += 1
        sent += 1
        awaiting = true
        context.writeAndFlush(wrapOutbound(out + "\n"), promise: nil)
        sentAt = .now()
    }

    private func wrapOutbound(_ text: String) -> NIOAny { NIOAny(ByteBuffer(string: text)) }

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.cancel()
        onClose(finished)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        recorder.errors += 1
        context.close(promise: nil)
    }
}

/// Drives a plan against a server and returns what it measured.
public enum LoadClient {
    /// `afterMeasuring` runs once the figures are taken, with the load still on (the bench sends
    /// SIGTERM there); then the client stops and collects what was acknowledged.
    public static func run(_ plan: LoadPlan, log: @escaping @Sendable (String) -> Void,
                           afterMeasuring: @Sendable () async -> Void = {}) async throws -> LoadReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, plan.threads))
        let loops = Array(group.makeIterator())
        let recorders = loops.map { _ in LoadRecorder() }
        let stopping = NIOLockedValueBox(false)
        let idleGreeted = NIOLockedValueBox(0)
        let activeGreeted = NIOLockedValueBox(0)

        let address = try SocketAddress.makeAddressResolvingHost(plan.host, port: plan.port)
        // A session's pace: each active session sends every `active / rate` seconds.
        let interval = TimeAmount.nanoseconds(Int64(Double(plan.active) / plan.rate * 1e9))

        @Sendable func connect(index: Int, conversation: Int, idle: Bool) -> EventLoopFuture<any Channel> {
            let loop = loops[index % loops.count]
            let recorder = recorders[index % loops.count]
            let handoff = !idle && plan.handoffEvery > 0 && (conversation + index) % plan.handoffEvery == plan.handoffEvery - 1
            // Active sessions start spread over one interval, so messages arrive evenly.
            let firstDue: NIODeadline? = conversation == 0 && !idle
                ? .now() + .nanoseconds(Int64.random(in: 0...max(1, interval.nanoseconds))) : nil
            return ClientBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(maxLength: 1 << 20)))
                        try channel.pipeline.syncOperations.addHandler(LoadSessionHandler(
                            wire: plan.wire, interval: interval, recorder: recorder, handoff: handoff, scriptIndex: index + conversation,
                            turnsPerConnection: plan.turnsPerConnection, handoffEvery: plan.handoffEvery, idle: idle, firstDue: firstDue,
                            onGreeting: {
                                if conversation == 0 { (idle ? idleGreeted : activeGreeted).withLockedValue { $0 += 1 } }
                            },
                            onClose: { _ in
                                // The next conversation, on a new connection (as a new visitor would).
                                guard !idle, !stopping.withLockedValue({ $0 }) else { return }
                                _ = connect(index: index, conversation: conversation + 1, idle: false)
                            }))
                    }
                }
                // Resolved once: resolving per connection runs getaddrinfo on the client's event loop.
                .connect(to: address)
        }

        // Idle sessions first, a few hundred connects at a time.
        var idleChannels: [any Channel] = []
        var index = 0
        while index < plan.idle {
            let batch = (index..<min(plan.idle, index + 250)).map { connect(index: $0, conversation: 0, idle: true) }
            for future in batch {
                if let channel = try? await future.get() { idleChannels.append(channel) }
            }
            index += batch.count
        }
        if plan.idle > 0 {
            let deadline = NIODeadline.now() + .seconds(60)
            while idleGreeted.withLockedValue({ $0 }) < idleChannels.count && NIODeadline.now() < deadline {
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            log("idle sessions greeted: \(idleGreeted.withLockedValue { $0 }) of \(plan.idle)")
        }
        var activeChannels: [EventLoopFuture<any Channel>] = []
        for i in 0..<plan.active { activeChannels.append(connect(index: plan.idle + i, conversation: 0, idle: false)) }
        for future in activeChannels { _ = try? await future.get() }

        // Warm-up, then measure.
        try await Task.sleep(nanoseconds: UInt64(plan.warmup * 1e9))
        for (loop, recorder) in zip(loops, recorders) { try await loop.submit { recorder.measuring = true }.get() }
        let measureStart = NIODeadline.now()
        try await Task.sleep(nanoseconds: UInt64(plan.duration * 1e9))
        for (loop, recorder) in zip(loops, recorders) { try await loop.submit { recorder.measuring = false }.get() }
        let seconds = Double((NIODeadline.now() - measureStart).nanoseconds) / 1e9
        stopping.withLockedValue { $0 = true }
        await afterMeasuring()
        for channel in idleChannels { channel.close(promise: nil) }
        try await Task.sleep(nanoseconds: 200_000_000)

        var report = LoadReport()
        report.seconds = seconds
        report.idleConnected = idleGreeted.withLockedValue { $0 }
        report.activeConnected = activeGreeted.withLockedValue { $0 }
        for (loop, recorder) in zip(loops, recorders) {
            let part = try await loop.submit {
                (recorder.turns, recorder.latencies, recorder.timeouts, recorder.errors, recorder.refused, recorder.conversations,
                 recorder.acknowledged, recorder.tickets, recorder.greetings, recorder.connects)
            }.get()
            report.turns += part.0
            report.latenciesNanos += part.1
            report.timeouts += part.2
            report.errors += part.3
            report.refused += part.4
            report.conversations += part.5
            report.acknowledged.merge(part.6) { $0 + $1 }
            report.tickets += part.7
            report.greetingNanos += part.8
            report.connectNanos += part.9
        }
        try? await group.shutdownGracefully()
        return report
    }
}
