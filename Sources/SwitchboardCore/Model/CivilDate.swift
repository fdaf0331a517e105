import Foundation

/// A calendar date and time of day, worked out by arithmetic from seconds since 1970 (Howard
/// Hinnant's civil-date algorithms), and written with digits by hand: timestamps, ticket ids and
/// replay's log times are made or read once per turn, where a `Calendar` or `String(format:)`
/// cost more than the turn.
public struct CivilDate: Equatable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// Seconds since midnight.
    public var second: Int

    /// The date at `seconds` since 1970, in UTC shifted by `offset` seconds (8 * 3600: China).
    public init(_ seconds: Int64, offset: Int = 0) {
        let local = seconds + Int64(offset)
        let days = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        second = Int(local - Int64(days) * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    public init(_ date: Date, offset: Int = 0) {
        self.init(Int64(date.timeIntervalSince1970.rounded(.down)), offset: offset)
    }

    /// Days from 1970-01-01 to a calendar date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `20261129`.
    public var compact: String {
        var bytes = [UInt8](repeating: 0x30, count: 8)
        Self.put(year, at: 0, width: 4, in: &bytes)
        Self.put(month, at: 4, width: 2, in: &bytes)
        Self.put(day, at: 6, width: 2, in: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `value` as `width` decimal digits (zero-padded, the lowest kept) at `at`.
    public static func put(_ value: Int, at: Int, width: Int, in bytes: inout [UInt8]) {
        var v = value
        for k in stride(from: at + width - 1, through: at, by: -1) {
            bytes[k] = UInt8(0x30 + v % 10)
            v /= 10
        }
    }
}
