#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import S3
import TestSupport
import XCTest

/// The client against a loopback server that plays a script of answers moto never gives:
/// throttling, a 200 that is an error, a failing CompleteMultipartUpload.
final class ScriptedServerTests: XCTestCase {
    /// One part at a time: the script answers requests in the order they arrive.
    private func client(_ server: ScriptedServer, maxAttempts: Int = 4) -> S3Client {
        S3Client(configuration: S3Configuration(
            endpoint: "http://127.0.0.1:\(server.port)", bucket: "b", region: "auto",
            credentials: S3Credentials(accessKeyId: "key", secretAccessKey: "secret"), timeoutSeconds: 5,
            maxAttempts: maxAttempts, backoffSeconds: 0.05, multipartThreshold: 5 << 20, partSize: 5 << 20,
            partConcurrency: 1))
    }

    private func sixMiBFile() throws -> String {
        let path = NSTemporaryDirectory() + "s3-scripted-\(getpid())-\(UUID().uuidString.prefix(8))"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: 6 << 20)))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testThrottlingAndServerErrorsAreRetried() throws {
        let server = try ScriptedServer([
            .answer(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"),
            .answer(500, "<Error><Code>InternalError</Code><Message>try again</Message></Error>"),
            .answer(200, ""),
        ])
        try client(server).putObject(key: "k", bytes: [1, 2, 3], contentType: "text/plain")
        XCTAssertEqual(server.requestLines, Array(repeating: "PUT /b/k HTTP/1.1", count: 3))
    }

    func testRetriesEndAsUnavailableWithTheLastProblem() throws {
        let server = try ScriptedServer(Array(repeating: .answer(503, "<Error><Code>SlowDown</Code></Error>"), count: 2))
        XCTAssertThrowsError(try client(server, maxAttempts: 2).deleteObject(key: "k")) {
            guard case S3Error.unavailable(let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("2 time(s)") && message.contains("SlowDown"), message)
        }
        XCTAssertEqual(server.requestLines.count, 2)
    }

    func testAnErrorInsideA200CompleteIsRetried() throws {
        let server = try ScriptedServer([
            .answer(200, "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"),
            .answer(200, "", headers: ["ETag": "\"e1\""]),
            .answer(200, "", headers: ["ETag": "\"e2\""]),
            .answer(200, "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"),
            .answer(200, "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>"),
        ])
        try client(server).putObject(key: "v", fileAt: try sixMiBFile(), contentType: "video/mp4", sha256Hex: nil)
        XCTAssertEqual(server.requestLines, [
            "POST /b/v?uploads= HTTP/1.1", "PUT /b/v?partNumber=1&uploadId=u1 HTTP/1.1",
            "PUT /b/v?partNumber=2&uploadId=u1 HTTP/1.1", "POST /b/v?uploadId=u1 HTTP/1.1", "POST /b/v?uploadId=u1 HTTP/1.1",
        ])
        XCTAssertTrue(server.bodies[3].contains("<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"),
                      server.bodies[3])
    }

    func testARejectedCompleteIsNotRetriedAndTheUploadIsAborted() throws {
        let server = try ScriptedServer([
            .answer(200, "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"),
            .answer(200, "", headers: ["ETag": "\"e1\""]),
            .answer(200, "", headers: ["ETag": "\"e2\""]),
            .answer(400, "<Error><Code>InvalidPart</Code><Message>One or more of the parts could not be found.</Message></Error>"),
            .answer(204, ""),
        ])
        XCTAssertThrowsError(try client(server).putObject(key: "v", fileAt: try sixMiBFile(), contentType: "video/mp4",
                                                          sha256Hex: nil)) {
            guard case S3Error.rejected(400, "InvalidPart", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(server.requestLines.suffix(2), ["POST /b/v?uploadId=u1 HTTP/1.1", "DELETE /b/v?uploadId=u1 HTTP/1.1"])
    }

    func testAnUnreadableListingIsRejectedNotTrapped() throws {
        let server = try ScriptedServer([.answer(200, "<ListBucketResult><Contents><Key>k</Key></Contents>")])
        XCTAssertThrowsError(try client(server).listObjects(prefix: "")) {
            guard case S3Error.rejected(200, "InvalidResponse", _) = $0 else { return XCTFail("\($0)") }
        }
    }
}

/// Answers one connection per scripted answer, in order, then stops; records what came.
private final class ScriptedServer: @unchecked Sendable {
    struct Answer {
        let status: Int
        let body: String
        let headers: [String: String]

        static func answer(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, body: body, headers: headers)
        }
    }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var received: [(line: String, body: String)] = []

    var requestLines: [String] { lock.withLock { received.map(\.line) } }
    var bodies: [String] { lock.withLock { received.map(\.body) } }

    init(_ answers: [Answer]) throws {
        let (listener, port) = try loopbackListener()
        self.listener = listener
        self.port = port
        Thread { [self] in
            for answer in answers {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                serve(connection, answer)
                close(connection)
            }
        }.start()
    }

    deinit { close(listener) }

    private func serve(_ connection: Int32, _ answer: Answer) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while headerEnd.map({ request.count < $0 + contentLength }) ?? true {
            let got = read(connection, &buffer, buffer.count)
            guard got > 0 else { break }
            request += buffer[0..<got]
            if headerEnd == nil, let end = request.indices.dropLast(3).first(where: {
                request[$0] == 13 && request[$0 + 1] == 10 && request[$0 + 2] == 13 && request[$0 + 3] == 10 }) {
                headerEnd = end + 4
                let head = String(decoding: request[..<end], as: UTF8.self).lowercased()
                contentLength = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            }
        }
        let text = String(decoding: request, as: UTF8.self)
        let line = text.components(separatedBy: "\r\n").first ?? ""
        let body = headerEnd.map { String(decoding: request[min($0, request.count)...], as: UTF8.self) } ?? ""
        lock.withLock { received.append((line, body)) }
        var response = "HTTP/1.1 \(answer.status) Scripted\r\nContent-Length: \(answer.body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in answer.headers { response += "\(name): \(value)\r\n" }
        let bytes = Array((response + "\r\n" + answer.body).utf8)
        _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
    }
}
