#if canImport(Glibc)
import Glibc
#endif
import Foundation
import S3
import ServerLog

/// Objects in an S3-compatible bucket (Cloudflare R2 in production, moto's server in the
/// local stack), under the same keys as the local layout. Uploads are atomic on the
/// bucket's side: one PUT, or a multipart upload that is completed or aborted.
/// Originals are stored with `Content-Disposition: attachment`, so a public bucket domain
/// serves them as downloads like nginx does.
public struct BucketOriginStorage: OriginStorage {
    public let provider = "r2"
    public let client: S3Client

    public init(client: S3Client) {
        self.client = client
    }

    public func moveFile(at path: String, to key: StorageKey, contentType: String, sha256: String?) throws {
        try copyFile(at: path, to: key, contentType: contentType, sha256: sha256)
        unlink(path)
    }

    public func copyFile(at path: String, to key: StorageKey, contentType: String, sha256: String?) throws {
        try Self.translating {
            try client.putObject(key: key.description, fileAt: path, contentType: contentType, sha256Hex: sha256,
                                 contentDisposition: Self.disposition(of: key))
        }
    }

    public func store(bytes: [UInt8], key: StorageKey, contentType: String) throws {
        try Self.translating {
            try client.putObject(key: key.description, bytes: bytes, contentType: contentType,
                                 contentDisposition: Self.disposition(of: key))
        }
    }

    public func download(_ key: StorageKey, to path: String) throws {
        _ = try Self.translating { try client.getObject(key: key.description, toFile: path) }
    }

    public func storedSize(of key: StorageKey) throws -> Int64? {
        try Self.translating { try client.headObject(key: key.description)?.size }
    }

    public func deleteAsset(userId: String, assetId: String) throws {
        guard StorageKey.isSafeComponent(userId), MediaID.isWellFormed(assetId) else { return }
        try Self.translating {
            let keys = try client.listObjects(prefix: StorageKey.assetPrefix(userId: userId, assetId: assetId)).map(\.key)
            if !keys.isEmpty { try client.deleteObjects(keys: keys) }
        }
    }

    public func storedAssets() throws -> [(userId: String, assetId: String)] {
        var seen = Set<String>()
        var result: [(userId: String, assetId: String)] = []
        for object in try Self.translating({ try client.listObjects(prefix: "") }) {
            let parts = object.key.split(separator: "/", maxSplits: 2).map(String.init)
            guard parts.count == 3, StorageKey.isSafeComponent(parts[0]), MediaID.isWellFormed(parts[1]),
                  seen.insert(parts[0] + "/" + parts[1]).inserted else { continue }
            result.append((parts[0], parts[1]))
        }
        return result
    }

    /// Multipart uploads a dead worker never completed nor aborted: invisible, but billed.
    public func abandonedWrites(startedBefore date: Date) throws -> [String] {
        try Self.translating {
            try client.listMultipartUploads(prefix: "").filter { ($0.initiated ?? .distantPast) < date }
                .map { $0.key + "?uploadId=" + $0.uploadId }
        }
    }

    public func removeAbandonedWrite(_ name: String) throws {
        guard let marker = name.range(of: "?uploadId=") else { return }
        try Self.translating {
            try client.abortMultipartUpload(key: String(name[..<marker.lowerBound]),
                                            uploadId: String(name[marker.upperBound...]))
        }
    }

    /// Raster variants are shown inline; originals (anything a user sent) are downloads.
    static func disposition(of key: StorageKey) -> String? {
        key.kind == .original ? "attachment" : nil
    }

    /// The bucket's failures in the domain's words: unreachable or refusing our keys means
    /// the request cannot be served now (503); a configuration error is also logged loudly.
    static func translating<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as S3Error {
            switch error {
            case .unavailable(let detail):
                throw MediaError.storageUnavailable(detail: detail)
            case .configuration(let detail):
                Log.error("storage.misconfigured", ["error": .string(detail)])
                throw MediaError.storageUnavailable(detail: detail)
            case .rejected, .localFile:
                throw error
            }
        }
    }
}
