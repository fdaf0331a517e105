// PLACEHOLDER until the real clusterer lands (same API).
public struct TextCluster: Sendable, Equatable {
    public var size: Int
    public var distinct: Int
    public var label: String
    public var examples: [Example]
    public struct Example: Sendable, Equatable { public var text: String; public var count: Int }
    public var json: JSONValue {
        .object([("size", .int(size)), ("distinct", .int(distinct)), ("label", .string(label)),
                 ("examples", .array(examples.map { .object([("text", .string($0.text)), ("count", .int($0.count))]) }))])
    }
}
public struct TextClusterer: Sendable {
    var counts: [String: Int] = [:]
    public private(set) var overflow = 0
    public private(set) var total = 0
    public init(threshold: Double = 0.5, maxDistinct: Int = 50_000) {}
    public mutating func add(_ text: String, count: Int = 1) { counts[text, default: 0] += count; total += count }
    public mutating func merge(_ other: TextClusterer) { for (k, v) in other.counts { add(k, count: v) } }
    public func clusters(limit: Int = 20, examples: Int = 5) -> [TextCluster] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map {
            TextCluster(size: $0.value, distinct: 1, label: $0.key, examples: [.init(text: $0.key, count: $0.value)])
        }
    }
}
