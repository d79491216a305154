#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The folder where uploads and generated images are staged before ingest stores them:
/// `{MEDIA_STORAGE_ROOT}/.tmp`, whichever origin the objects go to (nginx never serves it).
public struct StagingArea: Sendable {
    public let directory: String

    /// Creates the folder (0700) if it is missing.
    public init(directory: String) throws {
        self.directory = directory
        // Its parent (the storage root) stays readable by nginx: only the last folder is private.
        try LocalOriginStorage.makeDirectories((directory as NSString).deletingLastPathComponent)
        try LocalOriginStorage.makeDirectories(directory, mode: 0o700)
    }

    /// Removes the staged files of a process that is gone (a worker the pool reaped);
    /// returns their names.
    public func removeFiles(ofProcess pid: pid_t) -> [String] {
        let prefix = StagedFile.namePrefix(ofProcess: pid)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(prefix) }
        return names.filter { unlink(directory + "/" + $0) == 0 }
    }
}
