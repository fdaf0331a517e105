import Foundation

/// Files named on a command line: each path a file as given, or a folder searched recursively
/// for the suffixes (sorted, so runs read files in the same order everywhere).
public enum FileSearch {
    public static func files(_ paths: [String], suffixes: [String]) -> (files: [String], missing: [String]) {
        var files: [String] = []
        var missing: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                missing.append(path)
                continue
            }
            if isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { name in suffixes.contains { name.hasSuffix($0) } }.sorted()
                files += found.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return (files, missing)
    }
}
