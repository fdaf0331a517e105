#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers
import SwitchboardCore
import SwitchboardStore

/// The transcript log (JSON Lines, append-only). With an `interval` (the server), events are
/// added to a buffer (microseconds, no disk on the turn's path) and a writer thread appends them
/// in batches; `flush()` writes everything added so far, and the server calls it when it stops, so
/// every event of an acknowledged turn reaches the file. Without one (`chat`), each `append` is
/// written at once, before the customer sees the reply: even `kill -9` then loses nothing
/// acknowledged. O_APPEND keeps lines whole when several processes share the file.
public final class TranscriptLog: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NIOLock()
    private var pending: [UInt8] = []
    private var writer: PeriodicThread?
    private let writeLock = NIOLock()
    public private(set) var failures = 0

    /// The default log: `transcripts/log/YYYY-MM-DD.jsonl` (UTC date), git-ignored.
    public static func defaultPath(now: Date = Date()) -> String {
        "transcripts/log/\(TranscriptEvent.timestamp(now).prefix(10)).jsonl"
    }

    public init(path: String, interval: TimeInterval? = 0.02) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ServerError("cannot open transcript log \(path): \(String(cString: strerror(errno)))") }
        pending.reserveCapacity(1 << 16)
        if let interval {
            writer = PeriodicThread(name: "transcript-log", interval: interval) { [weak self] _ in self?.flush() }
        }
    }

    deinit { close(fd) }

    public func append(_ events: [TranscriptEvent]) {
        guard !events.isEmpty else { return }
        lock.withLock {
            for event in events {
                event.write(to: &pending)
                pending.append(0x0A)
            }
        }
        if writer == nil { flush() }
    }

    /// Writes everything appended so far; returns when it is with the kernel.
    public func flush() {
        writeLock.withLock {
            var batch: [UInt8] = []
            lock.withLock { swap(&batch, &pending) }
            guard !batch.isEmpty else { return }
            var offset = 0
            while offset < batch.count {
                let n = batch.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failures += 1
                    FileHandle.standardError.write("switchboard: cannot write transcript log \(path): \(String(cString: strerror(errno)))\n".data(using: .utf8)!)
                    // Kept for the next attempt rather than dropped.
                    lock.withLock { pending.insert(contentsOf: batch[offset...], at: 0) }
                    return
                }
                offset += n
            }
            lock.withLock { if pending.capacity < (1 << 16) { pending.reserveCapacity(1 << 16) } }
        }
    }

    /// Flushes and stops the writer thread.
    public func stop() {
        writer?.stop()
        flush()
    }
}

/// A failure with a message for the person running the server.
public struct ServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
