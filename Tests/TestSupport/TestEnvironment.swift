import Foundation

/// What `scripts/test` prepared: the repository, the test database, the built binary.
public enum TestEnvironment {
    /// The repository root (from MEDIA_REPO, else found from this file's path).
    public static let repository: URL = {
        if let path = ProcessInfo.processInfo.environment["MEDIA_REPO"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// The env file `scripts/test` wrote for the test stack (`KEY='value'` lines).
    public static let stackSettings: [String: String] = readEnvFile(
        ProcessInfo.processInfo.environment["MEDIA_TEST_ENV_FILE"]
            ?? repository.appendingPathComponent(".run/test/env").path)

    /// An env file as scripts/stack writes it (`KEY='value'` lines, `#` comments).
    public static func readEnvFile(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var settings: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
            }
            settings[String(line[..<equals])] = value
        }
        return settings
    }

    /// The test database's URL: DATABASE_URL if exported, else the test stack's.
    public static var databaseURL: String? {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return url }
        return stackSettings["DATABASE_URL"]
    }

    /// The media-server binary the tests start (the debug build `swift build` made).
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["MEDIA_BIN"], !path.isEmpty { return path }
        return repository.appendingPathComponent(".build/debug/media-server").path
    }
}
