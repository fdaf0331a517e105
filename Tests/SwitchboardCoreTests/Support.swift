import Foundation
import Testing

@testable import SwitchboardCore

/// The repository and the things tests share: the shipped rule set, temporary folders, the binary.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var rules: String { root.appendingPathComponent("intents").path }
    static var lexicons: String { root.appendingPathComponent("dialect-lexicons").path }

    /// The shipped rule set, loaded once for all tests.
    static let shipped: Result<RuleSet, RuleLoadFailure> = {
        do throws(RuleLoadFailure) {
            return .success(try RuleLoader.load(RuleSources(rulesDirectory: rules, lexiconsDirectory: lexicons)))
        } catch {
            return .failure(error)
        }
    }()

    static func ruleSet() throws -> RuleSet { try shipped.get() }

    /// A fresh temporary folder, removed when the process ends.
    static func temporaryDirectory(_ name: String = "switchboard-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small rule set from inline files (name → contents); canonical intents are not required.
    static func miniRuleSet(_ files: [String: String], lexicons: [String: String] = [:]) throws -> RuleSet {
        let dir = try temporaryDirectory("rules")
        let rules = dir.appendingPathComponent("intents")
        let lex = dir.appendingPathComponent("lexicons")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: lex, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: rules.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        for (name, text) in lexicons { try text.write(to: lex.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return try RuleLoader.load(RuleSources(rulesDirectory: rules.path, lexiconsDirectory: lex.path,
                                               requiresCanonicalIntents: false))
    }

    /// Labelled JSONL lines as dictionaries.
    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }
}

/// Runs the built `switchboard` binary.
enum Binary {
    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The executable sits beside the test bundle in the build folder.
    static var url: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("switchboard")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Repo.root.appendingPathComponent(".build/debug/switchboard")
    }

    static func run(_ arguments: [String], stdin: Data = Data(), in directory: URL = Repo.root) throws -> Output {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // Output goes to files, so a large answer can never block the process against a full pipe.
        let dir = try Repo.temporaryDirectory("run")
        let outURL = dir.appendingPathComponent("stdout")
        let errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: dir) }
        return Output(status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
