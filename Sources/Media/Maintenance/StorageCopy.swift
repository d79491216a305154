#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hashing
import Imaging
import MariaDB

/// Moving a library between origins (`media-server storage copy`) and checking one
/// (`storage verify`): every object of every ready asset, from the variant rows.
/// A copy streams each object through a staged file (never whole in memory), skips one the
/// destination already has at the recorded size (so an interrupted copy resumes where it
/// stopped), verifies each original by its recorded SHA-256 before it is stored (a bucket
/// also checks a PUT's bytes against it) and every object's stored size afterwards.
public struct StorageCopy {
    public struct Progress: Sendable {
        public var objects = 0
        public var totalObjects = 0
        public var bytes: Int64 = 0
        public var totalBytes: Int64 = 0
        public var copied = 0
        public var skipped = 0
        public var failed: [String] = []
    }

    public enum Problem: Equatable, Sendable {
        case missing(key: String)
        case sizeMismatch(key: String, recorded: Int64, stored: Int64)

        public var description: String {
            switch self {
            case .missing(let key): return "missing \(key)"
            case .sizeMismatch(let key, let recorded, let stored): return "size mismatch \(key): recorded \(recorded), stored \(stored)"
            }
        }
    }

    let database: Database
    let staging: StagingArea
    let batchSize = 500

    public init(database: Database, staging: StagingArea) {
        self.database = database
        self.staging = staging
    }

    /// Copies every object from `source` to `destination`; `report` sees the progress after
    /// each object. Failures of single objects are collected (the copy goes on); a failure
    /// of the database or of a whole origin stops it.
    public func copy(from source: any OriginStorage, to destination: any OriginStorage,
                     report: (Progress) -> Void) throws -> Progress {
        var progress = Progress()
        (progress.totalObjects, progress.totalBytes) = try totals()
        report(progress)
        try forEachBatch { variants, facts in
            for variant in variants {
                guard let key = StorageKey(variant.storageKey) else {
                    progress.failed.append("\(variant.storageKey): not a storage key of this service")
                    continue
                }
                progress.objects += 1
                progress.bytes += variant.sizeBytes
                if try destination.storedSize(of: key) == variant.sizeBytes {
                    progress.skipped += 1
                } else {
                    let original = variant.kind == .original ? facts[variant.assetId] : nil
                    let contentType = original?.mimeType ?? ImageFormat(rawValue: variant.format)?.mimeType
                        ?? "application/octet-stream"
                    do {
                        try copyObject(key, size: variant.sizeBytes, checksum: original?.checksum,
                                       contentType: contentType, from: source, to: destination)
                        progress.copied += 1
                    } catch let error as MediaError {
                        throw error   // an origin that is down: stop, a later run resumes
                    } catch {
                        progress.failed.append("\(key): \(error)")
                    }
                }
                report(progress)
            }
        }
        return progress
    }

    /// Objects the rows name that `storage` lacks or holds at another size.
    public func verify(_ storage: any OriginStorage, report: (Progress) -> Void) throws -> [Problem] {
        var problems: [Problem] = []
        var progress = Progress()
        (progress.totalObjects, progress.totalBytes) = try totals()
        try forEachBatch { variants, _ in
            for variant in variants {
                progress.objects += 1
                progress.bytes += variant.sizeBytes
                if let key = StorageKey(variant.storageKey), let stored = try storage.storedSize(of: key) {
                    if stored != variant.sizeBytes {
                        problems.append(.sizeMismatch(key: variant.storageKey, recorded: variant.sizeBytes, stored: stored))
                    }
                } else {
                    problems.append(.missing(key: variant.storageKey))
                }
                report(progress)
            }
        }
        return problems
    }

    private func copyObject(_ key: StorageKey, size: Int64, checksum: String?, contentType: String,
                            from source: any OriginStorage, to destination: any OriginStorage) throws {
        // A local source is read in place; anything else comes down to a staged file first.
        var path: String
        var staged: String?
        if let local = source as? LocalOriginStorage {
            path = local.path(of: key)
        } else {
            path = staging.directory + "/copy-" + MediaID.generate()
            staged = path
            try source.download(key, to: path)
        }
        defer { if let staged { unlink(staged) } }
        if let checksum, try Self.sha256(ofFile: path) != checksum {
            throw CopyRefused("\(key): its bytes do not match the recorded SHA-256")
        }
        guard let actual = try? Self.size(ofFile: path), actual == size else {
            throw CopyRefused("\(key): the source holds another size than the recorded \(size) bytes")
        }
        try destination.copyFile(at: path, to: key, contentType: contentType, sha256: checksum)
        guard try destination.storedSize(of: key) == size else {
            throw CopyRefused("\(key): stored at another size than the recorded \(size) bytes")
        }
    }

    private func totals() throws -> (Int, Int64) {
        guard let row = try database.queryOne("""
            SELECT COUNT(*) AS n, COALESCE(SUM(v.`sizeBytes`), 0) AS bytes FROM `MediaVariant` v
            WHERE v.`assetId` IN (SELECT `id` FROM `MediaAsset` WHERE `deletedAt` IS NULL AND `status` = ?)
            """, [MediaStatus.ready]) else { return (0, 0) }
        return (try row.get("n", as: Int.self), try row.get("bytes", as: Int64.self))
    }

    private func forEachBatch(_ body: ([MediaVariant], [String: (checksum: String?, mimeType: String)]) throws -> Void)
    throws {
        let variants = VariantRepository(database: database)
        let assets = AssetRepository(database: database)
        var after = ""
        while true {
            let batch = try variants.storedVariants(after: after, limit: batchSize)
            guard let last = batch.last else { return }
            try body(batch, try assets.originalFacts(batch.filter { $0.kind == .original }.map(\.assetId)))
            after = last.id
        }
    }

    static func size(ofFile path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StorageError(operation: "stat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    static func sha256(ofFile path: String) throws -> String {
        var digest = SHA256()
        try DurableFile.readChunks(of: path) { digest.update($0) }
        return digest.finalizeHex()
    }
}

struct CopyRefused: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
