#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Looks for words in a message's UTF-8 bytes with `memchr` and `memcmp`: the dialogue checks most messages
/// against a word list or two (joiners, "why", "the first one"), and copying the message and
/// each word into arrays to compare them cost more than the rest of those checks.
enum ByteSearch {
    /// Where `word` first occurs in `text` (only at the start, `atStart`), or nil. An empty
    /// word is never found.
    static func find(_ word: String, in text: UnsafeBufferPointer<UInt8>, atStart: Bool = false) -> Int? {
        var word = word
        return word.withUTF8 { w -> Int? in
            guard !w.isEmpty, text.count >= w.count, let t = text.baseAddress else { return nil }
            if atStart { return memcmp(t, w.baseAddress!, w.count) == 0 ? 0 : nil }
            var start = 0
            while start + w.count <= text.count {
                guard let hit = memchr(t + start, Int32(w[0]), text.count - w.count - start + 1) else { return nil }
                let at = t.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(t + at, w.baseAddress!, w.count) == 0 { return at }
                start = at + 1
            }
            return nil
        }
    }

    /// Whether `text` contains (or, `atStart`, begins with) one of `words`, ASCII letters
    /// compared without case (the words are written in lower case).
    static func mentions(_ text: String, _ words: [String], atStart: Bool = false) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            func any(_ t: UnsafeBufferPointer<UInt8>) -> Bool { words.contains { find($0, in: t, atStart: atStart) != nil } }
            guard bytes.contains(where: { (0x41...0x5A).contains($0) }) else { return any(bytes) }
            return bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }.withUnsafeBufferPointer(any)
        }
    }
}
