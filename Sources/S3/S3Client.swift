import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hashing

/// A synchronous S3 client for worker threads: each call blocks until its exchanges are
/// done. One URLSession per client, so connections are reused across calls.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    private let signer: SigV4Signer
    private let endpoint: Result<Endpoint, S3Error>
    private let session: URLSession

    public init(configuration: S3Configuration) {
        self.configuration = configuration
        signer = SigV4Signer(accessKeyId: configuration.credentials.accessKeyId,
                             secretAccessKey: configuration.credentials.secretAccessKey,
                             region: configuration.region, service: "s3")
        endpoint = Endpoint.parse(configuration.endpoint)
        let settings = URLSessionConfiguration.ephemeral
        settings.timeoutIntervalForRequest = configuration.timeoutSeconds
        settings.requestCachePolicy = .reloadIgnoringLocalCacheData
        settings.urlCache = nil
        settings.httpShouldSetCookies = false
        session = URLSession(configuration: settings)
    }

    deinit { session.finishTasksAndInvalidate() }

    // MARK: Objects

    /// Uploads a file: one PUT up to multipartThreshold, else multipart (create, parts,
    /// complete; aborted on any failure so no partial upload remains). `sha256Hex` is the
    /// whole file's hash when the caller knows it (else it is computed, streaming). Memory
    /// stays O(partSize): the single PUT streams from the file, parts are read one at a time.
    /// `contentDisposition` is stored with the object and sent back on every GET.
    public func putObject(key: String, fileAt path: String, contentType: String, sha256Hex: String?,
                          contentDisposition: String? = nil) throws {
        let file = try LocalFile(readingAt: path)
        let headers = objectHeaders(contentType: contentType, contentDisposition: contentDisposition)
        guard file.size > configuration.multipartThreshold else {
            let hash = try sha256Hex ?? file.sha256Hex()
            try perform(Operation(method: "PUT", key: key, headers: headers, payloadHash: hash,
                                  body: .file(path, size: file.size)))
            return
        }
        try multipartUpload(key: key, file: file, headers: headers)
    }

    public func putObject(key: String, bytes: [UInt8], contentType: String, contentDisposition: String? = nil) throws {
        try perform(Operation(method: "PUT", key: key,
                              headers: objectHeaders(contentType: contentType, contentDisposition: contentDisposition),
                              payloadHash: SHA256.hex(bytes), body: .bytes(Data(bytes))))
    }

    private func objectHeaders(contentType: String, contentDisposition: String?) -> [(String, String)] {
        [("content-type", contentType)] + (contentDisposition.map { [("content-disposition", $0)] } ?? [])
    }

    /// nil when there is no such object.
    public func headObject(key: String) throws -> S3Object? {
        let answer = try perform(Operation(method: "HEAD", key: key), accepting: [404])
        guard answer.status != 404 else { return nil }
        return S3Object(key: key, size: answer.header("Content-Length").flatMap { Int64($0) } ?? 0,
                        eTag: answer.header("ETag"), lastModified: answer.header("Last-Modified").flatMap(S3Dates.http))
    }

    /// Streams the object into the file at `path` (replaced when it exists; written only
    /// once complete) and returns its size. A missing object throws rejected(404, "NoSuchKey", …).
    public func getObject(key: String, toFile path: String) throws -> Int64 {
        let answer = try perform(Operation(method: "GET", key: key, downloadTo: path))
        guard let staged = answer.downloadedFile else {
            throw S3Error.localFile("the download of \(key) left no file")
        }
        guard rename(staged, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: staged)
            throw S3Error.localFile("cannot move the download to \(path): \(reason)")
        }
        return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// A missing object is not an error.
    public func deleteObject(key: String) throws {
        try perform(Operation(method: "DELETE", key: key), accepting: [404])
    }

    /// Batch DeleteObjects, 1000 keys per request (S3's maximum), quiet mode so only
    /// failures are listed; any key that could not be deleted fails the call.
    public func deleteObjects(keys: [String]) throws {
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)]
            let body = Array(("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
                + batch.map { "<Object><Key>\(xmlEscaped($0))</Key></Object>" }.joined() + "</Delete>").utf8)
            // S3 requires Content-MD5 (or a checksum header) on DeleteObjects.
            let answer = try perform(Operation(
                method: "POST", key: nil, query: [("delete", "")],
                headers: [("content-type", "application/xml"), ("content-md5", Data(MD5.digest(body)).base64EncodedString())],
                payloadHash: SHA256.hex(body), body: .bytes(Data(body))))
            let failures = try decoded("DeleteResult") { try S3Responses.deleteErrors(answer.body) }
            guard let first = failures.first else { continue }
            let summary = "\(failures.count) of \(batch.count) keys were not deleted; first: \(first.key): "
                + "\(first.error.code) \(first.error.message)"
            switch RetryPolicy.verdict(status: 200, code: first.error.code) {
            case .configuration: throw S3Error.configuration(configurationMessage(status: 200, code: first.error.code,
                                                                                 message: summary, method: "POST"))
            case .retry: throw S3Error.unavailable(summary)
            case .rejected: throw S3Error.rejected(status: 200, code: first.error.code, message: summary)
            }
        }
    }

    // MARK: Listings

    /// Every object under `prefix` (ListObjectsV2, all pages).
    public func listObjects(prefix: String) throws -> [S3Object] {
        try list(prefix: prefix, delimiter: nil, pageSize: nil).objects
    }

    /// The common prefixes under `prefix` up to `delimiter` (ListObjectsV2, all pages).
    public func listCommonPrefixes(prefix: String, delimiter: String) throws -> [String] {
        try list(prefix: prefix, delimiter: delimiter, pageSize: nil).prefixes
    }

    /// `pageSize` (max-keys) lets the tests see more than one page without 1000 objects.
    func list(prefix: String, delimiter: String?, pageSize: Int?) throws -> (objects: [S3Object], prefixes: [String]) {
        var objects: [S3Object] = []
        var prefixes: [String] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            if let token { query.append(("continuation-token", token)) }
            let answer = try perform(Operation(method: "GET", key: nil, query: query))
            let page = try decoded("ListBucketResult") { try S3Responses.listPage(answer.body) }
            objects += page.objects
            prefixes += page.commonPrefixes
            if let next = page.nextContinuationToken, next == token {
                throw S3Error.rejected(status: answer.status, code: "InvalidResponse",
                                       message: "the listing repeated its continuation token")
            }
            token = page.nextContinuationToken
        } while token != nil
        return (objects, prefixes)
    }

    /// Multipart uploads in progress under `prefix` (all pages): what a crashed upload left.
    public func listMultipartUploads(prefix: String) throws -> [S3MultipartUpload] {
        try listMultipartUploads(prefix: prefix, pageSize: nil)
    }

    func listMultipartUploads(prefix: String, pageSize: Int?) throws -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var marker: (keyMarker: String, uploadIdMarker: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let pageSize { query.append(("max-uploads", String(pageSize))) }
            if let marker { query += [("key-marker", marker.keyMarker), ("upload-id-marker", marker.uploadIdMarker)] }
            let answer = try perform(Operation(method: "GET", key: nil, query: query))
            let page = try decoded("ListMultipartUploadsResult") { try S3Responses.uploadsPage(answer.body) }
            uploads += page.uploads
            if let next = page.next, let marker, next == marker {
                throw S3Error.rejected(status: answer.status, code: "InvalidResponse",
                                       message: "the upload listing repeated its markers")
            }
            marker = page.next
        } while marker != nil
        return uploads
    }

    /// An upload that is already gone is not an error.
    public func abortMultipartUpload(key: String, uploadId: String) throws {
        try perform(Operation(method: "DELETE", key: key, query: [("uploadId", uploadId)]), accepting: [404])
    }

    /// A signed one-key listing of the bucket: unlike HeadBucket it has an error body, so
    /// bad keys, missing permissions and a missing bucket are told apart. Throws
    /// .configuration for those, .unavailable when the endpoint cannot be reached.
    public func checkBucket() throws {
        try perform(Operation(method: "GET", key: nil, query: [("list-type", "2"), ("max-keys", "1")]))
    }

    /// A query-string-signed GET URL (X-Amz-Expires = seconds, clamped to S3's 1…604800;
    /// UNSIGNED-PAYLOAD), with response-content-disposition when given. Pure: no I/O. With
    /// an endpoint that does not parse (checkBucket says so) the URL is not usable.
    public func presignedGetURL(key: String, expiresInSeconds: Int, at date: Date,
                                responseContentDisposition: String?) -> String {
        let endpoint = (try? self.endpoint.get()) ?? Endpoint(scheme: "https", host: configuration.endpoint, port: nil)
        let (authority, path) = location(key: key, endpoint: endpoint)
        var request = SigV4Signer.Request(method: "GET", path: path, headers: [("host", authority)])
        if let responseContentDisposition { request.query.append(("response-content-disposition", responseContentDisposition)) }
        let signature = signer.presign(request, expiresInSeconds: min(max(expiresInSeconds, 1), 604_800),
                                       payloadHash: SigV4Signer.unsignedPayload, at: date)
        return "\(endpoint.scheme)://\(authority)\(SigV4Signer.encodePath(path))?\(signature.queryString)"
    }

    // MARK: Multipart

    private func multipartUpload(key: String, file: LocalFile, headers: [(String, String)]) throws {
        guard configuration.partSize >= S3Configuration.minimumPartSize else {
            throw S3Error.configuration("partSize \(configuration.partSize) is below S3's minimum part size of 5 MiB")
        }
        // S3 allows 10,000 parts: a file too large for the configured size gets larger parts.
        let partSize = max(configuration.partSize,
                           (file.size + S3Configuration.maximumPartCount - 1) / S3Configuration.maximumPartCount)
        let created = try perform(Operation(method: "POST", key: key, query: [("uploads", "")], headers: headers))
        let uploadId = try decoded("InitiateMultipartUploadResult") { try S3Responses.uploadId(created.body) }
        do {
            let parts = try uploadParts(key: key, uploadId: uploadId, file: file, partSize: partSize)
            let body = Array(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(xmlEscaped($0.eTag))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>").utf8)
            try perform(Operation(method: "POST", key: key, query: [("uploadId", uploadId)],
                                  headers: [("content-type", "application/xml")], payloadHash: SHA256.hex(body),
                                  body: .bytes(Data(body))),
                        errorInBody: S3Responses.completeError)
        } catch {
            do {
                try abortMultipartUpload(key: key, uploadId: uploadId)
            } catch let abortError {
                throw S3Error.adding(" (and upload \(uploadId) could not be aborted: \(abortError); "
                    + "listMultipartUploads and abortMultipartUpload remove it)", to: error)
            }
            throw error
        }
    }

    /// The parts of one upload, `partConcurrency` at a time (memory: that many parts), each
    /// read at its own offset; the first failure stops the others. Their ETags in order.
    private func uploadParts(key: String, uploadId: String, file: LocalFile,
                             partSize: Int64) throws -> [(number: Int, eTag: String)] {
        let count = Int((file.size + partSize - 1) / partSize)
        let lanes = max(1, min(configuration.partConcurrency, count))
        let results = PartResults(count: count)
        let uploadLane: @Sendable (Int) -> Void = { lane in
            var index = lane
            while index < count, !results.failed {
                do {
                    let offset = Int64(index) * partSize
                    let data = try file.read(offset: offset, count: Int(min(partSize, file.size - offset)))
                    let answer = try self.perform(Operation(
                        method: "PUT", key: key, query: [("partNumber", String(index + 1)), ("uploadId", uploadId)],
                        payloadHash: SHA256.hex(data), body: .bytes(data)))
                    guard let eTag = answer.header("ETag") else {
                        throw S3Error.rejected(status: answer.status, code: "InvalidResponse",
                                               message: "part \(index + 1) of \(key) was answered without an ETag")
                    }
                    results.record(eTag, at: index)
                } catch {
                    results.fail(error)
                }
                index += lanes
            }
        }
        let others = DispatchGroup()
        for lane in 1..<lanes {
            others.enter()
            Thread.detachNewThread {
                uploadLane(lane)
                others.leave()
            }
        }
        uploadLane(0)
        others.wait()
        return try results.parts()
    }

    // MARK: Exchanges

    struct Operation {
        var method: String
        /// nil: the bucket itself.
        var key: String?
        var query: [(name: String, value: String)] = []
        /// Signed and sent, besides host and the x-amz-* headers the signer adds.
        var headers: [(name: String, value: String)] = []
        var payloadHash = SigV4Signer.emptyPayloadHash
        var body: RequestBody = .none
        /// Stream a 2xx answer's body into a file beside this path instead of memory.
        var downloadTo: String?
    }

    enum RequestBody {
        case none
        case bytes(Data)
        case file(String, size: Int64)
    }

    struct Answer {
        let status: Int
        let response: HTTPURLResponse
        let body: [UInt8]
        /// A download's staged file (2xx answers to a downloadTo operation only).
        let downloadedFile: String?

        func header(_ name: String) -> String? { response.value(forHTTPHeaderField: name) }
    }

    /// Signs and sends `operation`, retrying what RetryPolicy calls transient with back-off,
    /// each attempt signed anew. Returns 2xx answers and those in `accepting`.
    @discardableResult
    func perform(_ operation: Operation, accepting: Set<Int> = [],
                 errorInBody: (([UInt8]) throws -> S3Responses.ErrorAnswer?)? = nil) throws -> Answer {
        let endpoint = try self.endpoint.get()
        guard !configuration.bucket.isEmpty else { throw S3Error.configuration("the bucket name is empty") }
        guard !configuration.credentials.accessKeyId.isEmpty, !configuration.credentials.secretAccessKey.isEmpty else {
            throw S3Error.configuration("the access key id / secret is empty")
        }
        let attempts = max(1, configuration.maxAttempts)
        var lastProblem = ""
        for attempt in 1...attempts {
            let request = try urlRequest(operation, endpoint: endpoint, at: Date())
            switch exchange(request, body: operation.body, downloadTo: operation.downloadTo) {
            case .failure(let error as S3Error):
                throw error
            case .failure(let error):
                lastProblem = "no answer from \(configuration.endpoint) (\(error.localizedDescription))"
                if RetryPolicy.verdict(transportError: error) == .configuration {
                    throw S3Error.configuration("check the endpoint \(configuration.endpoint): \(lastProblem)")
                }
            case .success(let answer):
                let problem: S3Responses.ErrorAnswer, verdict: RetryPolicy.Verdict
                if (200..<300).contains(answer.status) || accepting.contains(answer.status) {
                    guard let errorInBody else { return answer }
                    // An error inside a 2xx answer; an unreadable one may be a cut-off body: retried.
                    let found: S3Responses.ErrorAnswer?
                    do {
                        found = try errorInBody(answer.body)
                    } catch {
                        found = S3Responses.ErrorAnswer(code: "InvalidResponse", message: "\(error)")
                    }
                    guard let found else { return answer }
                    problem = found
                    verdict = found.code == "InvalidResponse" ? .retry : RetryPolicy.verdict(status: answer.status, code: found.code)
                } else {
                    problem = S3Responses.errorAnswer(answer.body) ?? S3Responses.ErrorAnswer(code: "", message: "")
                    verdict = RetryPolicy.verdict(status: answer.status, code: problem.code)
                }
                let code = problem.code, message = problem.message
                switch verdict {
                case .configuration:
                    throw S3Error.configuration(configurationMessage(status: answer.status, code: code, message: message,
                                                                     method: operation.method))
                case .rejected:
                    throw S3Error.rejected(status: answer.status, code: code,
                                           message: message.isEmpty ? "\(operation.method) answered without an error body" : message)
                case .retry:
                    lastProblem = "HTTP \(answer.status) \(code) \(message)"
                }
            }
            if attempt < attempts {
                Thread.sleep(forTimeInterval: RetryPolicy.delay(afterAttempt: attempt, base: configuration.backoffSeconds))
            }
        }
        throw S3Error.unavailable("\(operation.method) \(operation.key ?? configuration.bucket) failed \(attempts) "
            + "time(s); last: \(lastProblem)")
    }

    /// What to fix, named after the setting.
    private func configurationMessage(status: Int, code: String, message: String, method: String) -> String {
        let keyId = configuration.credentials.accessKeyId, bucket = configuration.bucket
        switch code {
        case "SignatureDoesNotMatch":
            return "the secret access key does not match access key id '\(keyId)' (SignatureDoesNotMatch): check the configured secret"
        case "InvalidAccessKeyId":
            return "access key id '\(keyId)' is not known at \(configuration.endpoint) (InvalidAccessKeyId): "
                + "check the access key id and that it belongs to this endpoint's account"
        case "AccessDenied":
            return "access key id '\(keyId)' may not \(method) in bucket '\(bucket)' (AccessDenied): "
                + "check the access key id / secret and grant the key read and write on the bucket"
        case "NoSuchBucket":
            return "bucket '\(bucket)' does not exist at \(configuration.endpoint) (NoSuchBucket): check the bucket name and endpoint"
        case "AuthorizationHeaderMalformed", "PermanentRedirect":
            return "the region '\(configuration.region)' or the endpoint \(configuration.endpoint) is not the bucket's (\(code)): \(message)"
        case "RequestTimeTooSkewed":
            return "this machine's clock is too far from the server's (RequestTimeTooSkewed): set the clock right (NTP)"
        case "":
            return "\(method) answered HTTP \(status) without a body: check the access key id / secret, "
                + "their permissions on bucket '\(bucket)' and the endpoint \(configuration.endpoint)"
        default:
            return "\(code): \(message)"
        }
    }

    private func urlRequest(_ operation: Operation, endpoint: Endpoint, at date: Date) throws -> URLRequest {
        let (authority, path) = location(key: operation.key, endpoint: endpoint)
        let signature = signer.sign(
            SigV4Signer.Request(method: operation.method, path: path, query: operation.query,
                                headers: [("host", authority)] + operation.headers),
            payloadHash: operation.payloadHash, sendPayloadHash: true, at: date)
        let query = signature.queryString.isEmpty ? "" : "?" + signature.queryString
        guard let url = URL(string: "\(endpoint.scheme)://\(authority)\(SigV4Signer.encodePath(path))\(query)") else {
            throw S3Error.configuration("no valid URL from endpoint \(configuration.endpoint) and bucket '\(configuration.bucket)'")
        }
        var request = URLRequest(url: url)
        request.httpMethod = operation.method
        request.timeoutInterval = configuration.timeoutSeconds
        // Host comes from the URL: URLSession writes it exactly as signed.
        // Bytes as stored: URLSession would otherwise decode an object kept gzip-encoded.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for (name, value) in operation.headers + signature.addedHeaders { request.setValue(value, forHTTPHeaderField: name) }
        switch operation.body {
        case .none: break
        case .bytes(let data): request.setValue(String(data.count), forHTTPHeaderField: "Content-Length")
        case .file(_, let size): request.setValue(String(size), forHTTPHeaderField: "Content-Length")
        }
        return request
    }

    /// The host (with a non-default port) and the unencoded path of `key`, or of the bucket.
    private func location(key: String?, endpoint: Endpoint) -> (authority: String, path: String) {
        switch configuration.addressing {
        case .path:
            return (endpoint.authority, "/" + configuration.bucket + (key.map { "/" + $0 } ?? ""))
        case .virtualHost:
            return (configuration.bucket + "." + endpoint.authority, "/" + (key ?? ""))
        }
    }

    private func exchange(_ request: URLRequest, body: RequestBody, downloadTo: String?) -> Result<Answer, Error> {
        let box = ExchangeBox()
        let task: URLSessionTask
        if let downloadTo {
            // Staged beside the destination, so the final rename stays on one file system.
            let staged = downloadTo + ".s3-\(UUID().uuidString)"
            task = session.downloadTask(with: request) { location, response, error in
                var stagedFile: String?
                if let location {
                    do {
                        try FileManager.default.moveItem(at: location, to: URL(fileURLWithPath: staged))
                        stagedFile = staged
                    } catch {
                        box.finish(.failure(S3Error.localFile("cannot write the download beside \(downloadTo): \(error)")))
                        return
                    }
                }
                box.finish(response: response, error: error, body: [], file: stagedFile)
            }
        } else {
            let completion: @Sendable (Data?, URLResponse?, Error?) -> Void = { data, response, error in
                box.finish(response: response, error: error, body: data.map { [UInt8]($0) } ?? [], file: nil)
            }
            switch body {
            case .none: task = session.dataTask(with: request, completionHandler: completion)
            case .bytes(let data): task = session.uploadTask(with: request, from: data, completionHandler: completion)
            case .file(let path, _):
                task = session.uploadTask(with: request, fromFile: URL(fileURLWithPath: path), completionHandler: completion)
            }
        }
        task.resume()
        box.done.wait()
        return box.result.flatMap(Self.settleDownload)
    }

    /// A download's error answer is read back as the body; a 2xx one shorter than its
    /// Content-Length is a broken transfer (retried).
    private static func settleDownload(_ answer: Answer) -> Result<Answer, Error> {
        guard let file = answer.downloadedFile else { return .success(answer) }
        guard (200..<300).contains(answer.status) else {
            let body = FileManager.default.contents(atPath: file).map { [UInt8]($0.prefix(65_536)) } ?? []
            try? FileManager.default.removeItem(atPath: file)
            return .success(Answer(status: answer.status, response: answer.response, body: body, downloadedFile: nil))
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
        if let expected = answer.header("Content-Length").flatMap({ Int64($0) }), expected != size {
            try? FileManager.default.removeItem(atPath: file)
            return .failure(URLError(.networkConnectionLost))
        }
        return .success(answer)
    }

    /// Maps a malformed answer of a 2xx exchange to a rejection naming what was expected.
    private func decoded<T>(_ what: String, _ decode: () throws -> T) throws -> T {
        do {
            return try decode()
        } catch let error as S3XMLError {
            throw S3Error.rejected(status: 200, code: "InvalidResponse", message: "unreadable \(what): \(error)")
        }
    }
}

struct Endpoint: Sendable {
    let scheme: String
    let host: String
    let port: Int?

    var authority: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port.map { "\(host):\($0)" } ?? host
    }

    static func parse(_ text: String) -> Result<Endpoint, S3Error> {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty,
              parts.path.isEmpty || parts.path == "/", parts.query == nil, parts.user == nil else {
            return .failure(.configuration("the endpoint '\(text)' is not like https://host or http://host:port (no path)"))
        }
        // A default port is left out, as URLSession leaves it out of the Host header it sends.
        let port = parts.port.flatMap { (scheme == "http" && $0 == 80) || (scheme == "https" && $0 == 443) ? nil : $0 }
        return .success(Endpoint(scheme: scheme, host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port))
    }
}

extension S3Error {
    /// `error` with `note` appended to its message (non-S3 errors become localFile ones:
    /// they come from reading the file).
    static func adding(_ note: String, to error: Error) -> S3Error {
        switch error as? S3Error {
        case .configuration(let message): .configuration(message + note)
        case .unavailable(let message): .unavailable(message + note)
        case .rejected(let status, let code, let message): .rejected(status: status, code: code, message: message + note)
        case .localFile(let message): .localFile(message + note)
        case nil: .localFile("\(error)" + note)
        }
    }
}

/// Carries a URLSession completion back to the waiting worker thread.
private final class ExchangeBox: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private(set) var result: Result<S3Client.Answer, Error> = .failure(URLError(.unknown))

    func finish(response: URLResponse?, error: Error?, body: [UInt8], file: String?) {
        if let response = response as? HTTPURLResponse, error == nil {
            finish(.success(S3Client.Answer(status: response.statusCode, response: response, body: body, downloadedFile: file)))
        } else {
            if let file { try? FileManager.default.removeItem(atPath: file) }
            finish(.failure(error ?? URLError(.badServerResponse)))
        }
    }

    func finish(_ result: Result<S3Client.Answer, Error>) {
        self.result = result
        done.signal()
    }
}

private func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// What the lanes of one multipart upload share: each part's ETag, and the first failure.
private final class PartResults: @unchecked Sendable {
    private let lock = NSLock()
    private var eTags: [String?]
    private var failure: Error?

    init(count: Int) { eTags = Array(repeating: nil, count: count) }

    var failed: Bool { lock.withLock { failure != nil } }

    func record(_ eTag: String, at index: Int) { lock.withLock { eTags[index] = eTag } }

    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func parts() throws -> [(number: Int, eTag: String)] {
        try lock.withLock {
            if let failure { throw failure }
            return try eTags.enumerated().map { index, eTag in
                guard let eTag else { throw S3Error.localFile("part \(index + 1) was never uploaded") }
                return (index + 1, eTag)
            }
        }
    }
}
