/// Where an object lives in the origin storage: `{userId}/{assetId}/{variant}/{filename}`.
/// Every component is checked here, so no text from a request reaches a file path or an
/// object key unsanitised: user ids come from identity (validated), asset ids are ours,
/// variant kinds an enum, and the filename a slug the service makes.
public struct StorageKey: Hashable, Sendable, CustomStringConvertible {
    public let userId: String
    public let assetId: String
    public let kind: MediaVariantKind
    public let filename: String

    public init(userId: String, assetId: String, kind: MediaVariantKind, filename: String) {
        precondition(StorageKey.isSafeComponent(userId) && MediaID.isWellFormed(assetId)
                     && StorageKey.isSafeComponent(filename), "unsafe storage key component")
        self.userId = userId
        self.assetId = assetId
        self.kind = kind
        self.filename = filename
    }

    /// Parses a stored key (from a row or a listing); nil if it is not one of ours.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, StorageKey.isSafeComponent(parts[0]), MediaID.isWellFormed(parts[1]),
              let kind = MediaVariantKind(rawValue: parts[2]), StorageKey.isSafeComponent(parts[3]) else { return nil }
        self.init(userId: parts[0], assetId: parts[1], kind: kind, filename: parts[3])
    }

    public var description: String { "\(userId)/\(assetId)/\(kind.rawValue)/\(filename)" }

    /// The folder holding every object of one asset.
    public static func assetPrefix(userId: String, assetId: String) -> String { "\(userId)/\(assetId)/" }

    /// ASCII letters, digits, `-`, `_`, `.`; not starting with a dot; 1 to 128 bytes.
    public static func isSafeComponent(_ text: String) -> Bool {
        guard (1...128).contains(text.utf8.count), text.utf8.first != UInt8(ascii: ".") else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    /// A filename from what the client called the file: lowercase ASCII words joined by
    /// dashes, at most 60 characters, with the extension of the detected format.
    public static func slug(from name: String?, fallback: String, extension ext: String) -> String {
        var stem = name ?? ""
        if let dot = stem.lastIndex(of: ".") { stem = String(stem[..<dot]) }
        var slug = ""
        var pendingDash = false
        for scalar in stem.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSetASCII.isAlphanumeric(scalar) {
                if pendingDash && !slug.isEmpty { slug.append("-") }
                pendingDash = false
                slug.unicodeScalars.append(scalar)
                if slug.count >= 60 { break }
            } else {
                pendingDash = true
            }
        }
        return (slug.isEmpty ? fallback : slug) + "." + ext
    }
}

private enum CharacterSetASCII {
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
