import Foundation
import Media

/// Attachments of assets to host-app owners: attach, edit, detach, reorder, and the
/// owner-side reads (one owner, or up to 100 at once for `?includeMedia=true`). Each handler
/// parses the request, calls one `AttachmentService` use case, and renders its result.
package struct AttachmentRoutes {
    let attachments: AttachmentService
    /// Owner media rendered before (see `RenderedResponses`).
    let rendered: RenderedResponses?

    func register(in router: inout Router) {
        router.add("POST", "/api/media/:id/attach", signedIn: attach)
        router.add("PATCH", "/api/media/attachments/:id", signedIn: update)
        router.add("DELETE", "/api/media/attachments/:id", signedIn: detach)
        router.add("PUT", "/api/owners/:ownerType/:ownerId/media/order", signedIn: reorder)
        router.add("GET", "/api/owners/:ownerType/:ownerId/media", signedIn: ownerMedia)
        router.add("GET", "/api/owners/:ownerType/media", signedIn: ownersMedia)
    }

    /// What `POST /media/:id/attach` carries.
    package struct AttachBody {
        package let target: AttachmentTarget
        package let sortOrder: Int?
        package let meta: String?

        package init(_ json: JSONBody) throws {
            try json.requireOnly(["ownerType", "ownerId", "role", "sortOrder", "meta"])
            target = try AttachmentRoutes.target(json)
            sortOrder = try AttachmentRoutes.sortOrder(json)
            meta = try json.object["meta"].map(AttachmentRoutes.meta) ?? nil
        }
    }

    /// What `PATCH /media/attachments/:id` carries: absent leaves a field alone.
    package struct UpdateBody {
        let sortOrder: Int?
        let meta: String??

        package init(_ json: JSONBody) throws {
            try json.requireOnly(["sortOrder", "meta"])
            sortOrder = try AttachmentRoutes.sortOrder(json)
            meta = try json.object["meta"].map(AttachmentRoutes.meta)
        }
    }

    /// What `PUT …/media/order` carries.
    package struct OrderBody: Decodable {
        let attachmentIds: [String]

        package init(_ json: JSONBody) throws {
            try json.requireOnly(["attachmentIds"])
            self = try json.decode(OrderBody.self)
        }
    }

    func attach(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let body = try AttachBody(try request.jsonBody())
        switch try attachments.attach(assetId: request.parameter("id"), userId: userId, to: body.target,
                                      sortOrder: body.sortOrder, meta: body.meta) {
        case .created(let attachment): return .json(AttachmentRepresentation(attachment), status: 201)
        case .existing(let attachment): return .json(AttachmentRepresentation(attachment), status: 200)
        }
    }

    func update(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let body = try UpdateBody(try request.jsonBody())
        return .json(AttachmentRepresentation(try attachments.update(
            attachmentId: request.parameter("id"), userId: userId, sortOrder: body.sortOrder, meta: body.meta)))
    }

    func detach(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        try attachments.detach(attachmentId: request.parameter("id"), userId: userId)
        return .noContent()
    }

    func reorder(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let body = try OrderBody(try request.jsonBody())
        let ordered = try attachments.reorder(ownerType: ownerType, ownerId: request.parameter("ownerId"),
                                              userId: userId, attachmentIds: body.attachmentIds)
        return .json(Page(items: ordered.map(AttachmentRepresentation.init)))
    }

    func ownerMedia(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let role = try request.queryValue("role").map(Self.role)
        let ownerId = request.parameter("ownerId")
        return try RenderedResponses.respond(keeping: rendered, { rendered in
            try attachments.media(ownerType: ownerType, ownerId: ownerId, userId: userId, role: role, rendered: rendered)
        }, render: { found in .json(Page(items: found.map(AttachmentRepresentation.init))) })
    }

    func ownersMedia(_ request: HTTPRequest, userId: String) throws -> HTTPResponse {
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let role = try request.queryValue("role").map(Self.role)
        let ids = (request.queryValue("ids") ?? "").split(ascii: ",").map(String.init)
        guard !ids.isEmpty, ids.count <= AttachmentService.maxBatchOwners else {
            throw APIError.badRequest("`ids` lists 1 to \(AttachmentService.maxBatchOwners) owner ids, comma-separated.",
                                      code: "invalid_ids")
        }
        return try RenderedResponses.respond(keeping: rendered, { rendered in
            try attachments.media(ownerType: ownerType, ownerIds: ids, userId: userId, role: role, rendered: rendered)
        }, render: { grouped in .json(OwnersMedia(owners: grouped)) })
    }

    static func ownerType(_ text: String) throws -> MediaOwnerType {
        try HTTPRequest.enumValue(text, "owner type", code: "invalid_owner_type")
    }

    static func role(_ text: String) throws -> MediaRole {
        try HTTPRequest.enumValue(text, "role", code: "invalid_role")
    }

    /// `ownerType`, `ownerId`, `role`: all required strings.
    static func target(_ json: JSONBody) throws -> AttachmentTarget {
        struct Fields: Decodable { let ownerType: String; let ownerId: String; let role: String }
        let fields = try json.decode(Fields.self)
        return try AttachmentTarget(ownerType: ownerType(fields.ownerType), ownerId: fields.ownerId,
                                    role: role(fields.role))
    }

    /// `sortOrder`, if given: a whole number (JSONDecoder refuses booleans and fractions).
    static func sortOrder(_ json: JSONBody) throws -> Int? {
        struct Position: Decodable { let sortOrder: Int? }
        return try json.decode(Position.self).sortOrder
    }

    /// `meta`: any JSON object as its text, or null to clear it.
    static func meta(_ value: Any) throws -> String? {
        if value is NSNull { return nil }
        guard value is [String: Any],
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            throw APIError.unprocessable("`meta` is a JSON object of at most \(AttachmentService.maxMetaBytes) bytes.",
                                         code: "invalid_meta")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `{"owners": {ownerId: [attachment, …]}}`, owners in id order.
/// Written from the presented attachments as they are: a batch's thousand were otherwise
/// copied into representations before a byte was written.
struct OwnersMedia: JSONWritable {
    let owners: [String: [PresentedAttachment]]

    var estimatedByteCount: Int {
        owners.values.reduce(64) { total, items in
            items.reduce(total + 64) { $0 + AttachmentRepresentation.estimatedByteCount(asset: $1.asset) }
        }
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("owners")
            json.object { json in
                for (ownerId, items) in owners.sorted(by: { $0.key < $1.key }) {
                    json.key(escaping: ownerId)
                    json.array(items.indices) { json, index in json.value(AttachmentRepresentation(items[index])) }
                }
            }
        }
    }
}

/// An attachment as the API shows it; with its asset, except where it is nested inside that
/// asset's own representation (upload with attach).
struct AttachmentRepresentation: JSONWritable {
    let attachment: MediaAttachment
    let asset: PresentedAsset?

    init(_ attachment: MediaAttachment, asset: PresentedAsset?) {
        self.attachment = attachment
        self.asset = asset
    }

    init(_ presented: PresentedAttachment) {
        self.init(presented.attachment, asset: presented.asset)
    }

    /// An asset repeated across a batch is written once (see `write`); counted each time, so
    /// this errs large.
    var estimatedByteCount: Int { Self.estimatedByteCount(asset: asset) }

    static func estimatedByteCount(asset: PresentedAsset?) -> Int { 320 + (asset?.estimatedByteCount ?? 0) }

    func write(to json: inout JSONWriter) {
        json.object { json in
            // An asset on many owners of a batch is the same object each time: rendered once.
            if let asset { json.key("asset"); json.value(asset, memoizedAs: asset.asset.id) }
            json.key("assetId"); json.string(attachment.assetId)
            json.key("createdAt"); json.date(attachment.createdAt)
            json.key("id"); json.string(attachment.id)
            json.key("meta"); json.json(attachment.meta?.text)
            json.key("ownerId"); json.string(attachment.ownerId)
            json.key("ownerType"); json.string(attachment.ownerType.rawValue)
            json.key("role"); json.string(attachment.role.rawValue)
            json.key("sortOrder"); json.number(attachment.sortOrder)
        }
    }
}
