/// An immutable open-addressing hash table from 64-bit keys (already well mixed) to Int32 values.
///
/// Lookups on the hot path are a multiply, a mask and a short probe, where `Dictionary` would run
/// SipHash for every typo candidate of every message. A slot is 8 bytes, the key's high half as a
/// tag beside the value, so a lookup costs one cache miss in a table of a hundred thousand words.
/// Two keys are confused only when both halves collide (the slot from the low half, the tag from
/// the high one): about one lookup in four billion.
struct IntegerTable: Sendable {
    /// `tag << 32 | value`; 0 is an empty slot (tags are never 0).
    private let slots: [UInt64]
    private let shift: UInt64

    init(_ pairs: [UInt64: Int32]) {
        var bits: UInt64 = 4
        while 1 << bits < pairs.count + pairs.count / 2 { bits += 1 }  // at most two-thirds full
        var slots = [UInt64](repeating: 0, count: 1 << bits)
        let mask = slots.count - 1
        // Sorted, so the layout (and which of two colliding keys wins) never depends on hashing order.
        for (key, value) in pairs.sorted(by: { $0.key < $1.key }) {
            var slot = fibonacciSlot(key, shift: 64 - bits)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt64(Self.tag(key)) << 32 | UInt64(UInt32(bitPattern: value))
        }
        self.slots = slots
        self.shift = 64 - bits
    }

    @inline(__always)
    private static func tag(_ key: UInt64) -> UInt32 {
        max(UInt32(truncatingIfNeeded: key >> 32), 1)
    }

    subscript(key: UInt64) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            let tag = Self.tag(key)
            var slot = fibonacciSlot(key, shift: shift)
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if UInt32(truncatingIfNeeded: entry >> 32) == tag { return Int32(bitPattern: UInt32(truncatingIfNeeded: entry)) }
                slot = (slot + 1) & mask
            }
        }
    }
}

/// The slot of `key` in an open-addressing table of `1 << (64 - shift)` slots: Fibonacci hashing
/// (multiply by 2^64/φ, keep the top bits), shared by every hash table of the matcher.
@inline(__always)
func fibonacciSlot(_ key: UInt64, shift: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
}
