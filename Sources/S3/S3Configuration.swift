import Foundation

public struct S3Credentials: Sendable {
    public let accessKeyId: String
    public let secretAccessKey: String

    public init(accessKeyId: String, secretAccessKey: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }
}

public enum S3Addressing: String, Sendable {
    /// endpoint/bucket/key
    case path
    /// bucket.host/key
    case virtualHost = "virtual-host"
}

public struct S3Configuration: Sendable {
    /// "https://<account>.r2.cloudflarestorage.com" or "http://127.0.0.1:9000": scheme, host, optional port.
    public var endpoint: String
    public var bucket: String
    /// "auto" for R2.
    public var region: String
    public var credentials: S3Credentials
    public var addressing: S3Addressing
    /// Per HTTP exchange: no progress for this long is a failure.
    public var timeoutSeconds: Double
    /// Tries per request for retryable failures.
    public var maxAttempts: Int
    /// The first retry's delay, doubled each retry, with jitter, capped at `maxBackoffSeconds`.
    public var backoffSeconds: Double
    /// Files larger than this are uploaded in parts.
    public var multipartThreshold: Int64
    /// Multipart part size: S3 refuses parts below 5 MiB (except the last).
    public var partSize: Int64
    /// Parts of one upload in flight at once; memory is about this many parts.
    public var partConcurrency: Int

    public static let minimumPartSize: Int64 = 5 << 20
    /// S3 allows at most 10,000 parts per upload.
    public static let maximumPartCount: Int64 = 10_000
    static let maxBackoffSeconds = 10.0

    public init(endpoint: String, bucket: String, region: String, credentials: S3Credentials,
                addressing: S3Addressing = .path, timeoutSeconds: Double = 30, maxAttempts: Int = 4,
                backoffSeconds: Double = 0.2, multipartThreshold: Int64 = 64 << 20, partSize: Int64 = 16 << 20,
                partConcurrency: Int = 4) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.addressing = addressing
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
        self.backoffSeconds = backoffSeconds
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.partConcurrency = partConcurrency
    }
}

public struct S3Object: Sendable, Equatable {
    public let key: String
    public let size: Int64
    public let eTag: String?
    public let lastModified: Date?

    public init(key: String, size: Int64, eTag: String?, lastModified: Date?) {
        self.key = key
        self.size = size
        self.eTag = eTag
        self.lastModified = lastModified
    }
}

public struct S3MultipartUpload: Sendable, Equatable {
    public let key: String
    public let uploadId: String
    public let initiated: Date?

    public init(key: String, uploadId: String, initiated: Date?) {
        self.key = key
        self.uploadId = uploadId
        self.initiated = initiated
    }
}

public enum S3Error: Error, CustomStringConvertible {
    /// Bad keys, a missing bucket, a bad endpoint: a setting to fix; never retried.
    case configuration(String)
    /// 5xx, SlowDown, timeouts, connection failures: after every attempt.
    case unavailable(String)
    /// Any other error answer.
    case rejected(status: Int, code: String, message: String)
    /// The local file to upload or download could not be read or written.
    case localFile(String)

    public var description: String {
        switch self {
        case .configuration(let message): "S3 configuration: \(message)"
        case .unavailable(let message): "S3 unavailable: \(message)"
        case .rejected(let status, let code, let message): "S3 rejected the request (HTTP \(status) \(code)): \(message)"
        case .localFile(let message): "S3 local file: \(message)"
        }
    }
}
