import Foundation
import S3

/// The origin and delivery mode the tests' stacks run with. `scripts/test` runs the suite
/// with the defaults (local, public), then the storage-touching classes again with
/// MEDIA_TEST_ORIGIN=r2 (a bucket on the run's S3 server, whose settings are in the file
/// MEDIA_TEST_S3_CREDENTIALS) and with MEDIA_TEST_DELIVERY=signed.
public enum TestOrigin {
    public static var isBucket: Bool { ProcessInfo.processInfo.environment["MEDIA_TEST_ORIGIN"] == "r2" }
    public static var isSigned: Bool { ProcessInfo.processInfo.environment["MEDIA_TEST_DELIVERY"] == "signed" }

    /// The MEDIA_R2_* settings of the run's S3 server (endpoint, bucket, region, keys).
    public static var bucketSettings: [String: String] {
        guard let path = ProcessInfo.processInfo.environment["MEDIA_TEST_S3_CREDENTIALS"] else { return [:] }
        return TestEnvironment.readEnvFile(path)
    }

    /// What a stack adds to its caller's settings for this run's mode (the caller's win).
    static func settings() -> [String: String] {
        var settings: [String: String] = [:]
        if isBucket { settings = bucketOrigin(signed: isSigned) }
        if isSigned { settings["MEDIA_DELIVERY"] = "signed" }
        return settings
    }

    /// The settings of a stack storing into the run's S3 server: for signed delivery its
    /// private bucket, else the one anyone may read, with MEDIA_BASE_URL pointing at it.
    public static func bucketOrigin(signed: Bool) -> [String: String] {
        var settings = bucketSettings.filter { $0.key.hasPrefix("MEDIA_R2_") }
        settings["MEDIA_ORIGIN"] = "r2"
        if signed {
            settings["MEDIA_R2_BUCKET"] = bucketSettings["S3_PRIVATE_BUCKET"]
        } else if let endpoint = settings["MEDIA_R2_ENDPOINT"], let bucket = settings["MEDIA_R2_BUCKET"] {
            settings["MEDIA_BASE_URL"] = endpoint + "/" + bucket
        }
        return settings
    }

    /// A client of the run's bucket, for looking at what a stack stored.
    public static func bucketClient(_ settings: [String: String] = bucketSettings) throws -> S3Client {
        guard let endpoint = settings["MEDIA_R2_ENDPOINT"], let bucket = settings["MEDIA_R2_BUCKET"],
              let keyId = settings["MEDIA_R2_ACCESS_KEY_ID"], let secret = settings["MEDIA_R2_SECRET_ACCESS_KEY"] else {
            throw TestFailure("MEDIA_TEST_ORIGIN=r2 needs MEDIA_TEST_S3_CREDENTIALS (scripts/test writes it)")
        }
        return S3Client(configuration: S3Configuration(
            endpoint: endpoint, bucket: bucket, region: settings["MEDIA_R2_REGION"] ?? "auto",
            credentials: S3Credentials(accessKeyId: keyId, secretAccessKey: secret)))
    }
}

extension LocalStack {
    /// Whether this stack stores into a bucket (its own settings decide, whatever the run's mode).
    public var storesInBucket: Bool { settings["MEDIA_ORIGIN"] == "r2" }

    /// MEDIA_STORAGE_ROOT: the run directory's `uploads` unless the test chose one (a small
    /// file system of its own).
    public var storageRoot: String { settings["MEDIA_STORAGE_ROOT"] ?? runDirectory + "/uploads" }

    /// Keys of the stored objects under `prefix` (e.g. "user/"), in this stack's origin.
    public func storedObjects(under prefix: String) throws -> [String] {
        if storesInBucket {
            return try TestOrigin.bucketClient(settings).listObjects(prefix: prefix).map(\.key).sorted()
        }
        let root = storageRoot + "/"
        let files = FileManager.default.enumerator(atPath: root + prefix)?.allObjects as? [String] ?? []
        return files.filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + prefix + name, isDirectory: &isFolder) && !isFolder.boolValue
        }.map { prefix + $0 }.sorted()
    }

    /// Stores an object the way the stack's origin would (for garbage-collection tests).
    public func storeObject(_ bytes: [UInt8], key: String) throws {
        if storesInBucket {
            try TestOrigin.bucketClient(settings).putObject(key: key, bytes: bytes, contentType: "application/octet-stream")
            return
        }
        let path = storageRoot + "/" + key
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw TestFailure("cannot write \(path)") }
    }

    /// The staged files left in `.tmp` (under the storage root in both origins).
    public func temporaryFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: storageRoot + "/.tmp")) ?? []
    }

    /// GETs a URL a response handed out, wherever it points (nginx, or the bucket), as is:
    /// a signed URL's query included.
    public func fetch(_ url: String, headers: [String: String] = [:]) throws -> HTTPResponseMessage {
        guard let components = URLComponents(string: url), url.hasPrefix("http://"),
              components.host == "127.0.0.1", let port = components.port.flatMap(UInt16.init(exactly:)) else {
            throw TestFailure("not a loopback URL: \(url)")
        }
        let pathAndQuery = components.percentEncodedPath
            + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        return try HTTPClient(port: port).get(pathAndQuery, headers: headers)
    }
}
