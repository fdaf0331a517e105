#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SwitchboardCore

/// An append-only JSON Lines transcript log. Each turn's events go out in one `write` before the
/// customer sees the reply, so a reply on screen means its events are with the kernel: killing
/// the process (even `kill -9`) loses nothing acknowledged, and O_APPEND keeps lines whole when
/// several processes share the file.
final class TranscriptFile {
    let path: String
    private let fd: Int32

    /// Opens (creating folders and file as needed) for appending.
    init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationFailure("cannot open transcript log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// The default log: `transcripts/log/YYYY-MM-DD.jsonl` (UTC date), git-ignored.
    static func defaultPath(now: Date = Date()) -> String {
        "transcripts/log/\(TranscriptEvent.timestamp(now).prefix(10)).jsonl"
    }

    func append(_ events: [TranscriptEvent]) {
        guard !events.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024 * events.count)
        for event in events {
            event.write(to: &bytes)
            bytes.append(0x0A)
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                StandardError.write("switchboard: cannot write transcript log \(path): \(String(cString: strerror(errno)))\n")
                return
            }
            offset += n
        }
    }
}

/// A failure with a message for the person at the terminal.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
