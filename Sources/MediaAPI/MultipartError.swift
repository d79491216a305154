/// Why a `multipart/form-data` body was refused. Every case is the client's fault (a 400,
/// or a 415 for `unsupportedContentType`), and `message` is a sentence fit for the JSON
/// error body. Errors thrown by the byte source (`RequestBodyError`, …) or by the file sink
/// (disk full, "only one file", …) are never wrapped in this type: they propagate unchanged.
public enum MultipartError: Error, Equatable, Sendable {
    /// The Content-Type is not `multipart/form-data` (the media type as sent).
    case unsupportedContentType(String)
    /// The Content-Type has no `boundary` parameter.
    case missingBoundary
    /// The `boundary` parameter is empty, longer than 70 characters or has characters
    /// RFC 2046 does not allow (the value as sent).
    case invalidBoundary(String)
    /// The body never contains the boundary delimiter announced in the Content-Type.
    case boundaryNotFound
    /// The body breaks the multipart syntax; the text says where.
    case malformed(String)
    /// The body ended before the closing `--boundary--` delimiter.
    case truncated
    /// One part's header block is larger than the limit (bytes).
    case headerTooLarge(limit: Int)
    /// A text field's value is larger than the limit (bytes).
    case fieldTooLarge(name: String, limit: Int)
    /// More text fields than the limit.
    case tooManyFields(limit: Int)
    /// Two text fields with the same name.
    case duplicateField(String)
    /// A text field's value is not valid UTF-8.
    case invalidUTF8(field: String)

    /// A short machine-readable code for the JSON error body.
    public var code: String {
        switch self {
        case .unsupportedContentType: return "unsupported_media_type"
        case .missingBoundary, .invalidBoundary: return "invalid_multipart_boundary"
        case .boundaryNotFound, .malformed: return "malformed_multipart"
        case .truncated: return "truncated_multipart"
        case .headerTooLarge: return "multipart_header_too_large"
        case .fieldTooLarge: return "field_too_large"
        case .tooManyFields: return "too_many_fields"
        case .duplicateField: return "duplicate_field"
        case .invalidUTF8: return "invalid_field_encoding"
        }
    }

    /// The HTTP status this error deserves: 415 for a body that is not a form at all,
    /// 400 for everything else.
    public var httpStatus: Int {
        if case .unsupportedContentType = self { return 415 }
        return 400
    }

    /// A human sentence describing the problem.
    public var message: String {
        switch self {
        case .unsupportedContentType(let type):
            let shown = type.isEmpty ? "none" : "`\(MultipartError.shorten(type))`"
            return "The request must be multipart/form-data; its Content-Type is \(shown)."
        case .missingBoundary:
            return "The multipart/form-data Content-Type has no boundary parameter."
        case .invalidBoundary(let value):
            return "The multipart boundary `\(MultipartError.shorten(value))` is invalid: it must be 1 to 70 characters "
                + "of letters, digits and '()+_,-./:=? (spaces allowed, but not at the end)."
        case .boundaryNotFound:
            return "The body does not contain the boundary announced in its Content-Type."
        case .malformed(let detail):
            return "The multipart body is malformed: \(detail)"
        case .truncated:
            return "The multipart body ended before its closing boundary."
        case .headerTooLarge(let limit):
            return "A multipart part has more than \(limit) bytes of headers."
        case .fieldTooLarge(let name, let limit):
            return "The field `\(MultipartError.shorten(name))` is larger than \(limit) bytes."
        case .tooManyFields(let limit):
            return "The form has more than \(limit) text fields."
        case .duplicateField(let name):
            return "The field `\(MultipartError.shorten(name))` appears more than once."
        case .invalidUTF8(let name):
            return "The field `\(MultipartError.shorten(name))` is not valid UTF-8 text."
        }
    }

    /// Client-supplied text quoted in a message is cut to a readable length.
    static func shorten(_ text: String, to limit: Int = 80) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

extension MultipartError: CustomStringConvertible {
    public var description: String { message }
}
