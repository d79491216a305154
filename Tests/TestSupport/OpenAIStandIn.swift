import Foundation

/// scripts/openai-standin on a free loopback port: the OpenAI images wire format, its
/// behaviour chosen by each prompt's first word (see the script). `stop()` ends it.
public final class OpenAIStandIn {
    public let port: UInt16
    public let apiKey: String
    private let process: ChildProcess

    public init(apiKey: String = "sk-test-\(UInt32.random(in: 0...UInt32.max))") throws {
        self.apiKey = apiKey
        port = try freePort()
        process = try ChildProcess("/usr/bin/python3", [
            TestEnvironment.repository.path + "/scripts/openai-standin", "--port", String(port), "--api-key", apiKey,
        ])
        let client = HTTPClient(port: port)
        for _ in 0..<100 {
            if (try? client.get("/_calls").status) == 200 { return }
            usleep(50_000)
        }
        stop()
        throw TestFailure("the stand-in did not start")
    }

    /// The settings of a stack whose generation provider is the stand-in on `port`.
    public static func providerSettings(port: UInt16, apiKey: String) -> [String: String] {
        ["MEDIA_GENERATION_PROVIDER": "openai", "MEDIA_OPENAI_BASE_URL": "http://127.0.0.1:\(port)",
         "MEDIA_OPENAI_API_KEY": apiKey, "MEDIA_OPENAI_MODEL": "gpt-image-1"]
    }

    /// This stand-in's provider settings.
    public var providerSettings: [String: String] { Self.providerSettings(port: port, apiKey: apiKey) }

    /// How many times a stand-in on `port` was called with exactly `prompt`.
    public static func calls(port: UInt16, prompt: String) throws -> Int {
        let query = prompt.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? prompt
        return try HTTPClient(port: port).get("/_calls?prompt=\(query)").json()["calls"] as? Int ?? -1
    }

    public func stop() {
        process.terminate()
        process.wait()
    }
}
