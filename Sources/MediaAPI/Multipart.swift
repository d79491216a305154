import FastCGI

// multipart/form-data uploads: `MultipartParser` (MultipartParser.swift) streams a body
// from any `ByteSource`; errors are `MultipartError` (MultipartError.swift).

/// The request body is the parser's usual source: it returns 0 at the end of the declared
/// Content-Length and throws `RequestBodyError.truncated` when the client cuts the body,
/// which the parser passes on unchanged.
extension RequestBody: ByteSource {}
