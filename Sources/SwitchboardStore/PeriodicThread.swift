import Foundation

/// A thread that runs `body` every `interval`, and once more when stopped (`body(true)`): the
/// transcript log's writer and the WAL checkpointer. Stopping waits for that last run.
public final class PeriodicThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopping = false
    private var finished = false
    private let interval: TimeInterval
    private let body: @Sendable (_ last: Bool) -> Void

    public init(name: String, interval: TimeInterval, body: @escaping @Sendable (_ last: Bool) -> Void) {
        self.interval = interval
        self.body = body
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    private func run() {
        while true {
            condition.lock()
            if !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: interval)) }
            let last = stopping
            condition.unlock()
            body(last)
            if last { break }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body(true)` and returns when it is done.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
