/// Many small lists in two flat arrays (offsets and items).
///
/// The per-term tables are read for every hit of every message; as arrays of arrays, each read
/// retained and released an inner buffer. Flat, a read is two loads.
struct FlatLists<Element: Sendable>: Sendable {
    private let starts: [Int32]
    private let items: [Element]

    init(_ lists: [[Element]]) {
        var starts: [Int32] = [0]
        starts.reserveCapacity(lists.count + 1)
        var items: [Element] = []
        items.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        for list in lists {
            items += list
            starts.append(Int32(items.count))
        }
        self.starts = starts
        self.items = items
    }

    @inline(__always)
    func isEmpty(_ list: Int32) -> Bool { starts[Int(list)] == starts[Int(list) + 1] }

    /// Calls `body` with each item of list `list`.
    @inline(__always)
    func forEach(_ list: Int32, _ body: (Element) -> Void) {
        for k in Int(starts[Int(list)])..<Int(starts[Int(list) + 1]) { body(items[k]) }
    }

    /// Whether any item of list `list` satisfies `predicate`.
    @inline(__always)
    func contains(_ list: Int32, where predicate: (Element) -> Bool) -> Bool {
        for k in Int(starts[Int(list)])..<Int(starts[Int(list) + 1]) where predicate(items[k]) { return true }
        return false
    }

    /// The first item of list `list` satisfying `predicate`.
    @inline(__always)
    func first(_ list: Int32, where predicate: (Element) -> Bool) -> Element? {
        for k in Int(starts[Int(list)])..<Int(starts[Int(list) + 1]) where predicate(items[k]) { return items[k] }
        return nil
    }

    /// The offsets and items as raw buffers, for loops too hot for closures per item.
    @inline(__always)
    func withUnsafeStorage<R>(_ body: (_ starts: UnsafeBufferPointer<Int32>, _ items: UnsafeBufferPointer<Element>) -> R) -> R {
        starts.withUnsafeBufferPointer { starts in items.withUnsafeBufferPointer { items in body(starts, items) } }
    }
}
