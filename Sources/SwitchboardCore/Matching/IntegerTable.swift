/// An immutable open-addressing hash table from 64-bit keys (already well mixed) to Int32 values.
///
/// Lookups on the hot path are a multiply, a mask and a short probe, where `Dictionary` would run
/// SipHash for every feature and typo candidate of every message.
struct IntegerTable: Sendable {
    private let keys: [UInt64]
    private let values: [Int32]
    private let occupied: [Bool]
    private let mask: Int

    init(_ pairs: [UInt64: Int32]) {
        var capacity = 16
        while capacity < pairs.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: 0, count: capacity)
        var values = [Int32](repeating: 0, count: capacity)
        var occupied = [Bool](repeating: false, count: capacity)
        let mask = capacity - 1
        for (key, value) in pairs {
            var slot = Self.slot(key, mask)
            while occupied[slot] { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = value
            occupied[slot] = true
        }
        self.keys = keys
        self.values = values
        self.occupied = occupied
        self.mask = mask
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    subscript(key: UInt64) -> Int32? {
        var slot = Self.slot(key, mask)
        while occupied[slot] {
            if keys[slot] == key { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }
}
