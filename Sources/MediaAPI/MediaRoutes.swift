import FastCGI
import Foundation
import MariaDB
import Media

/// The library: upload, list, show, edit, delete (`/api/media…`). Every query is scoped
/// to the caller; another user's asset answers 404 exactly like a missing one.
struct MediaRoutes {
    let identity: Identity
    let database: Database
    let storage: any OriginStorage
    let ingest: IngestService
    let attachments: AttachmentService
    let presenter: AssetPresenter
    let temporaryDirectory: String
    let maxUploadBytes: Int64

    /// Multipart framing and text fields on top of the file itself.
    static let formOverheadBytes: Int64 = 1024 * 1024
    static let maxPageSize = 100

    func register(in router: inout Router) {
        router.add("POST", "/api/media/upload", upload)
        router.add("GET", "/api/media", list)
        router.add("GET", "/api/media/:id", show)
        router.add("PATCH", "/api/media/:id", update)
        router.add("DELETE", "/api/media/:id", delete)
    }

    var assets: AssetRepository { AssetRepository(database: database) }

    func upload(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        // Refuse an oversized body before reading a byte of it.
        guard Int64(try request.body.contentLength()) <= maxUploadBytes + Self.formOverheadBytes else {
            throw APIError(ingest: .tooLarge(limit: maxUploadBytes))
        }
        let parser = try MultipartParser(contentType: request.header("Content-Type") ?? "")
        var sink = UploadSink(directory: temporaryDirectory, limit: maxUploadBytes)
        let form = try parser.parse(request.body, into: &sink)
        guard let file = sink.file else {
            throw APIError.badRequest("The form has no file part; send the image as a `file` field with a filename.",
                                      code: "missing_file")
        }
        let accepted = ["title", "description", "tags", "ownerType", "ownerId", "role"]
        if let unknown = form.fields.keys.sorted().first(where: { !accepted.contains($0) }) {
            throw APIError.badRequest("Unknown form field `\(unknown)`; accepted: file, \(accepted.joined(separator: ", ")).",
                                      code: "unknown_field")
        }
        let ingestRequest = IngestRequest(
            userId: userId, source: .upload, title: try AssetDetails.title(form.fields["title"]),
            description: try AssetDetails.description(form.fields["description"]),
            tags: try AssetDetails.tags(formField: form.fields["tags"]), originalFilename: sink.filename)
        // Upload and attach in one request: the owner is checked before anything is stored.
        let ownerFields = ["ownerType", "ownerId", "role"].map { form.fields[$0] }
        var target: AttachmentTarget?
        if ownerFields.contains(where: { $0 != nil }) {
            guard let type = ownerFields[0], let id = ownerFields[1], let role = ownerFields[2] else {
                throw APIError.unprocessable("To attach on upload, send all of ownerType, ownerId and role.",
                                             code: "incomplete_owner")
            }
            target = try AttachmentTarget(ownerType: type, ownerId: id, role: role)
            try AttachmentRoutes.mapFailures { try attachments.requireOwner(target!.ownerType, id: id, userId: userId) }
        }
        let (asset, variants) = try ingest.ingest(file, ingestRequest)
        let representation = AssetRepresentation(asset, variants: variants, delivery: presenter.delivery)
        guard let target else { return .json(representation, status: 201) }
        let outcome = try AttachmentRoutes.mapFailures {
            try attachments.attach(assetId: asset.id, userId: userId, ownerType: target.ownerType,
                                   ownerId: target.ownerId, role: target.role)
        }
        guard case .created(let attachment) = outcome else { throw APIError.internalError }
        return .json(UploadedAndAttached(asset: representation,
                                         attachment: AttachmentRepresentation(attachment, asset: representation)),
                     status: 201)
    }

    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        var query = LibraryQuery(userId: userId, limit: try request.pageLimit(fallback: 50, maximum: Self.maxPageSize),
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
        let page = try assets.library(query)
        return .json(Page(items: try presenter.present(page.assets), nextCursor: page.next?.token))
    }

    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let asset = try ownedAsset(request)
        return .json(try presenter.present(asset))
    }

    func update(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let asset = try ownedAsset(request, userId: userId)
        let json = try request.jsonBody()
        try json.requireOnly(["title", "description", "tags"])
        let body = json.object
        // Absent: unchanged; null: cleared.
        func text(_ name: String) throws -> String?? {
            guard let value = body[name] else { return .none }
            if value is NSNull { return .some(nil) }
            guard let string = value as? String else {
                throw APIError.unprocessable("`\(name)` must be a string or null.", code: "invalid_\(name)")
            }
            return .some(string)
        }
        let title = try text("title").map { try AssetDetails.title($0) }
        let description = try text("description").map { try AssetDetails.description($0) }
        var tags: [String]?? = .none
        if let value = body["tags"] {
            if value is NSNull {
                tags = .some(nil)
            } else if let array = value as? [Any], array.allSatisfy({ $0 is String }) {
                tags = .some(try AssetDetails.tags(array as! [String]))
            } else {
                throw APIError.unprocessable("`tags` must be an array of strings.", code: "invalid_tags")
            }
        }
        guard try assets.updateDetails(id: asset.id, userId: userId, title: title, description: description,
                                       tags: tags) else { throw APIError.notFound("No such asset.") }
        return .json(try presenter.present(try ownedAsset(request, userId: userId)))
    }

    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let asset = try ownedAsset(request, userId: userId)
        let deleted = try database.inTransaction {
            let marked = try assets.markDeleted(id: asset.id, userId: userId)
            if marked { _ = try AttachmentRepository(database: database).deleteAll(assetId: asset.id) }
            return marked
        }
        guard deleted else { throw APIError.notFound("No such asset.") }
        // After the commit: if this fails, the files are orphans that `media-server gc` removes.
        try storage.deleteAsset(userId: userId, assetId: asset.id)
        return .noContent()
    }

    private func ownedAsset(_ request: HTTPRequest, userId: String? = nil) throws -> MediaAsset {
        let userId = try userId ?? identity.userId(of: request)
        guard let asset = try assets.find(id: request.parameter("id"), userId: userId), asset.status == .ready else {
            throw APIError.notFound("No such asset.")
        }
        return asset
    }
}

/// An upload that was also attached: the asset, with an `attachment` field.
struct UploadedAndAttached: JSONWritable {
    let asset: AssetRepresentation
    let attachment: AttachmentRepresentation

    func write(to json: inout JSONWriter) {
        json.object { json in
            asset.writeFields(to: &json)
            json.key("attachment"); json.value(attachment.withoutAsset)
        }
    }
}

/// The upload's file part, streamed to a staged temp file; a second file part is refused.
struct UploadSink: FilePartSink {
    let directory: String
    let limit: Int64
    private(set) var file: StagedFile?
    private(set) var filename: String?

    init(directory: String, limit: Int64) {
        self.directory = directory
        self.limit = limit
    }

    mutating func begin(fieldName: String, filename: String, contentType: String?) throws {
        guard file == nil else {
            throw APIError.badRequest("Send exactly one file per upload.", code: "too_many_files")
        }
        file = try StagedFile(directory: directory, limit: limit)
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
