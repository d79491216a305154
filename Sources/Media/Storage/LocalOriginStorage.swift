import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Objects as files under a root folder that nginx serves at `/uploads/`. Writes are
/// atomic (temp file in `{root}/.tmp`, fsync, rename, fsync of the folder); files are
/// 0644 and folders 0755 so nginx's workers can read them whatever the umask.
public struct LocalOriginStorage: OriginStorage {
    public let provider = "local"
    public let root: String

    /// Partial uploads and objects being written; nginx refuses to serve it.
    public var temporaryDirectory: String { root + "/.tmp" }

    public init(root: String) throws {
        self.root = root
        try Self.makeDirectories(root)
        try Self.makeDirectories(root + "/.tmp", mode: 0o700)
    }

    public func path(of key: StorageKey) -> String { root + "/" + key.description }

    /// A new object's temp file, named with this process's staging prefix: when a worker is
    /// killed mid-write, the pool removes it with the worker's staged files.
    private func temporaryPath() -> String {
        temporaryDirectory + "/" + StagedFile.namePrefix(ofProcess: getpid()) + "object-" + MediaID.generate()
    }

    public func moveFile(at source: String, to key: StorageKey, contentType: String, sha256: String?) throws {
        let destination = path(of: key)
        try Self.makeDirectories((destination as NSString).deletingLastPathComponent)
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(operation: "open", path: source, errno: errno) }
        defer { close(fd) }
        guard fchmod(fd, 0o644) == 0 else { throw StorageError(operation: "chmod", path: source, errno: errno) }
        guard fsync(fd) == 0 else { throw StorageError(operation: "fsync", path: source, errno: errno) }
        if rename(source, destination) != 0 {
            // Another file system (temp files elsewhere): copy through a temp file here.
            guard errno == EXDEV else { throw StorageError(operation: "rename", path: destination, errno: errno) }
            try copyFile(at: source, to: key, contentType: contentType, sha256: sha256)
            unlink(source)
            return
        }
        DurableFile.syncFolder(of: destination)
    }

    public func copyFile(at source: String, to key: StorageKey, contentType: String, sha256: String?) throws {
        let destination = path(of: key)
        try Self.makeDirectories((destination as NSString).deletingLastPathComponent)
        try DurableFile.copy(source, to: destination, through: temporaryPath())
    }

    public func store(bytes: [UInt8], key: StorageKey, contentType: String) throws {
        let destination = path(of: key)
        try Self.makeDirectories((destination as NSString).deletingLastPathComponent)
        try DurableFile.write(bytes, to: destination, through: temporaryPath())
    }

    public func download(_ key: StorageKey, to destination: String) throws {
        try DurableFile.copy(path(of: key), to: destination, through: nil)
    }

    public func storedSize(of key: StorageKey) throws -> Int64? {
        var info = stat()
        guard stat(path(of: key), &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StorageError(operation: "stat", path: path(of: key), errno: errno)
        }
        return (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
    }

    public func deleteAsset(userId: String, assetId: String) throws {
        guard StorageKey.isSafeComponent(userId), MediaID.isWellFormed(assetId) else { return }
        let folder = root + "/" + StorageKey.assetPrefix(userId: userId, assetId: assetId)
        guard FileManager.default.fileExists(atPath: folder) else { return }
        do {
            try FileManager.default.removeItem(atPath: folder)
        } catch {
            throw StorageError(operation: "remove", path: folder, errno: EIO)
        }
        // The user's folder goes when its last asset does (rmdir fails while it has any).
        rmdir(root + "/" + userId)
    }

    public func storedAssets() throws -> [(userId: String, assetId: String)] {
        let manager = FileManager.default
        var result: [(userId: String, assetId: String)] = []
        for user in (try? manager.contentsOfDirectory(atPath: root)) ?? [] where StorageKey.isSafeComponent(user) {
            for asset in (try? manager.contentsOfDirectory(atPath: root + "/" + user)) ?? []
            where MediaID.isWellFormed(asset) {
                result.append((user, asset))
            }
        }
        return result
    }

    /// Files are written whole through a temp file and renamed: nothing is left half-done.
    public func abandonedWrites(startedBefore date: Date) throws -> [String] { [] }

    public func removeAbandonedWrite(_ name: String) throws {}

    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) == 0 {
                chmod(current, mode)
            } else if errno != EEXIST {
                throw StorageError(operation: "mkdir", path: current, errno: errno)
            }
        }
    }
}
