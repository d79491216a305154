import Foundation
import ServerLog
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Any server that speaks the OpenAI images API (OpenAI, LocalAI, vLLM-Omni, Ollama…):
/// `POST {base}/v1/images/generations` with `response_format: b64_json`; `url` and
/// `data:` results are accepted too. 429 (honouring Retry-After), 5xx, timeouts and
/// connection failures are retried with bounded exponential back-off; refusals, 401/403,
/// quota errors and unusable results fail at once with the provider's reason.
/// One URLSession for the provider's life, shared by the runner's threads, as the S3 client
/// does: its connections are reused (no TCP or TLS handshake per job).
public final class OpenAIImagesProvider: ImageProvider {
    public struct Settings: Sendable {
        public var baseURL: String
        public var apiKey: String
        public var model: String
        /// Per HTTP request.
        public var timeoutSeconds: Double
        /// Tries per job, the first included.
        public var maxAttempts: Int
        /// First back-off; doubles each retry.
        public var backoffSeconds: Double
        /// The longest Retry-After honoured (longer ones are capped to it).
        public var maxRetryAfterSeconds: Double

        public init(baseURL: String, apiKey: String, model: String, timeoutSeconds: Double = 120, maxAttempts: Int = 4,
                    backoffSeconds: Double = 1, maxRetryAfterSeconds: Double = 30) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.apiKey = apiKey
            self.model = model
            self.timeoutSeconds = timeoutSeconds
            self.maxAttempts = maxAttempts
            self.backoffSeconds = backoffSeconds
            self.maxRetryAfterSeconds = maxRetryAfterSeconds
        }
    }

    public let name = "openai"
    public let settings: Settings
    public var model: String? { settings.model }

    private let session: URLSession

    public init(settings: Settings) {
        self.settings = settings
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func generate(_ request: GenerationRequest, heartbeat: () -> Void) throws -> GeneratedImage {
        let started = DispatchTime.now().uptimeNanoseconds
        var body: [String: Any] = [
            "model": settings.model, "prompt": request.prompt, "n": 1, "size": request.parameters.size,
            "response_format": "b64_json",
        ]
        if let quality = request.parameters.quality { body["quality"] = quality }
        if let style = request.parameters.style { body["style"] = style }
        var urlRequest = URLRequest(url: URL(string: settings.baseURL + "/v1/images/generations")!)
        urlRequest.httpMethod = "POST"
        urlRequest.httpBody = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if !settings.apiKey.isEmpty { urlRequest.setValue("Bearer \(settings.apiKey)", forHTTPHeaderField: "Authorization") }
        urlRequest.timeoutInterval = settings.timeoutSeconds

        var lastProblem = ""
        for attempt in 1...max(1, settings.maxAttempts) {
            let exchange = fetch(urlRequest, heartbeat: heartbeat)
            var wait = settings.backoffSeconds * pow(2, Double(attempt - 1))
            switch exchange {
            case .failure(let error):
                // Foundation on Linux describes a timeout only as "NSURLErrorDomain error -1001":
                // name it, so that the job's error says why it failed.
                let timedOut = (error as NSError).domain == NSURLErrorDomain && (error as NSError).code == NSURLErrorTimedOut
                lastProblem = timedOut
                    ? "no answer within the \(String(format: "%g", settings.timeoutSeconds)) s timeout (MEDIA_OPENAI_TIMEOUT)"
                    : "no answer (\(error.localizedDescription))"
            case .success(let (response, data)):
                let requestId = response.value(forHTTPHeaderField: "x-request-id")
                if (200..<300).contains(response.statusCode) {
                    var image = try decodeResult(data, heartbeat: heartbeat)
                    image.facts.requestId = requestId
                    image.facts.seed = request.parameters.seed
                    image.facts.latencyMs = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
                    image.facts.attempts = attempt
                    return image
                }
                let problem = ProviderProblem(status: response.statusCode, body: data)
                if let final = problem.finalError { throw final }
                lastProblem = problem.summary
                if let retryAfter = response.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) {
                    wait = min(max(retryAfter, 0), settings.maxRetryAfterSeconds)
                }
            }
            if attempt < settings.maxAttempts {
                Log.warning("generation.provider_retry", ["jobId": .string(request.jobId), "attempt": LogValue(attempt),
                                                          "reason": .string(lastProblem), "waitSeconds": .double(wait)])
                pause(seconds: wait, heartbeat: heartbeat)
            }
        }
        throw ProviderError(.unavailable, "the provider failed \(settings.maxAttempts) times; last: \(lastProblem)")
    }

    /// The image of a 2xx answer: `b64_json`, a `data:` URI or an http(s) `url`.
    private func decodeResult(_ data: Data, heartbeat: () -> Void) throws -> GeneratedImage {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = object["data"] as? [[String: Any]], let first = items.first else {
            throw ProviderError(.invalidOutput, "the provider answered without an image")
        }
        var bytes: [UInt8]?
        if let encoded = first["b64_json"] as? String {
            bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters).map(Array.init)
        } else if let link = first["url"] as? String {
            if link.hasPrefix("data:"), let comma = link.firstIndex(of: ",") {
                bytes = Data(base64Encoded: String(link[link.index(after: comma)...]),
                             options: .ignoreUnknownCharacters).map(Array.init)
            } else if let url = URL(string: link), ["http", "https"].contains(url.scheme ?? "") {
                var download = URLRequest(url: url)
                download.timeoutInterval = settings.timeoutSeconds
                if case .success(let (response, body)) = fetch(download, heartbeat: heartbeat),
                   (200..<300).contains(response.statusCode) {
                    bytes = Array(body)
                } else {
                    throw ProviderError(.invalidOutput, "the image at the provider's url could not be downloaded")
                }
            }
        }
        guard let bytes, !bytes.isEmpty else { throw ProviderError(.invalidOutput, "the provider's image is empty or unreadable") }
        var usage: AnyJSON?
        if let value = object["usage"], let json = try? JSONSerialization.data(withJSONObject: value) {
            usage = try? JSONDecoder().decode(AnyJSON.self, from: json)
        }
        return GeneratedImage(bytes: bytes, facts: ProviderFacts(revisedPrompt: first["revised_prompt"] as? String,
                                                                 usage: usage, latencyMs: 0))
    }

    /// One HTTP exchange, waited for in slices so the job's heartbeat keeps beating.
    private func fetch(_ request: URLRequest, heartbeat: () -> Void) -> Result<(HTTPURLResponse, Data), Error> {
        let box = ExchangeBox()
        let task = session.dataTask(with: request) { data, response, error in
            box.finish(data: data, response: response as? HTTPURLResponse, error: error)
        }
        task.resume()
        while box.done.wait(timeout: .now() + 2) == .timedOut { heartbeat() }
        return box.result
    }

    private func pause(seconds: Double, heartbeat: () -> Void) {
        var remaining = seconds
        while remaining > 0 {
            let slice = min(remaining, 2)
            usleep(UInt32(slice * 1_000_000))
            remaining -= slice
            heartbeat()
        }
    }
}

/// Carries a URLSession completion back to the waiting runner thread.
private final class ExchangeBox: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private(set) var result: Result<(HTTPURLResponse, Data), Error> = .failure(URLError(.unknown))

    func finish(data: Data?, response: HTTPURLResponse?, error: Error?) {
        if let response { result = .success((response, data ?? Data())) } else { result = .failure(error ?? URLError(.badServerResponse)) }
        done.signal()
    }
}

/// A non-2xx answer, read the way OpenAI shapes errors: `{"error":{"code","type","message"}}`.
private struct ProviderProblem {
    let status: Int
    let code: String?
    let type: String?
    let message: String

    init(status: Int, body: Data) {
        self.status = status
        let error = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any]
        code = error?["code"] as? String
        type = error?["type"] as? String
        message = (error?["message"] as? String) ?? String(decoding: body.prefix(200), as: UTF8.self)
    }

    var summary: String { "HTTP \(status)\(code.map { " \($0)" } ?? ""): \(message)" }

    /// The error that ends the job now, or nil when the answer is worth retrying.
    var finalError: ProviderError? {
        let label = code ?? type ?? ""
        if ["content_policy_violation", "moderation_blocked"].contains(label) || type == "image_generation_user_error" {
            return ProviderError(.refused, "the provider refused the prompt (\(label)): \(message)")
        }
        if status == 401 || status == 403 { return ProviderError(.rejected, "the provider rejected the request: \(summary)") }
        if code == "insufficient_quota" || type == "insufficient_quota" {
            return ProviderError(.rejected, "the provider's quota is exhausted: \(message)")
        }
        if status == 429 || status >= 500 { return nil }
        return ProviderError(.rejected, "the provider rejected the request: \(summary)")
    }
}
