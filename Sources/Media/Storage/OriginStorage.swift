/// Where originals and variants are kept (Active Storage's "service"). The one
/// implementation today is `LocalOriginStorage`; everything that writes or deletes stored
/// objects goes through this protocol so that another can take its place.
public protocol OriginStorage: Sendable {
    /// The name stored in `MediaAsset.storageProvider`.
    var provider: String { get }

    /// Moves the file at `path` (a temp file of the caller's) into storage under `key`,
    /// atomically: readers see the whole object or none. Afterwards `path` is gone.
    func moveFile(at path: String, to key: StorageKey, contentType: String) throws

    /// Stores bytes under `key`, atomically.
    func store(bytes: [UInt8], key: StorageKey, contentType: String) throws

    /// Removes every object of an asset.
    func deleteAsset(userId: String, assetId: String) throws

    /// Every stored asset folder as (userId, assetId), for garbage collection.
    func storedAssets() throws -> [(userId: String, assetId: String)]
}

public struct StorageError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

#if canImport(Glibc)
import Glibc
#endif
