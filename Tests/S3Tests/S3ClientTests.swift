#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hashing
@testable import S3
import TestSupport
import XCTest

/// The client against a real S3 implementation: the run's S3 server (moto with IAM auth on,
/// scripts/s3-server, started by scripts/test), so every request's signature is checked,
/// presigned ones included. Each test works under a prefix of its own in the private bucket.
final class S3ClientTests: XCTestCase {
    private var settings: (endpoint: String, keyId: String, secret: String, bucket: String)!
    private var prefix = ""
    private var scratch = ""

    override func setUpWithError() throws {
        let server = TestOrigin.bucketSettings
        guard let endpoint = server["MEDIA_R2_ENDPOINT"], let keyId = server["MEDIA_R2_ACCESS_KEY_ID"],
              let secret = server["MEDIA_R2_SECRET_ACCESS_KEY"], let bucket = server["S3_PRIVATE_BUCKET"] else {
            throw TestFailure("no S3 server: MEDIA_TEST_S3_CREDENTIALS is unset (run ./scripts/test)")
        }
        settings = (endpoint, keyId, secret, bucket)
        prefix = "t-\(UUID().uuidString.prefix(8))/"
        scratch = NSTemporaryDirectory() + "s3-tests-\(getpid())-\(prefix.dropLast())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private func client(secret: String? = nil, bucket: String? = nil, endpoint: String? = nil,
                        timeoutSeconds: Double = 10, maxAttempts: Int = 4,
                        backoffSeconds: Double = 0.2, multipartThreshold: Int64 = 64 << 20,
                        partSize: Int64 = 16 << 20) -> S3Client {
        S3Client(configuration: S3Configuration(
            endpoint: endpoint ?? settings.endpoint, bucket: bucket ?? settings.bucket, region: "us-east-1",
            credentials: S3Credentials(accessKeyId: settings.keyId, secretAccessKey: secret ?? settings.secret),
            timeoutSeconds: timeoutSeconds, maxAttempts: maxAttempts, backoffSeconds: backoffSeconds,
            multipartThreshold: multipartThreshold, partSize: partSize))
    }

    private func randomFile(_ name: String, bytes count: Int) throws -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        for index in stride(from: 0, to: count, by: 8) {
            withUnsafeBytes(of: generator.next() as UInt64) { random in
                for offset in 0..<min(8, count - index) { bytes[index + offset] = random[offset] }
            }
        }
        let path = scratch + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func testBytesPutHeadGetDelete() throws {
        let s3 = client()
        let key = prefix + "hello.txt"
        let bytes = Array("hello, object storage".utf8)
        try s3.putObject(key: key, bytes: bytes, contentType: "text/plain")

        let head = try XCTUnwrap(try s3.headObject(key: key))
        XCTAssertEqual(head.size, Int64(bytes.count))
        XCTAssertEqual(head.eTag, "\"\(SigV4Signer.hex(MD5.digest(bytes)))\"")
        XCTAssertNotNil(head.lastModified)

        let target = scratch + "/hello.out"
        XCTAssertEqual(try s3.getObject(key: key, toFile: target), Int64(bytes.count))
        XCTAssertEqual(try Fixtures.bytes(target), bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["hello.out"], "no staged file left")

        try s3.deleteObject(key: key)
        XCTAssertNil(try s3.headObject(key: key))
        try s3.deleteObject(key: key)  // a missing object is fine
        XCTAssertThrowsError(try s3.getObject(key: key, toFile: target)) { error in
            guard case S3Error.rejected(404, "NoSuchKey", _) = error else { return XCTFail("\(error)") }
        }
    }

    /// One client shared by worker threads: one URLSession, requests in parallel.
    func testOneClientServesConcurrentThreads() throws {
        let s3 = client(), prefix = prefix
        let failures = Truncation()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let key = prefix + "parallel-\(index)", bytes = Array(repeating: UInt8(index), count: 100_000 + index)
            do {
                try s3.putObject(key: key, bytes: bytes, contentType: "application/octet-stream")
                guard try s3.headObject(key: key)?.size == Int64(bytes.count) else { throw S3Error.localFile("size") }
                try s3.deleteObject(key: key)
            } catch {
                failures.done = true
            }
        }
        XCTAssertFalse(failures.done)
        XCTAssertEqual(try s3.listObjects(prefix: prefix).count, 0)
    }

    func testFilePutSingleAndMultipart() throws {
        let s3 = client(multipartThreshold: 5 << 20, partSize: 5 << 20)
        let small = try randomFile("small.bin", bytes: 1 << 20)
        let smallHash = SHA256.hex(try Fixtures.bytes(small))
        try s3.putObject(key: prefix + "small-known-hash", fileAt: small, contentType: "application/octet-stream",
                         sha256Hex: smallHash)
        try s3.putObject(key: prefix + "small", fileAt: small, contentType: "application/octet-stream", sha256Hex: nil)

        let large = try randomFile("large.bin", bytes: 12 << 20)
        try s3.putObject(key: prefix + "large", fileAt: large, contentType: "video/mp4", sha256Hex: nil)
        let head = try XCTUnwrap(try s3.headObject(key: prefix + "large"))
        XCTAssertEqual(head.size, 12 << 20)
        XCTAssertTrue(head.eTag?.hasSuffix("-3\"") == true, "three parts: \(head.eTag ?? "no ETag")")

        for key in ["small-known-hash", "small", "large"] {
            let copy = scratch + "/" + key + ".out"
            _ = try s3.getObject(key: prefix + key, toFile: copy)
            XCTAssertEqual(try Fixtures.bytes(copy), try Fixtures.bytes(key == "large" ? large : small), key)
        }
        XCTAssertEqual(try s3.listMultipartUploads(prefix: prefix).count, 0)
    }

    /// A 256 MiB file up in one PUT and back: the process's peak memory grows by far less
    /// than the file (both directions stream).
    func testSinglePutAndGetStreamInsteadOfHoldingTheFile() throws {
        let s3 = client(multipartThreshold: 1 << 30)
        let path = scratch + "/sparse.bin", size: Int64 = 256 << 20
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, off_t(size)), 0)
        let before = peakResidentBytes()
        try s3.putObject(key: prefix + "big", fileAt: path, contentType: "application/octet-stream", sha256Hex: nil)
        XCTAssertEqual(try s3.getObject(key: prefix + "big", toFile: scratch + "/big.out"), size)
        let growth = peakResidentBytes() - before
        XCTAssertLessThan(growth, 96 << 20, "peak memory grew by \(growth >> 20) MiB for a \(size >> 20) MiB object")
        try s3.deleteObject(key: prefix + "big")
    }

    private func peakResidentBytes() -> Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int64(usage.ru_maxrss) * 1024
    }

    /// The file shrinks while its parts go up (a real failure, no hook): the upload is
    /// aborted, so neither an object nor an upload in progress remains.
    func testFailedMultipartUploadLeavesNothing() throws {
        let s3 = client(multipartThreshold: 5 << 20, partSize: 5 << 20)
        let path = try randomFile("shrinks.bin", bytes: 30 << 20)
        let truncated = Truncation()
        let watcher = Thread { [prefix] in
            // Truncate as soon as the upload exists: at most a part or two can be in by then.
            while !truncated.done {
                if let uploads = try? s3.listMultipartUploads(prefix: prefix), !uploads.isEmpty {
                    // Marked first: the upload's lanes may fail on the truncation before this
                    // thread runs again.
                    truncated.done = true
                    truncate(path, 0)
                }
                usleep(2000)
            }
        }
        watcher.start()
        defer { truncated.done = true }
        XCTAssertThrowsError(try s3.putObject(key: prefix + "shrinks", fileAt: path, contentType: "video/mp4", sha256Hex: nil)) {
            guard case S3Error.localFile(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("changed during the upload"), message)
        }
        XCTAssertTrue(truncated.done)
        XCTAssertNil(try s3.headObject(key: prefix + "shrinks"))
        XCTAssertEqual(try s3.listMultipartUploads(prefix: prefix).count, 0)
    }

    func testListingsFollowEveryPageAndBatchDelete() throws {
        let s3 = client()
        let keys = ["a/1", "a/2", "a/3", "b/1", "b/2", "c", "d"].map { prefix + $0 }
        for key in keys { try s3.putObject(key: key, bytes: Array(key.utf8), contentType: "text/plain") }

        let paged = try s3.list(prefix: prefix, delimiter: nil, pageSize: 2)
        XCTAssertEqual(paged.objects.map(\.key), keys)
        XCTAssertEqual(paged.objects.map(\.size), keys.map { Int64($0.utf8.count) })
        XCTAssertEqual(try s3.listObjects(prefix: prefix + "a/").map(\.key), Array(keys.prefix(3)))
        let grouped = try s3.list(prefix: prefix, delimiter: "/", pageSize: 1)
        XCTAssertEqual(grouped.prefixes, [prefix + "a/", prefix + "b/"])
        XCTAssertEqual(grouped.objects.map(\.key), [prefix + "c", prefix + "d"])
        XCTAssertEqual(try s3.listCommonPrefixes(prefix: prefix, delimiter: "/"), [prefix + "a/", prefix + "b/"])

        try s3.deleteObjects(keys: Array(keys.prefix(5)) + [prefix + "never-was"])
        XCTAssertEqual(try s3.listObjects(prefix: prefix).map(\.key), [prefix + "c", prefix + "d"])
        try s3.deleteObjects(keys: [])
        try s3.deleteObjects(keys: [prefix + "c", prefix + "d"])
        XCTAssertEqual(try s3.listObjects(prefix: prefix).count, 0)
    }

    func testMultipartUploadsAreListedOverPagesAndAborted() throws {
        let s3 = client()
        var created: [String] = []
        for name in ["x", "y", "z"] {
            let answer = try s3.perform(S3Client.Operation(method: "POST", key: prefix + name, query: [("uploads", "")]))
            created.append(try S3Responses.uploadId(answer.body))
        }
        let uploads = try s3.listMultipartUploads(prefix: prefix, pageSize: 1)
        XCTAssertEqual(uploads.map(\.key), ["x", "y", "z"].map { prefix + $0 })
        XCTAssertEqual(uploads.map(\.uploadId), created)
        for upload in uploads { try s3.abortMultipartUpload(key: upload.key, uploadId: upload.uploadId) }
        XCTAssertEqual(try s3.listMultipartUploads(prefix: prefix).count, 0)
    }

    func testWrongSecretIsAConfigurationErrorAndNotRetried() throws {
        let s3 = client(secret: "wrong" + settings.secret, backoffSeconds: 2)
        let started = Date()
        XCTAssertThrowsError(try s3.putObject(key: prefix + "x", bytes: [1], contentType: "text/plain")) {
            guard case S3Error.configuration(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("SignatureDoesNotMatch") && message.contains("secret"), message)
        }
        XCTAssertThrowsError(try s3.checkBucket()) {
            guard case S3Error.configuration = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "no back-off: not retried")

        let unknown = S3Client(configuration: S3Configuration(
            endpoint: settings.endpoint, bucket: settings.bucket, region: "us-east-1",
            credentials: S3Credentials(accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: settings.secret)))
        XCTAssertThrowsError(try unknown.checkBucket()) {
            guard case S3Error.configuration(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("InvalidAccessKeyId"), message)
        }
    }

    func testCheckBucket() throws {
        try client().checkBucket()
        XCTAssertThrowsError(try client(bucket: "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())").checkBucket()) {
            guard case S3Error.configuration(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("NoSuchBucket"), message)
        }
        XCTAssertThrowsError(try client(endpoint: "ftp://example.com/x").checkBucket()) {
            guard case S3Error.configuration = $0 else { return XCTFail("\($0)") }
        }
    }

    func testUnreachableEndpointIsUnavailableAfterEveryAttemptWithBackoff() throws {
        let port = try freePort()  // bound and released: nothing listens there
        let s3 = client(endpoint: "http://127.0.0.1:\(port)", maxAttempts: 3, backoffSeconds: 0.2)
        let started = Date()
        XCTAssertThrowsError(try s3.checkBucket()) {
            guard case S3Error.unavailable(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("3 time(s)"), message)
        }
        // Two waits: at least half of 0.2 s and of 0.4 s (jitter), at most the full ones.
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 3)
    }

    /// A server that takes the connection and never answers: each attempt ends after
    /// timeoutSeconds without progress.
    func testSilentServerTimesOutAndIsUnavailable() throws {
        let listener = try loopbackListener()
        defer { close(listener.descriptor) }
        // Never accepted: the kernel completes the handshake, nobody reads or answers.
        let s3 = client(endpoint: "http://127.0.0.1:\(listener.port)", timeoutSeconds: 1, maxAttempts: 2, backoffSeconds: 0.1)
        let started = Date()
        XCTAssertThrowsError(try s3.headObject(key: "x")) {
            guard case S3Error.unavailable(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("2 time(s)"), message)
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 2)
        XCTAssertLessThan(elapsed, 6)
    }

    /// Fetched with curl, as a browser would: the server checks the query signature and the
    /// expiry (scripts/s3-server adds that to moto); a forged or missing one is refused.
    func testPresignedGetFetchesTheObjectAndAForgeryIsRefused() throws {
        let s3 = client()
        let key = prefix + "photo.jpg"
        let bytes = Array("not really a photo".utf8)
        try s3.putObject(key: key, bytes: bytes, contentType: "image/jpeg")
        let link = s3.presignedGetURL(key: key, expiresInSeconds: 300, at: Date(),
                                      responseContentDisposition: "attachment; filename=\"photo 1.jpg\"")
        XCTAssertTrue(link.contains("response-content-disposition=attachment%3B%20filename%3D%22photo%201.jpg%22"), link)
        let result = try runProcess("/usr/bin/curl", ["-fsS", "-D", "-", "-o", scratch + "/fetched", link])
        XCTAssertEqual(result.status, 0, result.text)
        XCTAssertEqual(try Fixtures.bytes(scratch + "/fetched"), bytes)
        XCTAssertTrue(result.text.lowercased().contains("content-disposition: attachment; filename=\"photo 1.jpg\""), result.text)

        let unsigned = link.components(separatedBy: "?")[0]
        let otherKey = link.replacingOccurrences(of: "photo.jpg?", with: "other.jpg?")
        let expired = s3.presignedGetURL(key: key, expiresInSeconds: 60, at: Date().addingTimeInterval(-120),
                                         responseContentDisposition: nil)
        for (name, url) in [("unsigned", unsigned), ("another key", otherKey), ("expired", expired)] {
            let refused = try runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", url])
            XCTAssertEqual(refused.text, "403", "\(name): \(url)")
        }
    }
}

/// A flag set from another thread.
private final class Truncation: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var done: Bool {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
