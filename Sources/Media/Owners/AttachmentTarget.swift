/// Where an attach goes: an owner of the host app and the asset's role there. Also what a
/// generation job keeps in `params.attach` to attach its result.
public struct AttachmentTarget: Codable, Sendable, Equatable {
    public static let maxOwnerIdBytes = 191  // VARCHAR(191)

    public let ownerType: MediaOwnerType
    public let ownerId: String
    public let role: MediaRole

    public init(ownerType: MediaOwnerType, ownerId: String, role: MediaRole) throws {
        guard (1...Self.maxOwnerIdBytes).contains(ownerId.utf8.count) else {
            throw MediaError.invalid(code: "invalid_owner_id",
                                     message: "`ownerId` is a string of 1 to \(Self.maxOwnerIdBytes) bytes.")
        }
        self.ownerType = ownerType
        self.ownerId = ownerId
        self.role = role
    }
}

/// An attachment with its asset, ready to show.
public struct PresentedAttachment: Sendable {
    public let attachment: MediaAttachment
    public let asset: PresentedAsset
}
