import FastCGI
import Foundation
import Media

/// The library: upload, list, show, edit, delete (`/api/media…`). Each handler parses the
/// request, calls one `AssetLibrary` use case, and renders its result.
package struct MediaRoutes {
    let library: AssetLibrary
    /// Library pages rendered before (see `RenderedResponses`).
    let rendered: RenderedResponses?

    /// Multipart framing and text fields on top of the file itself.
    static let formOverheadBytes: Int64 = 1024 * 1024
    static let acceptedFields = ["title", "description", "tags", "ownerType", "ownerId", "role"]

    func register(in router: inout Router) {
        router.add("POST", "/api/media/upload", signedIn: upload)
        router.add("GET", "/api/media", signedIn: list)
        router.add("GET", "/api/media/usage", signedIn: usage)
        router.add("GET", "/api/media/:id", signedIn: show)
        router.add("PATCH", "/api/media/:id", signedIn: update)
        router.add("DELETE", "/api/media/:id", signedIn: delete)
    }

    func upload(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        // Refuse an oversized body before reading a byte of it.
        let largest = library.uploadLimits.largest
        let (limit, overflow) = largest.addingReportingOverflow(Self.formOverheadBytes)
        guard Int64(try request.body.contentLength()) <= (overflow ? Int64.max : limit) else {
            throw APIError(ingest: .tooLarge(limit: largest))
        }
        let parser = try MultipartParser(contentType: request.header("Content-Type") ?? "")
        var sink = UploadSink(stage: library.stageUpload)
        let form = try parser.parse(request.body, into: &sink)
        guard let file = sink.file else {
            throw APIError.badRequest("The form has no file part; send the image as a `file` field with a filename.",
                                      code: "missing_file")
        }
        if let unknown = form.fields.keys.sorted().first(where: { !Self.acceptedFields.contains($0) }) {
            throw APIError.badRequest(
                "Unknown form field `\(unknown)`; accepted: file, \(Self.acceptedFields.joined(separator: ", ")).",
                code: "unknown_field")
        }
        let details = UploadDetails(
            title: form.fields["title"], description: form.fields["description"],
            tags: try Self.tags(formField: form.fields["tags"]), originalFilename: sink.filename,
            attachTo: try Self.attachTarget(form.fields))
        let (asset, attachment) = try library.upload(file, details, userId: userId)
        guard let attachment else { return .json(asset, status: 201) }
        return .json(UploadedAndAttached(asset: asset,
                                         attachment: AttachmentRepresentation(attachment, asset: nil)),
                     status: 201)
    }

    func list(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        try list(request, userId: userId, rendered: rendered)
    }

    private func list(_ request: HTTPRequest, userId: String, rendered: RenderedResponses?) throws -> HTTPResponse {
        var query = LibraryQuery(userId: userId,
                                 limit: try request.pageLimit(fallback: 50, maximum: AssetLibrary.maxPageSize),
                                 after: try request.pageCursor())
        if let text = request.queryValue("type"), !text.isEmpty {
            query.type = try HTTPRequest.enumValue(text, "type", code: "invalid_type") as MediaType
        }
        if let tag = request.queryValue("tag"), !tag.isEmpty { query.tag = tag }
        if let text = request.queryValue("q"), !text.isEmpty {
            guard text.count <= AssetDetails.maxTitleCharacters else {
                throw APIError.badRequest("`q` is at most \(AssetDetails.maxTitleCharacters) characters.", code: "invalid_query")
            }
            query.titleContains = text
        }
        // The page changes with every upload and edit: clients revalidate, never reuse unasked.
        let caching = ("Cache-Control", "private, no-cache")
        var response: HTTPResponse
        let validator: String
        switch try library.page(query, currentValidator: request.header("If-None-Match"), rendered: rendered) {
        case .notModified(let current):
            return HTTPResponse(status: 304, headers: [("ETag", current), caching])
        case .rendered(let content, let current):
            // Kept bodies leave only when another is kept, never between the read and here;
            // were one gone, a read without them is still the right answer.
            guard let body = rendered?.body(for: content) else { return try list(request, userId: userId, rendered: nil) }
            (response, validator) = (.json(body, rendering: .kept), current)
        case .page(let items, let next, let current, let content):
            (response, validator) = (.json(Page(items: items, nextCursor: next?.token)), current)
            rendered?.keep(&response, for: content)
        }
        response.headers += [("ETag", validator), caching]
        return response
    }

    func usage(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        var response = HTTPResponse.json(UsageRepresentation(usage: try library.usage(userId: userId)))
        response.headers.append(("Cache-Control", "private, no-cache"))
        return response
    }

    func show(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        .json(try library.asset(id: request.parameter("id"), userId: userId))
    }

    func update(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let json = try request.jsonBody()
        let changes = try Self.changes(json)
        return .json(try library.update(id: request.parameter("id"), userId: userId, changes))
    }

    func delete(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        try library.delete(id: request.parameter("id"), userId: userId)
        return .noContent()
    }

    /// A PATCH body: `title`, `description`, `tags`; absent leaves a field alone, null clears it.
    package static func changes(_ json: JSONBody) throws -> AssetChanges {
        try json.requireOnly(["title", "description", "tags"])
        let body = json.object
        func text(_ name: String) throws -> String?? {
            guard let value = body[name] else { return .none }
            if value is NSNull { return .some(nil) }
            guard let string = value as? String else {
                throw APIError.unprocessable("`\(name)` must be a string or null.", code: "invalid_\(name)")
            }
            return .some(string)
        }
        var tags: [String]?? = .none
        if let value = body["tags"] {
            if value is NSNull {
                tags = .some(nil)
            } else if let array = value as? [Any], let strings = array as? [String], array.allSatisfy({ $0 is String }) {
                tags = .some(strings)
            } else {
                throw APIError.unprocessable("`tags` must be an array of strings.", code: "invalid_tags")
            }
        }
        return AssetChanges(title: try text("title"), description: try text("description"), tags: tags)
    }

    /// The `tags` form field: a JSON array of strings.
    package static func tags(formField text: String?) throws -> [String]? {
        guard let text else { return nil }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let array = parsed as? [Any], let strings = array as? [String],
              array.allSatisfy({ $0 is String }) else {
            throw APIError.unprocessable("`tags` must be a JSON array of strings, e.g. [\"poster\",\"night\"].",
                                         code: "invalid_tags")
        }
        return strings
    }

    /// Upload and attach in one request: all three owner fields, or none.
    package static func attachTarget(_ fields: [String: String]) throws -> AttachmentTarget? {
        let (type, id, role) = (fields["ownerType"], fields["ownerId"], fields["role"])
        guard type != nil || id != nil || role != nil else { return nil }
        guard let type, let id, let role else {
            throw APIError.unprocessable("To attach on upload, send all of ownerType, ownerId and role.",
                                         code: "incomplete_owner")
        }
        return try AttachmentTarget(ownerType: AttachmentRoutes.ownerType(type), ownerId: id,
                                    role: AttachmentRoutes.role(role))
    }
}

/// An upload that was also attached: the asset, with an `attachment` field.
struct UploadedAndAttached: JSONWritable {
    let asset: PresentedAsset
    let attachment: AttachmentRepresentation

    func write(to json: inout JSONWriter) {
        json.object { json in
            asset.writeFields(to: &json)
            json.key("attachment"); json.value(attachment)
        }
    }
}

/// The upload's file part, streamed to a staged temp file; a second file part is refused.
struct UploadSink: FilePartSink {
    let stage: () throws -> StagedFile
    private(set) var file: StagedFile?
    private(set) var filename: String?

    init(stage: @escaping () throws -> StagedFile) {
        self.stage = stage
    }

    mutating func begin(fieldName: String, filename: String, contentType: String?) throws {
        guard file == nil else {
            throw APIError.badRequest("Send exactly one file per upload.", code: "too_many_files")
        }
        file = try stage()
        self.filename = filename
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file?.append(bytes)
    }

    /// A browser sends an empty file input as a part with `filename=""` and no bytes: no file.
    mutating func end() throws {
        if filename == "", let staged = file, staged.byteCount == 0 {
            file = nil
            filename = nil
        }
    }
}
