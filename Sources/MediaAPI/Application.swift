import FastCGI
import Foundation
import Media
import ServerLog

/// The HTTP application a worker runs: routes each request, resolves the caller's identity
/// for routes that need one, turns errors into the one JSON error shape, echoes the request
/// id, and logs one JSON line per request.
public final class Application: FastCGIResponder {
    private let router: Router
    private let identity: Identity
    /// SQL statements run so far by this worker, and the nanoseconds they waited on the
    /// server: the request log shows how many each request ran (constant-query endpoints
    /// must not grow with the data) and how much of its time was the database's.
    private let databaseActivity: () -> (statements: Int, waitNanoseconds: UInt64)

    public init(router: Router, identity: Identity,
                databaseActivity: @escaping () -> (statements: Int, waitNanoseconds: UInt64) = { (0, 0) }) {
        self.router = router
        self.identity = identity
        self.databaseActivity = databaseActivity
    }

    public func respond(to request: FastCGIRequest, writer: ResponseWriter) {
        let started = DispatchTime.now().uptimeNanoseconds
        let databaseBefore = databaseActivity()
        let http = HTTPRequest(request)
        let response = handle(http)
        var headers = response.headers
        headers.append(("X-Request-Id", request.requestId))
        if !headers.contains(where: { $0.0 == "Cache-Control" }) { headers.append(("Cache-Control", "no-store")) }
        // A 304 has no body, and its length would be the full page's: none is sent.
        if response.status != 304 { headers.append(("Content-Length", String(response.body.count))) }
        var outcome = "ok"
        do {
            try writer.writeHead(status: response.status, reason: HTTPResponse.reasonPhrase(response.status), headers: headers)
            if http.method != "HEAD" { try response.body.withUnsafeBytes { try writer.write($0) } }
        } catch {
            outcome = "client-gone"
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        let database = databaseActivity()
        let databaseMilliseconds = Double(database.waitNanoseconds &- databaseBefore.waitNanoseconds) / 1_000_000
        var fields: [(key: String, value: LogValue)] = [
            ("requestId", .string(request.requestId)),
            ("method", .string(http.method)),
            ("path", .string(http.path)),
            ("status", LogValue(response.status)),
            ("durationMs", .double((elapsed * 1000).rounded() / 1000)),
            ("bytes", LogValue(response.body.count)),
            ("sql", LogValue(database.statements - databaseBefore.statements)),
            ("sqlMs", .double((databaseMilliseconds * 1000).rounded() / 1000)),
            ("outcome", .string(outcome)),
        ]
        if let rendering = response.rendering { fields.append(("rendered", .string(rendering.rawValue))) }
        Log.write(level: response.status >= 500 ? .error : .info, event: "request", fields: fields)
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        do {
            switch try router.match(method: request.method, path: request.path) {
            case .found(let endpoint, let parameters):
                request.pathParameters = parameters
                switch endpoint {
                case .open(let handler): return try handler(request)
                case .signedIn(let handler): return try handler(request, try identity.userId(of: request))
                }
            case .methodNotAllowed(let allowed):
                throw APIError.methodNotAllowed(allowed)
            case .notFound:
                throw APIError.notFound("No route for \(request.method) \(request.path).")
            }
        } catch {
            return .error(APIError(answering: error, requestId: request.id))
        }
    }
}
