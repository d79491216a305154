/// An error the client should see: one JSON shape `{"error":{"code","message"}}` with the
/// right HTTP status. Anything thrown that is not an APIError becomes a logged 500.
public struct APIError: Error, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    public var headers: [(String, String)] = []
    /// The numbers behind a refusal (a quota's use and limit), rendered as `error.details`
    /// so that a client can show them without parsing the message.
    public var details: [(String, Detail)] = []

    public enum Detail: Sendable {
        case integer(Int64)
        case text(String)
    }

    public init(status: Int, code: String, message: String, headers: [(String, String)] = [],
                details: [(String, Detail)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: 400, code: code, message: message)
    }
    public static func unauthorized(_ message: String = "A valid identity is required.") -> APIError {
        APIError(status: 401, code: "unauthorized", message: message)
    }
    public static func notFound(_ message: String = "Not found.") -> APIError {
        APIError(status: 404, code: "not_found", message: message)
    }
    public static func methodNotAllowed(_ allowed: [String]) -> APIError {
        APIError(status: 405, code: "method_not_allowed",
                 message: "Use one of: \(allowed.joined(separator: ", ")).",
                 headers: [("Allow", allowed.joined(separator: ", "))])
    }
    public static func conflict(_ message: String, code: String = "conflict") -> APIError {
        APIError(status: 409, code: code, message: message)
    }
    public static func lengthRequired() -> APIError {
        APIError(status: 411, code: "length_required", message: "A request body needs a Content-Length.")
    }
    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: "The request body is larger than \(limit) bytes.")
    }
    public static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(status: 415, code: "unsupported_media_type", message: message)
    }
    public static func unprocessable(_ message: String, code: String = "unprocessable") -> APIError {
        APIError(status: 422, code: code, message: message)
    }
    public static func unavailable(_ message: String, code: String = "unavailable") -> APIError {
        APIError(status: 503, code: code, message: message)
    }
    public static let internalError = APIError(status: 500, code: "internal_error",
                                               message: "Something went wrong on our side; it has been logged.")
}
