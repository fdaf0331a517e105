import CSQLite

/// The schema, one script per version. `PRAGMA user_version` records how far a file has come, so opening it again
/// runs only what is new, and a file from a newer build is refused rather than misread.
enum Migrations {
    /// Script `n` takes a file from version `n` to `n + 1`. Append; never edit a script that has shipped.
    static let scripts: [String] = [version1, version2]

    /// The version this build writes.
    static var latest: Int { scripts.count }

    /// Brings the file up to `latest` in one transaction: a crash half-way leaves it at the old version.
    static func apply(to database: Database) throws(StoreError) {
        try database.transaction { () throws(StoreError) in
            // Read inside the write lock, so two processes opening a new file do not both create the tables.
            let version = try database.userVersion()
            if version > latest {
                throw StoreError(path: database.path, statement: "PRAGMA user_version",
                                 message: "schema version \(version) is newer than this build knows (\(latest))")
            }
            if version == 0 {
                let tables = try database.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                    row throws(StoreError) in try row.text(0)
                }
                // Some other program's database: adding our tables to it would only hide the mistake.
                if !tables.isEmpty {
                    throw StoreError(path: database.path, statement: "PRAGMA user_version",
                                     message: "it holds other tables (\(tables.joined(separator: ", "))) and no "
                                         + "Switchboard schema version",
                                     code: SQLITE_NOTADB)
                }
            }
            for next in version..<latest {
                try database.execute(script: scripts[next])
                // PRAGMA takes no parameters; the value is our own integer.
                try database.execute(script: "PRAGMA user_version = \(next + 1)")
            }
        }
    }

    /// Version 1: the catalogue, accounts, bills, usage and tickets. Constraints live here, not only in Swift, so a
    /// bug or a hand edit cannot leave a bill line without a bill or a ticket of a kind nobody handles.
    static let version1 = """
        CREATE TABLE plans (
            code TEXT PRIMARY KEY NOT NULL,
            name_zh TEXT,
            name_en TEXT,
            monthly_fee_cents INTEGER NOT NULL CHECK (monthly_fee_cents >= 0),
            data_gb REAL NOT NULL CHECK (data_gb >= 0),
            voice_minutes INTEGER NOT NULL CHECK (voice_minutes >= 0),
            terms_zh TEXT,
            terms_en TEXT,
            min_age INTEGER CHECK (min_age >= 0),
            max_age INTEGER CHECK (max_age >= 0),
            contract_months INTEGER CHECK (contract_months >= 0),
            early_exit_fee_cents INTEGER CHECK (early_exit_fee_cents >= 0),
            roaming_data_gb_per_day REAL CHECK (roaming_data_gb_per_day >= 0)
        ) STRICT;

        CREATE TABLE addons (
            code TEXT PRIMARY KEY NOT NULL,
            name_zh TEXT,
            name_en TEXT,
            monthly_fee_cents INTEGER NOT NULL CHECK (monthly_fee_cents >= 0),
            terms_zh TEXT,
            terms_en TEXT,
            data_gb REAL NOT NULL DEFAULT 0 CHECK (data_gb >= 0)
        ) STRICT;

        CREATE TABLE accounts (
            phone TEXT PRIMARY KEY NOT NULL,
            pin_digest TEXT NOT NULL CHECK (pin_digest LIKE 'sha256:%'),  -- PINDigest, never the PIN
            name TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
            age INTEGER NOT NULL CHECK (age >= 0),
            plan_code TEXT NOT NULL REFERENCES plans (code),
            pending_plan_code TEXT REFERENCES plans (code),
            -- Negative when the account is in arrears.
            balance_cents INTEGER NOT NULL,
            data_used_gb REAL NOT NULL CHECK (data_used_gb >= 0),
            voice_used_minutes INTEGER NOT NULL CHECK (voice_used_minutes >= 0)
        ) STRICT;

        -- position keeps the order the add-ons were started in, which is the order the bot lists them.
        CREATE TABLE account_addons (
            phone TEXT NOT NULL REFERENCES accounts (phone) ON DELETE CASCADE,
            code TEXT NOT NULL REFERENCES addons (code),
            position INTEGER NOT NULL,
            PRIMARY KEY (phone, code)
        ) STRICT;

        CREATE TABLE bills (
            id INTEGER PRIMARY KEY,
            phone TEXT NOT NULL REFERENCES accounts (phone) ON DELETE CASCADE,
            month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
            paid INTEGER NOT NULL CHECK (paid IN (0, 1)),
            UNIQUE (phone, month)
        ) STRICT;

        -- Lines keep their code even when the plan or add-on later leaves the catalogue: a bill is history.
        CREATE TABLE bill_lines (
            bill_id INTEGER NOT NULL REFERENCES bills (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('plan', 'addon', 'usage', 'roaming', 'adjustment')),
            code TEXT,
            item_zh TEXT,
            item_en TEXT,
            -- Only an adjustment may credit the customer.
            amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0 OR kind = 'adjustment'),
            rule_zh TEXT,
            rule_en TEXT,
            ordered INTEGER NOT NULL CHECK (ordered IN (0, 1)),
            PRIMARY KEY (bill_id, position)
        ) STRICT;

        CREATE TABLE usage_months (
            phone TEXT NOT NULL REFERENCES accounts (phone) ON DELETE CASCADE,
            month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
            data_gb REAL NOT NULL CHECK (data_gb >= 0),
            voice_minutes INTEGER NOT NULL CHECK (voice_minutes >= 0),
            PRIMARY KEY (phone, month)
        ) STRICT;

        -- Times are unix seconds (REAL keeps the fraction a Date carries).
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('repair', 'complaint', 'dispute', 'refund', 'invoice')),
            phone TEXT NOT NULL REFERENCES accounts (phone) ON DELETE CASCADE,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            due_at REAL NOT NULL,
            summary TEXT NOT NULL,
            owner TEXT NOT NULL,
            fault_type TEXT,
            place TEXT,
            is_repeat INTEGER NOT NULL CHECK (is_repeat IN (0, 1))
        ) STRICT;

        CREATE INDEX tickets_by_phone ON tickets (phone, created_at);
        """

    /// Version 2: the human queue. A ticket row holds what the queue orders and filters by, and the whole handoff
    /// packet as JSON; messages, notes and what happened to the ticket go in a log beside it, append-only.
    static let version2 = """
        CREATE TABLE handoff_tickets (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            session TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            priority INTEGER NOT NULL CHECK (priority >= 1),
            language TEXT NOT NULL,
            dialect TEXT,
            skills TEXT NOT NULL,
            -- Until then only an agent with the dialect may take it; after, any agent with the other skills.
            dialect_until INTEGER,
            reasons TEXT NOT NULL,
            elderly INTEGER NOT NULL CHECK (elderly IN (0, 1)),
            status TEXT NOT NULL CHECK (status IN ('waiting', 'claimed', 'resolved', 'returned')),
            sla_due_at INTEGER NOT NULL,
            breached INTEGER NOT NULL DEFAULT 0 CHECK (breached IN (0, 1)),
            agent TEXT,
            claimed_at INTEGER,
            closed_at INTEGER,
            note TEXT,
            callback_phone TEXT,
            callback_at INTEGER,
            summary TEXT NOT NULL,
            packet TEXT NOT NULL CHECK (json_valid(packet)),
            CHECK ((status = 'claimed') = (agent IS NOT NULL AND claimed_at IS NOT NULL) OR status IN ('resolved', 'returned'))
        ) STRICT;

        CREATE INDEX handoff_tickets_waiting ON handoff_tickets (status, priority DESC, created_at, seq);
        -- Only tickets that can still breach their SLA: marking breaches reads just the ones due.
        CREATE INDEX handoff_tickets_sla ON handoff_tickets (sla_due_at) WHERE status = 'waiting' AND breached = 0;

        CREATE TABLE handoff_log (
            ticket TEXT NOT NULL REFERENCES handoff_tickets (id),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('message', 'note', 'event')),
            role TEXT NOT NULL CHECK (role IN ('customer', 'agent', 'system')),
            author TEXT,
            text TEXT NOT NULL
        ) STRICT;

        CREATE INDEX handoff_log_ticket ON handoff_log (ticket, at);

        CREATE TABLE agents (
            name TEXT PRIMARY KEY NOT NULL,
            skills TEXT NOT NULL,
            signed_in INTEGER NOT NULL CHECK (signed_in IN (0, 1)),
            signed_in_at INTEGER,
            seen_at INTEGER NOT NULL
        ) STRICT;
        """
}
