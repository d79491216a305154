#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where originals and variants are kept (Active Storage's "service"): `LocalOriginStorage`
/// (files nginx serves) or `BucketOriginStorage` (an S3-compatible bucket such as
/// Cloudflare R2), chosen by `MEDIA_ORIGIN`. Everything that writes, reads back or deletes
/// stored objects goes through this protocol.
public protocol OriginStorage: Sendable {
    /// The name stored in `MediaAsset.storageProvider`.
    var provider: String { get }

    /// Moves the file at `path` (a staged file of the caller's) into storage under `key`,
    /// atomically: readers see the whole object or none. Afterwards `path` is gone.
    /// `sha256` is the file's digest (hex) when the caller has it.
    func moveFile(at path: String, to key: StorageKey, contentType: String, sha256: String?) throws

    /// Stores a copy of the file at `path` under `key`, atomically; `path` stays.
    func copyFile(at path: String, to key: StorageKey, contentType: String, sha256: String?) throws

    /// Stores bytes under `key`, atomically.
    func store(bytes: [UInt8], key: StorageKey, contentType: String) throws

    /// Writes the object at `key` to the local file `path` (created or truncated).
    func download(_ key: StorageKey, to path: String) throws

    /// The stored object's size in bytes, nil when there is none.
    func storedSize(of key: StorageKey) throws -> Int64?

    /// Removes every object of an asset.
    func deleteAsset(userId: String, assetId: String) throws

    /// Every stored asset folder as (userId, assetId), for garbage collection.
    func storedAssets() throws -> [(userId: String, assetId: String)]

    /// Writes that were started before `date` and never finished (a bucket's multipart
    /// uploads whose worker died), by an opaque name for `removeAbandonedWrite`.
    func abandonedWrites(startedBefore date: Date) throws -> [String]

    func removeAbandonedWrite(_ name: String) throws
}

public struct StorageError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}
