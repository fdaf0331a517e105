#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// FNV-1a, 64 bits, over bytes: stable across runs and processes (unlike `Hasher`, which is
/// seeded per process) and cheap on UTF-8 (String's own hashing normalises Unicode first).
/// Replay finds open sessions by it, and the clusterer orders the texts it keeps by it.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }

    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes { add(byte) }
    }

    mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add($0) }
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = FNV1a()
        h.add(bytes)
        return h.value
    }

    static func hash(_ text: String) -> UInt64 {
        var h = FNV1a()
        h.add(text)
        return h.value
    }
}

extension String {
    /// The same bytes as `bytes`, compared with `memcmp`.
    func hasSameUTF8(as bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        utf8.withContiguousStorageIfAvailable { x in
            x.count == bytes.count && (x.isEmpty || memcmp(x.baseAddress!, bytes.baseAddress!, x.count) == 0)
        } ?? utf8.elementsEqual(bytes)
    }

    /// The same bytes, compared with `memcmp`: keys hashed over bytes (`FNV1a`) compare over bytes
    /// too (`==` checks canonical equivalence, and a generic walk over `utf8` is slower).
    func hasSameUTF8(as other: String) -> Bool {
        other.utf8.withContiguousStorageIfAvailable { hasSameUTF8(as: $0) } ?? utf8.elementsEqual(other.utf8)
    }
}
