import Foundation
import SwitchboardCore

/// The operator's account data in a SQLite file, answering exactly as `InMemoryOperatorData` does for the same data.
/// One connection, so one owner: not `Sendable`, like the connection it holds.
public final class SQLiteOperatorData: OperatorData {
    let database: Database

    /// Hears the detail when a read fails: `OperatorData` reads cannot throw, so they answer "nothing found" and the
    /// executable logs what this receives.
    public var readFailed: ((StoreError) -> Void)?

    /// Opens (or creates) the file, brings its schema up to date and, the first time, seeds the demo accounts with
    /// bills and usage dated relative to `now`. The catalogue is refreshed from `ruleSet` on every open, so a plan
    /// added to `catalogue.yaml` can be chosen without rebuilding the database.
    public init(path: String, ruleSet: RuleSet, now: Date) throws(StoreError) {
        database = try Database(path: path)
        try Migrations.apply(to: database)
        try database.transaction { () throws(StoreError) in
            try storeCatalogue(ruleSet)
            let hasAccounts = try database.queryFirst("SELECT EXISTS (SELECT 1 FROM accounts)") { $0.bool(0) } ?? false
            if !hasAccounts {
                try seed(ruleSet, now: now)
            }
        }
    }

    // MARK: Reads

    public func account(phone: String) -> CustomerAccount? {
        read { () throws(StoreError) in
            // One snapshot, so the add-ons belong to the account row read with them.
            try database.transaction(.deferred) { () throws(StoreError) -> CustomerAccount? in
                let sql = """
                    SELECT phone, name, language, age, plan_code, pending_plan_code, balance_cents, data_used_gb,
                        voice_used_minutes
                    FROM accounts WHERE phone = ?
                    """
                guard var account = try database.queryFirst(sql, [.text(phone)], { row throws(StoreError) in
                    CustomerAccount(
                        phone: try row.text(0), name: try row.text(1), language: try row.value(2, as: Language.self),
                        age: row.int(3), planCode: try row.text(4), pendingPlanCode: row.optionalText(5),
                        balance: row.int(6), addons: [], dataUsedGB: row.double(7), voiceUsedMinutes: row.int(8))
                }) else { return nil }
                account.addons = try database.query(
                    "SELECT code FROM account_addons WHERE phone = ? ORDER BY position", [.text(phone)]
                ) { row throws(StoreError) in try row.text(0) }
                return account
            }
        } ?? nil
    }

    public func verify(phone: String, pin: String) -> Bool {
        let stored = read { () throws(StoreError) in
            try database.queryFirst("SELECT pin_digest FROM accounts WHERE phone = ?", [.text(phone)]) {
                row throws(StoreError) in try row.text(0)
            }
        }
        guard let stored, let expected = stored else { return false }
        return Self.constantTimeEqual(expected, PINDigest.digest(phone: phone, pin: pin))
    }

    public func bills(phone: String) -> [Bill] {
        // One statement, so bills and their lines come from one snapshot.
        let sql = """
            SELECT b.id, b.month, b.paid, l.position, l.kind, l.code, l.item_zh, l.item_en, l.amount_cents,
                l.rule_zh, l.rule_en, l.ordered
            FROM bills b LEFT JOIN bill_lines l ON l.bill_id = b.id
            WHERE b.phone = ?
            ORDER BY b.month DESC, b.id, l.position
            """
        return read { () throws(StoreError) in
            var bills: [Bill] = []
            var lastID: Int?
            _ = try database.query(sql, [.text(phone)]) { row throws(StoreError) in
                if row.int(0) != lastID {
                    lastID = row.int(0)
                    bills.append(Bill(month: try row.text(1), lines: [], paid: row.bool(2)))
                }
                // A bill without lines still comes back once, with NULLs from the outer join.
                guard !row.isNull(3) else { return }
                let line = BillLine(
                    kind: try row.value(4, as: BillLineKind.self), code: row.optionalText(5),
                    item: Self.texts(zh: row.optionalText(6), en: row.optionalText(7)), amount: row.int(8),
                    rule: Self.texts(zh: row.optionalText(9), en: row.optionalText(10)), ordered: row.bool(11))
                bills[bills.count - 1].lines.append(line)
            }
            return bills
        } ?? []
    }

    public func usageHistory(phone: String) -> [UsageMonth] {
        read { () throws(StoreError) in
            try database.query(
                "SELECT month, data_gb, voice_minutes FROM usage_months WHERE phone = ? ORDER BY month DESC",
                [.text(phone)]
            ) { row throws(StoreError) in
                UsageMonth(month: try row.text(0), dataGB: row.double(1), voiceMinutes: row.int(2))
            }
        } ?? []
    }

    public func tickets(phone: String) -> [Ticket] {
        // rowid breaks ties: of two tickets created in the same instant, the later insert is the newer.
        let sql = """
            SELECT id, kind, phone, status, created_at, due_at, summary, owner, fault_type, place, is_repeat
            FROM tickets WHERE phone = ? ORDER BY created_at DESC, rowid DESC
            """
        return read { () throws(StoreError) in
            try database.query(sql, [.text(phone)]) { row throws(StoreError) in
                Ticket(
                    id: try row.text(0), kind: try row.value(1, as: TicketKind.self), phone: try row.text(2),
                    status: try row.text(3), createdAt: Date(timeIntervalSince1970: row.double(4)),
                    dueAt: Date(timeIntervalSince1970: row.double(5)), summary: try row.text(6), owner: try row.text(7),
                    faultType: row.optionalText(8), place: row.optionalText(9), isRepeat: row.bool(10))
            }
        } ?? []
    }

    // MARK: Writes

    public func createTicket(_ draft: TicketDraft, at time: Date) throws(OperatorDataError) -> Ticket {
        // The id's date part: everything but the three-digit sequence.
        let prefix = String(InMemoryOperatorData.ticketID(draft.kind, at: time, sequence: 0).dropLast(3))
        let created = try write { () throws(StoreError) -> Ticket? in
            // IMMEDIATE: counting and inserting under one write lock, so two processes never pick the same number.
            try database.transaction { () throws(StoreError) -> Ticket? in
                guard try accountExists(draft.phone) else { return nil }
                let count = try database.queryFirst(
                    "SELECT count(*) FROM tickets WHERE substr(id, 1, length(?1)) = ?1", [.text(prefix)]
                ) { $0.int(0) } ?? 0
                var sequence = count + 1
                var id = InMemoryOperatorData.ticketID(draft.kind, at: time, sequence: sequence)
                // A gap in the numbers (a seeded or imported id) can make count + 1 a taken id: take the next free.
                while try database.queryFirst("SELECT 1 FROM tickets WHERE id = ?", [.text(id)], { $0.int(0) }) != nil {
                    sequence += 1
                    guard sequence <= count + 1000 else {
                        throw StoreError(path: database.path, statement: "SELECT 1 FROM tickets WHERE id = ?",
                                         message: "no free ticket number left for \(prefix)")
                    }
                    id = InMemoryOperatorData.ticketID(draft.kind, at: time, sequence: sequence)
                }
                // Dates as the file will give them back, so this ticket equals the one `tickets` reads later.
                let ticket = Ticket(
                    id: id, kind: draft.kind, phone: draft.phone, createdAt: Self.stored(time),
                    dueAt: Self.stored(draft.dueAt), summary: draft.summary, owner: draft.owner,
                    faultType: draft.faultType, place: draft.place, isRepeat: draft.isRepeat)
                try insert(ticket)
                return ticket
            }
        }
        guard let created else { throw OperatorDataError("no account \(Masking.mask(draft.phone))") }
        return created
    }

    public func schedulePlanChange(phone: String, to code: String) throws(OperatorDataError) {
        let changed = try write { () throws(StoreError) in
            try database.execute("UPDATE accounts SET pending_plan_code = ? WHERE phone = ?",
                                 [.text(code), .text(phone)])
        }
        guard changed > 0 else { throw OperatorDataError("no account \(Masking.mask(phone))") }
    }

    public func setAddon(phone: String, code: String, active: Bool) throws(OperatorDataError) {
        let found = try write { () throws(StoreError) in
            try database.transaction { () throws(StoreError) -> Bool in
                guard try accountExists(phone) else { return false }
                // Removing first and appending moves a restarted add-on to the end, as the in-memory store does.
                try database.execute("DELETE FROM account_addons WHERE phone = ? AND code = ?",
                                     [.text(phone), .text(code)])
                if active {
                    try database.execute(
                        """
                        INSERT INTO account_addons (phone, code, position)
                        SELECT ?1, ?2, coalesce(max(position), 0) + 1 FROM account_addons WHERE phone = ?1
                        """, [.text(phone), .text(code)])
                }
                return true
            }
        }
        guard found else { throw OperatorDataError("no account \(Masking.mask(phone))") }
    }

    // MARK: Seeding

    /// Inserts or updates every plan and add-on of the rule set; codes that left the catalogue stay, because bills
    /// and accounts may still name them.
    private func storeCatalogue(_ ruleSet: RuleSet) throws(StoreError) {
        for plan in ruleSet.plans {
            try database.execute(
                """
                INSERT INTO plans (code, name_zh, name_en, monthly_fee_cents, data_gb, voice_minutes, terms_zh,
                    terms_en, min_age, max_age, contract_months, early_exit_fee_cents, roaming_data_gb_per_day)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT (code) DO UPDATE SET name_zh = ?2, name_en = ?3, monthly_fee_cents = ?4, data_gb = ?5,
                    voice_minutes = ?6, terms_zh = ?7, terms_en = ?8, min_age = ?9, max_age = ?10,
                    contract_months = ?11, early_exit_fee_cents = ?12, roaming_data_gb_per_day = ?13
                """,
                [.text(plan.code), .nullable(plan.name[.zh]), .nullable(plan.name[.en]),
                 .int(Self.cents(plan.monthlyFee)), .double(plan.dataGB), .int(plan.voiceMinutes),
                 .nullable(plan.terms[.zh]), .nullable(plan.terms[.en]),
                 .nullable(plan.minAge), .nullable(plan.maxAge), .nullable(plan.contractMonths),
                 .nullable(plan.earlyExitFee.map(Self.cents)), .nullable(plan.roamingDataGBPerDay)])
        }
        for addon in ruleSet.addons {
            try database.execute(
                """
                INSERT INTO addons (code, name_zh, name_en, monthly_fee_cents, terms_zh, terms_en, data_gb)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                ON CONFLICT (code) DO UPDATE SET name_zh = ?2, name_en = ?3, monthly_fee_cents = ?4, terms_zh = ?5,
                    terms_en = ?6, data_gb = ?7
                """,
                [.text(addon.code), .nullable(addon.name[.zh]), .nullable(addon.name[.en]),
                 .int(Self.cents(addon.monthlyFee)), .nullable(addon.terms[.zh]), .nullable(addon.terms[.en]),
                 .double(addon.dataGB)])
        }
    }

    /// The demo accounts, exactly as `InMemoryOperatorData` builds them for the same `now`.
    private func seed(_ ruleSet: RuleSet, now: Date) throws(StoreError) {
        for demo in ruleSet.demoAccounts {
            let account = demo.account
            try database.execute(
                """
                INSERT INTO accounts (phone, pin_digest, name, language, age, plan_code, pending_plan_code, balance_cents,
                    data_used_gb, voice_used_minutes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(account.phone), .text(PINDigest.digest(phone: account.phone, pin: demo.pin)), .text(account.name), .text(account.language.rawValue),
                 .int(account.age), .text(account.planCode), .nullable(account.pendingPlanCode), .int(account.balance),
                 .double(account.dataUsedGB), .int(account.voiceUsedMinutes)])
            for (position, code) in account.addons.enumerated() {
                try database.execute("INSERT INTO account_addons (phone, code, position) VALUES (?, ?, ?)",
                                     [.text(account.phone), .text(code), .int(position + 1)])
            }
            for bill in demo.bills(now: now, plans: ruleSet.plans, addons: ruleSet.addons) {
                try database.execute("INSERT INTO bills (phone, month, paid) VALUES (?, ?, ?)",
                                     [.text(account.phone), .text(bill.month), .bool(bill.paid)])
                let billID = database.lastInsertedRowID
                for (position, line) in bill.lines.enumerated() {
                    try database.execute(
                        """
                        INSERT INTO bill_lines (bill_id, position, kind, code, item_zh, item_en, amount_cents, rule_zh,
                            rule_en, ordered)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        [.int(billID), .int(position + 1), .text(line.kind.rawValue), .nullable(line.code),
                         .nullable(line.item[.zh]), .nullable(line.item[.en]), .int(line.amount),
                         .nullable(line.rule[.zh]), .nullable(line.rule[.en]), .bool(line.ordered)])
                }
            }
            for usage in demo.usageMonths(now: now) {
                try database.execute(
                    "INSERT INTO usage_months (phone, month, data_gb, voice_minutes) VALUES (?, ?, ?, ?)",
                    [.text(account.phone), .text(usage.month), .double(usage.dataGB), .int(usage.voiceMinutes)])
            }
            // Inserted last to first: tickets of equal age then read back in the file's order (newest rowid first).
            for ticket in demo.openTickets(now: now).reversed() {
                try insert(ticket)
            }
        }
    }

    // MARK: Helpers

    private func insert(_ ticket: Ticket) throws(StoreError) {
        try database.execute(
            """
            INSERT INTO tickets (id, kind, phone, status, created_at, due_at, summary, owner, fault_type, place,
                is_repeat)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(ticket.id), .text(ticket.kind.rawValue), .text(ticket.phone), .text(ticket.status),
             .double(ticket.createdAt.timeIntervalSince1970), .double(ticket.dueAt.timeIntervalSince1970),
             .text(ticket.summary), .text(ticket.owner), .nullable(ticket.faultType), .nullable(ticket.place),
             .bool(ticket.isRepeat)])
    }

    private func accountExists(_ phone: String) throws(StoreError) -> Bool {
        try database.queryFirst("SELECT 1 FROM accounts WHERE phone = ?", [.text(phone)]) { $0.int(0) } != nil
    }

    /// Runs a read; on failure tells `readFailed` and answers nil, which the caller turns into "nothing found".
    private func read<T>(_ body: () throws(StoreError) -> T) -> T? {
        do throws(StoreError) {
            return try body()
        } catch {
            readFailed?(error)
            return nil
        }
    }

    /// Runs a write; the customer hears a polite error, the log gets the statement and SQLite's message.
    private func write<T>(_ body: () throws(StoreError) -> T) throws(OperatorDataError) -> T {
        do throws(StoreError) {
            return try body()
        } catch {
            throw OperatorDataError(error.description)
        }
    }

    /// Language-keyed text from its columns; a missing language stays missing, as in the rule files.
    private static func texts(zh: String?, en: String?) -> [Language: String] {
        var texts: [Language: String] = [:]
        texts[.zh] = zh
        texts[.en] = en
        return texts
    }

    /// Yuan from the rule files to fen, rounded as `DemoAccount` rounds bill lines.
    private static func cents(_ yuan: Double) -> Cents { Cents((yuan * 100).rounded()) }

    /// The date as a unix-seconds REAL column gives it back.
    private static func stored(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970) }

    /// Compares every byte whatever the first difference, so response time does not tell how much of a PIN was right.
    static func constantTimeEqual(_ expected: String, _ given: String) -> Bool {
        let a = Array(expected.utf8)
        let b = Array(given.utf8)
        var difference = a.count ^ b.count
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= Int(x ^ y)
        }
        return difference == 0
    }
}
