import Foundation
import SwitchboardCore
import Testing

@testable import SwitchboardStore

/// The shipped rule set and temporary database files.
enum Fixture {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shipped rule set, loaded once for all tests.
    static let shipped: Result<RuleSet, RuleLoadFailure> = {
        do throws(RuleLoadFailure) {
            return .success(try RuleLoader.load(RuleSources(
                rulesDirectory: root.appendingPathComponent("intents").path,
                lexiconsDirectory: root.appendingPathComponent("dialect-lexicons").path)))
        } catch {
            return .failure(error)
        }
    }()

    static func ruleSet() throws -> RuleSet { try shipped.get() }

    /// A fixed clock, so both stores date the same bills and tickets.
    static let now = Date(timeIntervalSince1970: 1_795_917_600)

    /// The demo phones of intents/accounts.yaml.
    static let demoPhones = ["13800000001", "13800000002", "13900000003", "13700000004", "15000000005"]

    /// Runs `body` with a database path in a fresh folder, removed afterwards with the WAL and shared-memory files.
    static func withDatabasePath<T>(_ body: (String) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder.appendingPathComponent("switchboard.sqlite").path)
    }

    static func withDatabasePathAsync<T>(_ body: (String) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(folder.appendingPathComponent("switchboard.sqlite").path)
    }

    /// A store on `path` seeded for `now`.
    static func open(_ path: String, now: Date = Fixture.now) throws -> SQLiteOperatorData {
        try SQLiteOperatorData(path: path, ruleSet: try ruleSet(), now: now)
    }

    /// Row counts of every table, read through a connection of its own.
    static func rowCounts(_ path: String) throws -> [String: Int] {
        let database = try Database(path: path)
        var counts: [String: Int] = [:]
        let tables = ["plans", "addons", "accounts", "account_addons", "bills", "bill_lines", "usage_months", "tickets"]
        for table in tables {
            counts[table] = try database.queryFirst("SELECT count(*) FROM \(table)") { $0.int(0) }
        }
        return counts
    }
}

@Suite struct SQLiteOperatorDataTests {
    @Test func theDatabaseFileHoldsNoPIN() throws {
        try Fixture.withDatabasePath { path in
            let store = try Fixture.open(path)
            #expect(store.verify(phone: "13700000004", pin: "888888"))
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
            let text = String(decoding: bytes, as: UTF8.self)
            for pin in ["123456", "654321", "111222", "888888", "246810"] { #expect(!text.contains(pin), "\(pin) in the file") }
            #expect(text.contains("sha256:"))
        }
    }

    @Test func freshDatabaseIsSeededWithTheDemoAccounts() throws {
        try Fixture.withDatabasePath { path in
            let store = try Fixture.open(path)
            for phone in Fixture.demoPhones {
                #expect(store.account(phone: phone) != nil, "demo account \(phone) missing")
            }
            #expect(try Fixture.rowCounts(path)["accounts"] == 5)

            // The Cantonese customer's story: last month's bill charges a video ringtone he never ordered.
            let lastBill = try #require(store.bills(phone: "13700000004").first)
            #expect(lastBill.month == DemoAccount.month(1, before: Fixture.now))
            let ringtone = try #require(lastBill.lines.first { $0.code == "video_ringtone" })
            #expect(!ringtone.ordered)
            #expect(ringtone.amount == 1000)
            #expect(ringtone.kind == .addon)
            #expect(ringtone.item[.zh] == "视频彩铃月功能费")
            #expect(lastBill.lines.filter { !$0.ordered }.count == 1)
        }
    }

    @Test(arguments: Fixture.demoPhones)
    func answersExactlyLikeTheInMemoryStore(phone: String) throws {
        try Fixture.withDatabasePath { path in
            let ruleSet = try Fixture.ruleSet()
            let memory = InMemoryOperatorData(ruleSet: ruleSet, now: Fixture.now)
            let store = try Fixture.open(path)
            #expect(store.account(phone: phone) == memory.account(phone: phone))
            #expect(store.bills(phone: phone) == memory.bills(phone: phone))
            #expect(store.usageHistory(phone: phone) == memory.usageHistory(phone: phone))
            #expect(store.tickets(phone: phone) == memory.tickets(phone: phone))
            #expect(store.bills(phone: phone).count == 6)

            // The same changes leave the same account.
            for target in [store, memory] as [any OperatorData] {
                try target.schedulePlanChange(phone: phone, to: "CX99")
                try target.setAddon(phone: phone, code: "data_10g", active: true)
                try target.setAddon(phone: phone, code: "video_ringtone", active: false)
            }
            #expect(store.account(phone: phone) == memory.account(phone: phone))
        }
    }

    @Test func unknownPhonesHaveNoDataAndRefuseChanges() throws {
        try Fixture.withDatabasePath { path in
            let store = try Fixture.open(path)
            let stranger = "13000000000"
            #expect(store.account(phone: stranger) == nil)
            #expect(store.bills(phone: stranger).isEmpty)
            #expect(store.usageHistory(phone: stranger).isEmpty)
            #expect(store.tickets(phone: stranger).isEmpty)
            #expect(throws: OperatorDataError.self) { try store.schedulePlanChange(phone: stranger, to: "CX99") }
            #expect(throws: OperatorDataError.self) {
                try store.setAddon(phone: stranger, code: "data_10g", active: true)
            }
            let draft = TicketDraft(kind: .complaint, phone: stranger, summary: "x", owner: "y", dueAt: Fixture.now)
            #expect(throws: OperatorDataError.self) { try store.createTicket(draft, at: Fixture.now) }
            #expect(try Fixture.rowCounts(path)["tickets"] == 1)
        }
    }

    @Test func verifyAcceptsOnlyTheAccountsPIN() throws {
        try Fixture.withDatabasePath { path in
            let store = try Fixture.open(path)
            #expect(store.verify(phone: "13800000001", pin: "123456"))
            #expect(!store.verify(phone: "13800000001", pin: "654321"))
            #expect(!store.verify(phone: "13800000001", pin: "12345"))
            #expect(!store.verify(phone: "13800000001", pin: "1234567"))
            #expect(!store.verify(phone: "13800000001", pin: ""))
            // Another customer's PIN does not open this account.
            #expect(!store.verify(phone: "13800000001", pin: "888888"))
            #expect(!store.verify(phone: "13000000000", pin: "123456"))
        }
    }

    @Test func createdTicketsSurviveReopeningAndNumberOnWithinTheDay() throws {
        try Fixture.withDatabasePath { path in
            let phone = "13800000002"
            let later = Fixture.now.addingTimeInterval(3600.25)
            let draft = TicketDraft(kind: .complaint, phone: phone, summary: "Signal drops at home",
                                    owner: "Complaints", dueAt: Fixture.now.addingTimeInterval(2 * 86_400),
                                    place: "Haidian", isRepeat: true)
            let first: Ticket
            do {
                let store = try Fixture.open(path)
                first = try store.createTicket(draft, at: Fixture.now)
                #expect(first.id == InMemoryOperatorData.ticketID(.complaint, at: Fixture.now, sequence: 1))
                #expect(first.status == "open")
                // Committed before createTicket returned: another connection sees it while this one is still open.
                let other = try Fixture.open(path)
                #expect(other.tickets(phone: phone) == [first])
            }
            let store = try Fixture.open(path)
            #expect(store.tickets(phone: phone) == [first])

            let second = try store.createTicket(draft, at: later)
            #expect(second.id == InMemoryOperatorData.ticketID(.complaint, at: later, sequence: 2))
            #expect(second.id != first.id)
            #expect(store.tickets(phone: phone) == [second, first])
            // Another kind on the same day starts its own numbering.
            let refund = try store.createTicket(
                TicketDraft(kind: .refund, phone: phone, summary: "Refund", owner: "Billing", dueAt: later), at: later)
            #expect(refund.id == InMemoryOperatorData.ticketID(.refund, at: later, sequence: 1))
        }
    }

    @Test func ticketNumbersSkipIdsAlreadyTaken() throws {
        try Fixture.withDatabasePath { path in
            // The demo repair ticket RP20261127001 exists; a repair filed that day must not reuse its number.
            let store = try Fixture.open(path)
            let seeded = try #require(store.tickets(phone: "15000000005").first)
            let day = try #require(DateComponents(
                calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(secondsFromGMT: 8 * 3600),
                year: 2026, month: 11, day: 27, hour: 12).date)
            let draft = TicketDraft(kind: .repair, phone: "15000000005", summary: "Again", owner: "Repair", dueAt: day)
            let ticket = try store.createTicket(draft, at: day)
            #expect(seeded.id == "RP20261127001")
            #expect(ticket.id == "RP20261127002")
        }
    }

    @Test func planAndAddonChangesSurviveReopening() throws {
        try Fixture.withDatabasePath { path in
            let phone = "13700000004"
            do {
                let store = try Fixture.open(path)
                try store.schedulePlanChange(phone: phone, to: "CX59")
                try store.setAddon(phone: phone, code: "data_10g", active: true)
                try store.setAddon(phone: phone, code: "video_ringtone", active: false)
            }
            do {
                let store = try Fixture.open(path)
                let account = try #require(store.account(phone: phone))
                #expect(account.pendingPlanCode == "CX59")
                #expect(account.planCode == "CX99")
                #expect(account.addons == ["data_10g"])
                // Restarting an add-on puts it last, as the in-memory store does.
                try store.setAddon(phone: phone, code: "video_ringtone", active: true)
                try store.setAddon(phone: phone, code: "data_10g", active: true)
            }
            let account = try #require(try Fixture.open(path).account(phone: phone))
            #expect(account.addons == ["video_ringtone", "data_10g"])
        }
    }

    @Test func reopeningNeitherReseedsNorDuplicates() throws {
        try Fixture.withDatabasePath { path in
            let bills: [Bill]
            do {
                let store = try Fixture.open(path)
                bills = store.bills(phone: "13800000001")
            }
            let counts = try Fixture.rowCounts(path)
            #expect(counts["bills"] == 30)
            // Two months later: the bills seeded the first time stay as they were.
            let store = try Fixture.open(path, now: Fixture.now.addingTimeInterval(61 * 86_400))
            #expect(store.bills(phone: "13800000001") == bills)
            #expect(try Fixture.rowCounts(path) == counts)
        }
    }

    @Test func schemaVersionIsTheLatestAfterOpenAndReopen() throws {
        try Fixture.withDatabasePath { path in
            _ = try Fixture.open(path)
            #expect(try Database(path: path).userVersion() == 2)
            _ = try Fixture.open(path)
            #expect(try Database(path: path).userVersion() == Migrations.latest)
            #expect(Migrations.latest == 2)
            // WAL is a property of the file: readers keep reading while a ticket is written.
            let mode = try Database(path: path).queryFirst("PRAGMA journal_mode") { row throws(StoreError) in
                try row.text(0)
            }
            #expect(mode == "wal")
        }
    }

    @Test func aTextFilePosingAsTheDatabaseIsRefusedWithAClearError() throws {
        try Fixture.withDatabasePath { path in
            let text = "phone,pin\n13800000001,123456\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let error = try #require(throws: StoreError.self) { try Fixture.open(path) }
            #expect(error.description.hasPrefix("\(path) is not a Switchboard database: file is not a database"))
            // Refused, not repaired: the file is left as it was.
            #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        }
    }

    @Test func anotherProgramsDatabaseIsRefused() throws {
        try Fixture.withDatabasePath { path in
            try Database(path: path).execute(script: "CREATE TABLE notes (body TEXT)")
            let error = try #require(throws: StoreError.self) { try Fixture.open(path) }
            #expect(error.description.hasPrefix("\(path) is not a Switchboard database: it holds other tables (notes)"))
        }
    }

    @Test func aDatabaseFromANewerBuildIsRefused() throws {
        try Fixture.withDatabasePath { path in
            _ = try Fixture.open(path)
            try Database(path: path).execute(script: "PRAGMA user_version = 99")
            let error = try #require(throws: StoreError.self) { try Fixture.open(path) }
            #expect(error.description.contains("schema version 99 is newer than this build knows (2)"))
        }
    }

    /// A file made by the previous build (schema 1: accounts, no queue) gains the queue and keeps its data.
    @Test func aVersionOneFileIsUpgradedWithItsDataKept() throws {
        try Fixture.withDatabasePath { path in
            let before = try Fixture.open(path)
            _ = try before.createTicket(TicketDraft(kind: .complaint, phone: "13800000001", summary: "kept", owner: "x",
                                                    dueAt: Fixture.now), at: Fixture.now)
            let counts = try Fixture.rowCounts(path)
            try Database(path: path).execute(script: """
                DROP TABLE handoff_log; DROP TABLE handoff_tickets; DROP TABLE agents; PRAGMA user_version = 1;
                """)
            let queue = try SQLiteHandoffQueue(path: path)
            #expect(try Database(path: path).userVersion() == 2)
            #expect(try Fixture.rowCounts(path) == counts)
            #expect(try queue.waiting(at: Fixture.now).isEmpty)
            #expect(try Fixture.open(path).tickets(phone: "13800000001").contains { $0.summary == "kept" })
        }
    }

    @Test func aMissingFolderNamesThePathAndTheReason() throws {
        try Fixture.withDatabasePath { path in
            let missing = URL(fileURLWithPath: path).deletingLastPathComponent()
                .appendingPathComponent("no-such-folder/switchboard.sqlite").path
            let error = try #require(throws: StoreError.self) { try Fixture.open(missing) }
            #expect(error.description.hasPrefix("\(missing): unable to open database file"))
        }
    }

    @Test func schemaConstraintsRejectBadRowsAndTheErrorNamesTheStatement() throws {
        try Fixture.withDatabasePath { path in
            _ = try Fixture.open(path)
            let database = try Database(path: path)
            let insert = "INSERT INTO tickets (id, kind, phone, status, created_at, due_at, summary, owner, is_repeat) "
                + "VALUES ('X1', 'gossip', '13800000001', 'open', 0, 0, 's', 'o', 0)"
            let kind = try #require(throws: StoreError.self) { try database.execute(insert) }
            #expect(kind.description.contains("CHECK constraint failed"))
            #expect(kind.description.contains(insert))

            let orphan = try #require(throws: StoreError.self) {
                try database.execute(insert.replacingOccurrences(of: "gossip", with: "repair")
                    .replacingOccurrences(of: "13800000001", with: "19900000000"))
            }
            #expect(orphan.description.contains("FOREIGN KEY constraint failed"))

            let credit = try #require(throws: StoreError.self) {
                try database.execute("UPDATE bill_lines SET amount_cents = -100 WHERE kind = 'plan'")
            }
            #expect(credit.description.contains("CHECK constraint failed"))
        }
    }

    @Test func pinComparisonLooksAtEveryByte() {
        #expect(SQLiteOperatorData.constantTimeEqual("123456", "123456"))
        #expect(!SQLiteOperatorData.constantTimeEqual("123456", "123457"))
        #expect(!SQLiteOperatorData.constantTimeEqual("123456", "1234560"))
        #expect(!SQLiteOperatorData.constantTimeEqual("", "0"))
        #expect(SQLiteOperatorData.constantTimeEqual("", ""))
    }
}
