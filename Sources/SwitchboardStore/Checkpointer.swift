import CSQLite
import Foundation

/// Moves the WAL into the database file from a thread of its own. By default SQLite checkpoints
/// inside the commit that takes the log past 1,000 pages, and that commit then waits for the
/// copy and an fsync (tens of milliseconds): on a server's event loop, every connection on it
/// waits too. The server turns that off on its connections (`manualCheckpoints()`) and runs one
/// of these instead, which checkpoints without blocking writers.
public final class WALCheckpointer: @unchecked Sendable {
    private let database: Database
    private let interval: TimeInterval
    private var thread: PeriodicThread?
    public private(set) var failures = 0

    public init(path: String, interval: TimeInterval = 0.5) throws(StoreError) {
        database = try Database(path: path)
        self.interval = interval
    }

    /// Checkpoints every `interval` without blocking writers; the last one, at `stop()`,
    /// truncates the log.
    public func start() {
        thread = PeriodicThread(name: "wal-checkpoint", interval: interval) { [self] last in
            checkpoint(last ? "TRUNCATE" : "PASSIVE")
        }
    }

    private func checkpoint(_ mode: String) {
        do throws(StoreError) {
            try database.execute(script: "PRAGMA wal_checkpoint(\(mode))")
        } catch {
            failures += 1
        }
    }

    /// A last checkpoint, then the thread ends (call when the server has stopped writing).
    public func stop() { thread?.stop() }
}

extension SQLiteHandoffQueue {
    /// Leaves checkpoints to a `WALCheckpointer` (see there).
    public func manualCheckpoints() throws(StoreError) { try database.execute(script: "PRAGMA wal_autocheckpoint=0") }
}

extension SQLiteOperatorData {
    public func manualCheckpoints() throws(StoreError) { try database.execute(script: "PRAGMA wal_autocheckpoint=0") }
}
