import NIOCore
import SwitchboardCore

/// One customer connection, handled on its event loop: each line is framed, checked, understood
/// and answered inline. A bad line gets an error and the connection stays.
final class CustomerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = InboundFrame

    private let hub: Hub
    private var session: LiveSession?
    private var lines = 0
    /// The customer ended the conversation (or it ended for them): no resume.
    private var ended = false
    private var admitted = false

    init(hub: Hub) { self.hub = hub }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let wire = hub.configuration.wire
        guard hub.admit(channel) else {
            hub.metrics.refusedConnection()
            let text = hub.busyMessage
            let bytes: [UInt8] = wire == .jsonl
                ? LiveSession.systemEvent("busy", session: "", extra: [("text", .string(text))]) : Array((text + "\n").utf8)
            context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        admitted = true
        let session = hub.openSession(wire, on: channel)
        self.session = session
        hub.logger.debug("session opened", metadata: ["session": "\(session.id)", "peer": "\(channel.remoteAddress?.description ?? "?")"])
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, !ended else { return }
        let started = NIODeadline.now()
        let line: ByteBuffer
        switch unwrapInboundIn(data) {
        case .tooLong(let bytes):
            hub.metrics.rejectedLine()
            session.notify("line_too_long", response: "line_too_long", ["bytes": String(bytes), "limit": String(hub.configuration.maxLineBytes)])
            return
        case .line(let buffer):
            line = buffer
        }
        guard case .success(let decoded) = LineText.decode(line) else {
            hub.metrics.rejectedLine()
            session.notify("invalid_utf8", response: "line_not_utf8")
            return
        }
        lines += 1
        var text = decoded
        var customer: String?
        if hub.configuration.wire == .jsonl {
            switch CustomerLine.parse(decoded) {
            case .failure(let problem):
                hub.metrics.rejectedLine()
                session.notify("bad_json", problem.message)
                return
            case .success(let parsed):
                if let id = parsed.resume {
                    guard lines == 1, let other = hub.session(id), other.resume(on: context.channel) else {
                        session.notify("resume_failed", lines == 1
                            ? "no session \(id) to resume (it ended, or the resume window passed); this is a new session"
                            : "resume must be the first line of a connection")
                        return
                    }
                    session.discard()
                    self.session = other
                    hub.logger.debug("session resumed", metadata: ["session": "\(id)"])
                    return
                }
                if parsed.end {
                    ended = true
                    session.end()
                    return
                }
                guard let t = parsed.text else { return }
                text = t
                customer = parsed.customer
            }
        }
        if text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        switch session.customerSaid(text, customer: customer, pool: hub.classifiers, started: started) {
        case .closed, .ended:
            ended = true
        case .answered:
            break
        }
    }

    /// The customer half-closed: every line before the FIN has been answered (they are handled
    /// in order); the session ends and the connection closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            if let session, hub.configuration.wire == .text || ended {
                session.connectionClosed(context.channel, canResume: false)
            }
            // Closed after the answers already queued (tasks run in order).
            let channel = context.channel
            channel.eventLoop.execute { channel.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted {
            hub.connectionClosed(context.channel)
            // A dropped jsonl session can be resumed; a text one, or one the customer ended, ends.
            session?.connectionClosed(context.channel, canResume: hub.configuration.wire == .jsonl && !ended && !hub.draining)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        hub.logger.debug("connection error", metadata: ["session": "\(session?.id ?? "-")", "error": "\(error)"])
        context.close(promise: nil)
    }
}
