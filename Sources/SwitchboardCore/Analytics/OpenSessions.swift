/// The sessions a `SessionAssembler` holds open, found by the hash of their id (`FNV1a`, worked
/// out on the parsing thread) and then its bytes: placing a line makes no string and hashes
/// nothing. Open addressing with linear probing over a power-of-two table of positions; the
/// sessions themselves sit in a dense array, in no particular order.
struct OpenSessions {
    private(set) var sessions: [RecordedSession] = []
    /// Each session's id hash, by position.
    private var hashes: [UInt64] = []
    /// Positions in `sessions`; -1 for an empty slot. At most half full.
    private var table = [Int32](repeating: -1, count: 256)

    var count: Int { sessions.count }

    /// The position of the open session with this id, if there is one.
    func find(_ hash: UInt64, _ id: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = home(hash)
        while true {
            let p = Int(table[slot])
            if p < 0 { return nil }
            if hashes[p] == hash && sessions[p].id.hasSameUTF8(as: id) { return p }
            slot = next(slot)
        }
    }

    /// Adds a session (whose id is not open), returning its position.
    mutating func insert(_ session: RecordedSession, hash: UInt64) -> Int {
        if (sessions.count + 1) * 2 > table.count {
            table = [Int32](repeating: -1, count: table.count * 2)
            for p in sessions.indices { place(p) }
        }
        sessions.append(session)
        hashes.append(hash)
        place(sessions.count - 1)
        return sessions.count - 1
    }

    /// Changes the session at `p` in place (its arrays are appended to without a copy).
    mutating func update<R>(_ p: Int, _ body: (inout RecordedSession) -> R) -> R {
        body(&sessions[p])
    }

    /// Takes the session at `p` out; the last session moves to `p`.
    mutating func remove(at p: Int) -> RecordedSession {
        // The slot is emptied, and later entries of its probe run moved back, so that every
        // entry stays reachable from its home slot without markers for removed ones.
        var hole = slot(of: p)
        table[hole] = -1
        var k = next(hole)
        while table[k] >= 0 {
            let h = home(hashes[Int(table[k])])
            let reachable = hole <= k ? (h > hole && h <= k) : (h > hole || h <= k)
            if !reachable {
                table[hole] = table[k]
                table[k] = -1
                hole = k
            }
            k = next(k)
        }
        let last = sessions.count - 1
        if p != last {
            table[slot(of: last)] = Int32(p)
            sessions.withUnsafeMutableBufferPointer { $0.swapAt(p, last) }  // moved, not copied
            hashes.swapAt(p, last)
        }
        hashes.removeLast()
        return sessions.removeLast()
    }

    /// Every open session, leaving none.
    mutating func removeAll() -> [RecordedSession] {
        defer {
            sessions = []
            hashes = []
            table = [Int32](repeating: -1, count: 256)
        }
        return sessions
    }

    private var mask: Int { table.count - 1 }
    private func next(_ slot: Int) -> Int { (slot + 1) & mask }

    /// Where a hash's probe run starts: high bits of the hash mixed by a multiply.
    private func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private mutating func place(_ p: Int) {
        var s = home(hashes[p])
        while table[s] >= 0 { s = next(s) }
        table[s] = Int32(p)
    }

    private func slot(of p: Int) -> Int {
        var s = home(hashes[p])
        while Int(table[s]) != p { s = next(s) }
        return s
    }
}
