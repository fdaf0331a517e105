import Foundation

/// A fixed set of threads running jobs in the order they were queued. Replay's parsing and
/// replaying run here rather than on a concurrent Dispatch queue: on Linux, Dispatch starts with
/// one worker and adds the next only after its once-a-second check, which left one of the two
/// cores idle for the first second of every run.
final class WorkerThreads: @unchecked Sendable {
    private let condition = NSCondition()
    /// Queued jobs from `head` on; a taken job's slot is emptied at once, so what it holds is
    /// let go when it has run.
    private var jobs: [(@Sendable () -> Void)?] = []
    private var head = 0
    private var stopping = false
    private var running: Int

    init(count: Int, name: String) {
        running = max(1, count)
        for k in 0..<running {
            Thread { [self] in
                Thread.current.name = "\(name)-\(k + 1)"  // (named from inside: on Linux a name set before start is lost)
                work()
            }.start()
        }
    }

    /// Queues `job` for the next free thread.
    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs what is queued, then ends the threads; returns when they have ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            if head < jobs.count {
                let job = jobs[head].take()!
                head += 1
                if head >= 64 && head * 2 >= jobs.count {
                    jobs.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                job()
                condition.lock()
            } else if stopping {
                break
            } else {
                condition.wait()
            }
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
