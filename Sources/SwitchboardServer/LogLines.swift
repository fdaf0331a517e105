#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import SwitchboardCore

/// swift-log lines on standard error as `key=value` pairs (logfmt): one line per event, readable
/// in a terminal and by log tools alike.
///
///     2026-11-29T12:00:00.000Z level=info msg="session opened" session=s-3f9a… protocol=jsonl peer=127.0.0.1:50312
public struct LogfmtHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = TranscriptEvent.timestamp(Date())
        line += " level=\(event.level.rawValue) msg="
        Self.quote(event.message.description, into: &line)
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() {
            line += " \(key)="
            Self.quote("\(merged[key]!)", into: &line)
        }
        line += "\n"
        line.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }

    static func quote(_ value: String, into line: inout String) {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0.value != 0x7F }
        if plain {
            line += value
            return
        }
        line += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            default: line.unicodeScalars.append(scalar.value < 0x20 ? " " : scalar)
            }
        }
        line += "\""
    }
}
