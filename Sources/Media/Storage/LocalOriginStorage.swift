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

    /// Removes the staged files of a process that is gone (a worker the pool reaped);
    /// returns their names.
    public func removeTemporaryFiles(ofProcess pid: pid_t) -> [String] {
        let prefix = StagedFile.namePrefix(ofProcess: pid)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)) ?? [])
            .filter { $0.hasPrefix(prefix) }
        return names.filter { unlink(temporaryDirectory + "/" + $0) == 0 }
    }

    public init(root: String) throws {
        self.root = root
        try makeDirectories(root)
        try makeDirectories(root + "/.tmp", mode: 0o700)
    }

    public func path(of key: StorageKey) -> String { root + "/" + key.description }

    public func moveFile(at source: String, to key: StorageKey, contentType: String) throws {
        let destination = path(of: key)
        try makeDirectories((destination as NSString).deletingLastPathComponent)
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(operation: "open", path: source, errno: errno) }
        defer { close(fd) }
        guard fchmod(fd, 0o644) == 0 else { throw StorageError(operation: "chmod", path: source, errno: errno) }
        guard fsync(fd) == 0 else { throw StorageError(operation: "fsync", path: source, errno: errno) }
        if rename(source, destination) != 0 {
            // Another file system (temp files elsewhere): copy through a temp file here.
            guard errno == EXDEV else { throw StorageError(operation: "rename", path: destination, errno: errno) }
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
            try store(bytes: bytes, key: key, contentType: contentType)
            unlink(source)
            return
        }
        DurableFile.syncFolder(of: destination)
    }

    public func store(bytes: [UInt8], key: StorageKey, contentType: String) throws {
        let destination = path(of: key)
        try makeDirectories((destination as NSString).deletingLastPathComponent)
        try DurableFile.write(bytes, to: destination, through: temporaryDirectory + "/object-" + MediaID.generate())
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

    private func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
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
