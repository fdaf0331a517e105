import CSQLite

/// A database failure, with the file, the statement that failed and SQLite's own message.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The database file.
    public var path: String
    /// The statement (or C call) that failed; bound values are never part of it, so no customer data leaks into logs.
    public var statement: String
    /// SQLite's message, or ours when the data itself is wrong.
    public var message: String
    /// SQLite's result code, `SQLITE_ERROR` when the failure is ours.
    public var code: Int32

    /// An error for `statement` on the file at `path`.
    public init(path: String, statement: String, message: String, code: Int32 = SQLITE_ERROR) {
        self.path = path
        self.statement = statement
        self.message = message
        self.code = code
    }

    /// True when the file exists but holds something else than a SQLite database.
    public var isNotADatabase: Bool { code & 0xFF == SQLITE_NOTADB }

    /// One line for the log: what is wrong with which file, and the statement that found out.
    public var description: String {
        if isNotADatabase {
            return "\(path) is not a Switchboard database: \(message) (while running `\(statement)`)"
        }
        return "\(path): \(message) (SQLite \(code), in `\(statement)`)"
    }
}

/// A value bound to a `?` parameter.
enum SQLValue {
    case int(Int)
    case double(Double)
    case text(String)
    case null

    static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
    static func nullable(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    static func nullable(_ value: Int?) -> SQLValue { value.map { .int($0) } ?? .null }
    static func nullable(_ value: Double?) -> SQLValue { value.map { .double($0) } ?? .null }
}

/// The current row of a query, valid only inside the closure that receives it.
struct Row {
    fileprivate let statement: OpaquePointer
    fileprivate let sql: String
    fileprivate let path: String

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(statement, column) != 0 }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func optionalText(_ column: Int32) -> String? {
        // NULL comes back as a nil pointer (and so does an out-of-memory failure).
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    /// Text from a column the schema declares NOT NULL; a NULL there means the file was changed behind our back.
    func text(_ column: Int32) throws(StoreError) -> String {
        guard let text = optionalText(column) else {
            let name = sqlite3_column_name(statement, column).map { String(cString: $0) } ?? "#\(column)"
            throw StoreError(path: path, statement: sql, message: "column \(name) is NULL")
        }
        return text
    }

    /// A `RawRepresentable` read from text, with an error naming the value when it is not one of the cases.
    func value<T: RawRepresentable>(_ column: Int32, as type: T.Type) throws(StoreError) -> T
    where T.RawValue == String {
        let raw = try text(column)
        guard let value = T(rawValue: raw) else {
            throw StoreError(path: path, statement: sql, message: "unexpected \(T.self) '\(raw)'")
        }
        return value
    }
}

/// One connection to a SQLite file. `OpaquePointer` is not `Sendable`: the owner of this object is the only one
/// that may use it, which is why it is a class and not shared across threads.
final class Database {
    /// The file, as given.
    let path: String
    private let handle: OpaquePointer

    /// Opens the file (creating it if missing) and sets the connection up for a chat server: WAL so readers never
    /// wait for the writer, a busy timeout so two processes on one file queue instead of failing.
    init(path: String) throws(StoreError) {
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
        guard status == SQLITE_OK, let opened else {
            // SQLite hands back a handle even when opening fails; it carries the message and must still be closed.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_close_v2(opened)
            throw StoreError(path: path, statement: "sqlite3_open_v2", message: message, code: status)
        }
        do throws(StoreError) {
            sqlite3_busy_timeout(opened, 5000)
            // A text file posing as the database opens fine; the first statement that reads it says what it is.
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"] {
                try Self.run(pragma, on: opened, path: path)
            }
        } catch {
            sqlite3_close_v2(opened)
            throw error
        }
        self.path = path
        self.handle = opened
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Prepared statements by SQL text, kept for the next call (parsing a statement costs more
    /// than running a small one). A statement in use is taken out, so a nested query prepares its own.
    private var statements: [String: OpaquePointer] = [:]

    /// Puts a statement back for reuse, reset: a statement left mid-way would hold its read
    /// transaction open.
    private func release(_ statement: OpaquePointer, _ sql: String) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        if statements[sql] == nil && statements.count < 64 {
            statements[sql] = statement
        } else {
            sqlite3_finalize(statement)
        }
    }

    /// Runs one or more statements without parameters (a migration script, a pragma).
    func execute(script sql: String) throws(StoreError) {
        try Self.run(sql, on: handle, path: path)
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int {
        let statement = try prepare(sql, values)
        defer { release(statement, sql) }
        while try step(statement, sql) {}
        return Int(sqlite3_changes64(handle))
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ read: (Row) throws(StoreError) -> T) throws(StoreError)
        -> [T]
    {
        let statement = try prepare(sql, values)
        defer { release(statement, sql) }
        var rows: [T] = []
        while try step(statement, sql) {
            rows.append(try read(Row(statement: statement, sql: sql, path: path)))
        }
        return rows
    }

    /// The first row of a query, if any.
    func queryFirst<T>(_ sql: String, _ values: [SQLValue] = [], _ read: (Row) throws(StoreError) -> T)
        throws(StoreError) -> T?
    {
        let statement = try prepare(sql, values)
        defer { release(statement, sql) }
        guard try step(statement, sql) else { return nil }
        return try read(Row(statement: statement, sql: sql, path: path))
    }

    /// The first row `match` accepts, reading no further than it.
    func first<T>(_ sql: String, _ values: [SQLValue] = [], where match: (Row) throws(StoreError) -> T?) throws(StoreError) -> T? {
        let statement = try prepare(sql, values)
        defer { release(statement, sql) }
        while try step(statement, sql) {
            if let found = try match(Row(statement: statement, sql: sql, path: path)) { return found }
        }
        return nil
    }

    /// How a transaction takes its locks.
    enum TransactionKind: String {
        /// Reads see one snapshot; no write lock is taken.
        case deferred = "DEFERRED"
        /// Takes the write lock up front, so a read-then-write (counting tickets, then inserting one) cannot race
        /// another process, and a busy database makes `BEGIN` wait rather than a later statement fail.
        case immediate = "IMMEDIATE"
    }

    /// Runs `body` in a transaction, committed when it returns and rolled back when it throws.
    func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws(StoreError) -> T) throws(StoreError)
        -> T
    {
        try execute(script: "BEGIN \(kind.rawValue)")
        do throws(StoreError) {
            let result = try body()
            try execute(script: "COMMIT")
            return result
        } catch {
            // The original error is the one worth reporting; a failed rollback leaves SQLite's own recovery to it.
            _ = try? execute(script: "ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last row this connection inserted.
    var lastInsertedRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }

    /// `PRAGMA user_version`: the schema version the migrations have reached.
    func userVersion() throws(StoreError) -> Int {
        try queryFirst("PRAGMA user_version") { $0.int(0) } ?? 0
    }

    // MARK: Statements

    private func prepare(_ sql: String, _ values: [SQLValue]) throws(StoreError) -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements.removeValue(forKey: sql) {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let status = sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
            guard status == SQLITE_OK, let fresh = prepared else {
                sqlite3_finalize(prepared)
                throw failure(sql, status)
            }
            statement = fresh
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == values.count else {
            sqlite3_finalize(statement)
            throw StoreError(path: path, statement: sql, message: "\(values.count) values for \(expected) parameters",
                             code: SQLITE_RANGE)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .int(let number): status = sqlite3_bind_int64(statement, index, sqlite3_int64(number))
            case .double(let number): status = sqlite3_bind_double(statement, index, number)
            case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, Self.transient)
            case .null: status = sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else {
                sqlite3_finalize(statement)
                throw failure(sql, status)
            }
        }
        return statement
    }

    /// Advances to the next row: true when there is one, false when the statement is done.
    private func step(_ statement: OpaquePointer, _ sql: String) throws(StoreError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw failure(sql, status)
        }
    }

    private func failure(_ sql: String, _ status: Int32) -> StoreError {
        StoreError(path: path, statement: sql, message: String(cString: sqlite3_errmsg(handle)), code: status)
    }

    private static func run(_ sql: String, on handle: OpaquePointer, path: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard status == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw StoreError(path: path, statement: sql, message: text, code: status)
        }
    }

    /// `SQLITE_TRANSIENT` is a C macro Swift does not import: it tells SQLite to copy the bound text right away,
    /// because Swift's temporary C string is gone once the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
