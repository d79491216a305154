import FastCGI
import Media
import MariaDB
import Foundation
import ServerLog

/// The HTTP application a worker runs: routes each request, turns errors into the one
/// JSON error shape, echoes the request id, and logs one JSON line per request.
public final class Application: FastCGIResponder {
    private let router: Router
    /// SQL statements run so far by this worker: the request log shows how many each
    /// request ran (constant-query endpoints must not grow with the data).
    private let statementsExecuted: () -> Int

    public init(router: Router, statementsExecuted: @escaping () -> Int = { 0 }) {
        self.router = router
        self.statementsExecuted = statementsExecuted
    }

    public func respond(to request: FastCGIRequest, writer: ResponseWriter) {
        let started = DispatchTime.now().uptimeNanoseconds
        let statementsBefore = statementsExecuted()
        let http = HTTPRequest(request)
        let response = handle(http)
        var headers = response.headers
        headers.append(("X-Request-Id", request.requestId))
        if !headers.contains(where: { $0.0 == "Cache-Control" }) { headers.append(("Cache-Control", "no-store")) }
        headers.append(("Content-Length", String(response.body.count)))
        var outcome = "ok"
        do {
            try writer.writeHead(status: response.status, reason: HTTPResponse.reasonPhrase(response.status), headers: headers)
            if http.method != "HEAD" { try writer.write(response.body) }
        } catch {
            outcome = "client-gone"
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        Log.write(level: response.status >= 500 ? "error" : "info", event: "request", fields: [
            ("requestId", .string(request.requestId)),
            ("method", .string(http.method)),
            ("path", .string(http.path)),
            ("status", LogValue(response.status)),
            ("durationMs", .double((elapsed * 1000).rounded() / 1000)),
            ("bytes", LogValue(response.body.count)),
            ("sql", LogValue(statementsExecuted() - statementsBefore)),
            ("outcome", .string(outcome)),
        ])
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        do {
            switch try router.match(method: request.method, path: request.path) {
            case .found(let handler, let parameters):
                request.pathParameters = parameters
                return try handler(request)
            case .methodNotAllowed(let allowed):
                throw APIError.methodNotAllowed(allowed)
            case .notFound:
                throw APIError.notFound("No route for \(request.method) \(request.path).")
            }
        } catch let error as APIError {
            return .error(error)
        } catch let error as RequestBodyError {
            return .error(APIError(requestBody: error))
        } catch let error as MultipartError {
            return .error(APIError(status: error.httpStatus, code: error.code, message: error.message))
        } catch let error as IngestError {
            return .error(APIError(ingest: error))
        } catch let error as DatabaseError where error.isConnectionFailure {
            Log.warning("database.unavailable", ["requestId": .string(request.id), "error": .string(error.description)])
            return .error(.unavailable("The database is unavailable; try again shortly.", code: "database_unavailable"))
        } catch let error as DatabaseError where error.isLockWaitTimeout || error.isDeadlock {
            Log.warning("database.busy", ["requestId": .string(request.id), "error": .string(error.description)])
            return .error(APIError(status: 503, code: "busy", message: "Too many concurrent changes; try again.",
                                   headers: [("Retry-After", "1")]))
        } catch let error as DatabaseError where error.isDuplicateKey {
            return .error(.conflict("That already exists.", code: "conflict"))
        } catch {
            Log.error("request.failed", ["requestId": .string(request.id), "error": .string(String(describing: error))])
            return .error(.internalError)
        }
    }
}

extension APIError {
    init(ingest error: IngestError) {
        switch error {
        case .tooLarge: self = APIError(status: 413, code: "file_too_large", message: error.message)
        case .empty: self = .badRequest(error.message, code: "empty_file")
        case .unsupportedType: self = .unsupportedMediaType(error.message)
        case .rejectedImage(.tooManyPixels): self = .unprocessable(error.message, code: "image_too_large")
        case .rejectedImage: self = .unprocessable(error.message, code: "undecodable_image")
        }
    }

    init(requestBody error: RequestBodyError) {
        switch error {
        case .lengthRequired: self = .lengthRequired()
        case .invalidLength(let value): self = .badRequest("Content-Length `\(value)` is not a byte count.")
        case .truncated(let expected, let received):
            self = .badRequest("The body ended after \(received) of \(expected) bytes.", code: "truncated_body")
        case .tooLarge(let limit): self = .payloadTooLarge(limit: limit)
        }
    }
}
