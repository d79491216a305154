import Foundation
import MariaDB
import Media

/// Attachments of assets to host-app owners: attach, edit, detach, reorder, and the
/// owner-side reads (one owner, or up to 100 at once for `?includeMedia=true`), each in a
/// constant number of queries whatever the number of attachments.
struct AttachmentRoutes {
    let identity: Identity
    let database: Database
    let service: AttachmentService
    let presenter: AssetPresenter

    static let maxBatchOwners = 100
    static let maxMetaBytes = 16 * 1024

    func register(in router: inout Router) {
        router.add("POST", "/api/media/:id/attach", attach)
        router.add("PATCH", "/api/media/attachments/:id", update)
        router.add("DELETE", "/api/media/attachments/:id", detach)
        router.add("PUT", "/api/owners/:ownerType/:ownerId/media/order", reorder)
        router.add("GET", "/api/owners/:ownerType/:ownerId/media", ownerMedia)
        router.add("GET", "/api/owners/:ownerType/media", ownersMedia)
    }

    var attachments: AttachmentRepository { AttachmentRepository(database: database) }

    func attach(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let json = try request.jsonBody()
        try json.requireOnly(["ownerType", "ownerId", "role", "sortOrder", "meta"])
        let target = try json.decode(AttachmentTarget.self)
        let sortOrder = try Self.sortOrder(json)
        let meta = try json.object["meta"].map(Self.meta) ?? nil
        let outcome = try Self.mapFailures {
            try service.attach(assetId: request.parameter("id"), userId: userId, ownerType: target.ownerType,
                               ownerId: target.ownerId, role: target.role, sortOrder: sortOrder, meta: meta)
        }
        switch outcome {
        case .created(let attachment): return .json(try represent([attachment]).first!, status: 201)
        case .existing(let attachment): return .json(try represent([attachment]).first!, status: 200)
        }
    }

    func update(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let json = try request.jsonBody()
        try json.requireOnly(["sortOrder", "meta"])
        let sortOrder = try Self.sortOrder(json)
        let meta: JSONText?? = try json.object["meta"].map(Self.meta)
        guard try attachments.update(id: request.parameter("id"), userId: userId, sortOrder: sortOrder, meta: meta),
              let attachment = try attachments.find(id: request.parameter("id"), userId: userId) else {
            throw APIError.notFound("No such attachment.")
        }
        return .json(try represent([attachment]).first!)
    }

    func detach(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        guard try attachments.delete(id: request.parameter("id"), userId: userId) else {
            throw APIError.notFound("No such attachment.")
        }
        return .noContent()
    }

    func reorder(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let json = try request.jsonBody()
        try json.requireOnly(["attachmentIds"])
        struct Order: Decodable { let attachmentIds: [String] }
        let attachmentIds = try json.decode(Order.self).attachmentIds
        guard Set(attachmentIds).count == attachmentIds.count, attachmentIds.count <= 1000 else {
            throw APIError.unprocessable("`attachmentIds` must be distinct attachment ids.", code: "invalid_attachment_ids")
        }
        let ordered = try Self.mapFailures {
            try service.reorder(ownerType: ownerType, ownerId: request.parameter("ownerId"), userId: userId,
                                attachmentIds: attachmentIds)
        }
        return .json(Page(items: try represent(ordered)))
    }

    func ownerMedia(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let role = try request.queryValue("role").map(Self.role)
        let ownerId = request.parameter("ownerId")
        try Self.mapFailures { try service.requireOwner(ownerType, id: ownerId, userId: userId) }
        let found = try attachments.attachments(ownerType: ownerType, ownerIds: [ownerId], userId: userId, role: role)
        return .json(Page(items: try represent(found)))
    }

    func ownersMedia(_ request: HTTPRequest) throws -> HTTPResponse {
        let userId = try identity.userId(of: request)
        let ownerType = try Self.ownerType(request.parameter("ownerType"))
        let role = try request.queryValue("role").map(Self.role)
        let ids = (request.queryValue("ids") ?? "").split(separator: ",").map(String.init)
        guard !ids.isEmpty, ids.count <= Self.maxBatchOwners else {
            throw APIError.badRequest("`ids` lists 1 to \(Self.maxBatchOwners) owner ids, comma-separated.",
                                      code: "invalid_ids")
        }
        // Owners that are missing or another user's are simply absent from the answer.
        let owned = try service.registry.existing(ownerType, ids: ids, userId: userId, in: database)
        let found = try attachments.attachments(ownerType: ownerType, ownerIds: Array(owned), userId: userId, role: role)
        var grouped: [String: [AttachmentRepresentation]] = [:]
        for id in owned { grouped[id] = [] }
        for item in try represent(found) { grouped[item.ownerId, default: []].append(item) }
        return .json(OwnersMedia(owners: grouped))
    }

    /// Attachments with their assets and variants: two queries for any number of them.
    /// Attachments whose asset is no longer ready or was deleted are left out.
    private func represent(_ list: [MediaAttachment]) throws -> [AttachmentRepresentation] {
        guard let userId = list.first?.userId else { return [] }
        let assets = try AssetRepository(database: database).find(ids: list.map(\.assetId), userId: userId)
        let presented = try presenter.present(Array(assets.values.filter { $0.status == .ready }))
        let byId = Dictionary(uniqueKeysWithValues: presented.map { ($0.id, $0) })
        return list.compactMap { attachment in
            byId[attachment.assetId].map { AttachmentRepresentation(attachment, asset: $0) }
        }
    }

    static func mapFailures<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as AttachmentService.Failure {
            switch failure {
            case .assetNotFound: throw APIError.notFound("No such asset (it must be yours, ready and not deleted).")
            case .ownerNotFound: throw APIError.notFound("No such owner.")
            case .unknownAttachments(let ids):
                throw APIError.notFound("Not attachments of this owner: \(ids.prefix(5).joined(separator: ", ")).")
            }
        }
    }

    static func ownerType(_ text: String) throws -> MediaOwnerType {
        try HTTPRequest.enumValue(text, "owner type", code: "invalid_owner_type")
    }

    static func role(_ text: String) throws -> MediaRole {
        try HTTPRequest.enumValue(text, "role", code: "invalid_role")
    }

    /// `sortOrder`, if given: a whole number (JSONDecoder refuses booleans and fractions).
    static func sortOrder(_ json: JSONBody) throws -> Int? {
        struct Position: Decodable { let sortOrder: Int? }
        guard let position = try json.decode(Position.self).sortOrder else { return nil }
        guard (0...1_000_000).contains(position) else {
            throw APIError.unprocessable("`sortOrder` is a whole number from 0 to 1000000.", code: "invalid_sort_order")
        }
        return position
    }

    /// `meta`: any JSON object, or null to clear it.
    static func meta(_ value: Any) throws -> JSONText? {
        if value is NSNull { return nil }
        guard value is [String: Any],
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]),
              data.count <= maxMetaBytes else {
            throw APIError.unprocessable("`meta` is a JSON object of at most \(maxMetaBytes) bytes.", code: "invalid_meta")
        }
        return JSONText(String(decoding: data, as: UTF8.self))
    }
}

/// Where an attach goes, validated: owner type, owner id, role (all required). Also the
/// upload form's optional `ownerType`, `ownerId`, `role` fields.
struct AttachmentTarget: Decodable {
    let ownerType: MediaOwnerType
    let ownerId: String
    let role: MediaRole

    init(ownerType: String, ownerId: String, role: String) throws {
        self.ownerType = try AttachmentRoutes.ownerType(ownerType)
        guard (1...191).contains(ownerId.utf8.count) else {
            throw APIError.unprocessable("`ownerId` is a string of 1 to 191 bytes.", code: "invalid_owner_id")
        }
        self.ownerId = ownerId
        self.role = try AttachmentRoutes.role(role)
    }

    enum CodingKeys: String, CodingKey { case ownerType, ownerId, role }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(ownerType: try container.decode(String.self, forKey: .ownerType),
                      ownerId: try container.decode(String.self, forKey: .ownerId),
                      role: try container.decode(String.self, forKey: .role))
    }
}

/// `{"owners": {ownerId: [attachment, …]}}`, owners in id order.
struct OwnersMedia: JSONWritable {
    let owners: [String: [AttachmentRepresentation]]

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("owners")
            json.object { json in
                for (ownerId, items) in owners.sorted(by: { $0.key < $1.key }) {
                    json.key(ownerId); json.value(items)
                }
            }
        }
    }
}

struct AttachmentRepresentation: JSONWritable {
    let id: String
    let assetId: String
    let ownerType: MediaOwnerType
    let ownerId: String
    let role: MediaRole
    let sortOrder: Int
    let meta: JSONText?
    let createdAt: Date
    let asset: AssetRepresentation?

    /// Nested inside its asset's representation, the attachment does not repeat it.
    var withoutAsset: AttachmentRepresentation {
        AttachmentRepresentation(id: id, assetId: assetId, ownerType: ownerType, ownerId: ownerId, role: role,
                                 sortOrder: sortOrder, meta: meta, createdAt: createdAt, asset: nil)
    }

    private init(id: String, assetId: String, ownerType: MediaOwnerType, ownerId: String, role: MediaRole,
                 sortOrder: Int, meta: JSONText?, createdAt: Date, asset: AssetRepresentation?) {
        (self.id, self.assetId, self.ownerType, self.ownerId) = (id, assetId, ownerType, ownerId)
        (self.role, self.sortOrder, self.meta, self.createdAt, self.asset) = (role, sortOrder, meta, createdAt, asset)
    }

    init(_ attachment: MediaAttachment, asset: AssetRepresentation) {
        id = attachment.id
        assetId = attachment.assetId
        ownerType = attachment.ownerType
        ownerId = attachment.ownerId
        role = attachment.role
        sortOrder = attachment.sortOrder
        meta = attachment.meta
        createdAt = attachment.createdAt
        self.asset = asset
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            if let asset { json.key("asset"); json.value(asset) }
            json.key("assetId"); json.string(assetId)
            json.key("createdAt"); json.date(createdAt)
            json.key("id"); json.string(id)
            json.key("meta"); json.json(meta)
            json.key("ownerId"); json.string(ownerId)
            json.key("ownerType"); json.string(ownerType.rawValue)
            json.key("role"); json.string(role.rawValue)
            json.key("sortOrder"); json.number(sortOrder)
        }
    }
}
