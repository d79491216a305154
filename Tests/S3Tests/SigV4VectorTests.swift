import Foundation
import Hashing
@testable import S3
import TestSupport
import XCTest

/// The AWS SigV4 test suite (aws-c-auth's copy, vendored in SigV4Vectors/): every case
/// signed with headers and with the query string, each step compared on its own.
final class SigV4VectorTests: XCTestCase {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("SigV4Vectors")

    func testEveryVendoredCase() throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: Self.vectors.path)
            .filter { !$0.hasSuffix(".md") }.sorted()
        XCTAssertEqual(cases.count, 28)
        for name in cases {
            try check(name)
        }
    }

    private func check(_ name: String) throws {
        let folder = Self.vectors.appendingPathComponent(name)
        func file(_ file: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
        let context = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(file("context.json").utf8)) as? [String: Any])
        let credentials = try XCTUnwrap(context["credentials"] as? [String: Any])
        let signer = SigV4Signer(accessKeyId: try XCTUnwrap(credentials["access_key_id"] as? String),
                                 secretAccessKey: try XCTUnwrap(credentials["secret_access_key"] as? String),
                                 region: try XCTUnwrap(context["region"] as? String),
                                 service: try XCTUnwrap(context["service"] as? String))
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: try XCTUnwrap(context["timestamp"] as? String)))
        let (request, body) = try parseRequest(Array(try file("request.txt").utf8))
        let payloadHash = SHA256.hex(body)
        // sign_body false: the canonical request still hashes the (empty) body, but no
        // x-amz-content-sha256 header is added.
        let signBody = context["sign_body"] as? Bool ?? false

        let headerSigned = signer.sign(request, payloadHash: payloadHash, sendPayloadHash: signBody, at: date)
        XCTAssertEqual(headerSigned.canonicalRequest, try file("header-canonical-request.txt"), "\(name): header canonical request")
        XCTAssertEqual(headerSigned.stringToSign, try file("header-string-to-sign.txt"), "\(name): header string to sign")
        XCTAssertEqual(headerSigned.signature, try file("header-signature.txt"), "\(name): header signature")
        let authorization = headerSigned.addedHeaders.first { $0.name == "Authorization" }?.value ?? ""
        XCTAssertTrue(authorization.hasSuffix("Signature=" + headerSigned.signature), name)

        let expires = try XCTUnwrap(context["expiration_in_seconds"] as? Int)
        let querySigned = signer.presign(request, expiresInSeconds: expires, payloadHash: payloadHash, at: date)
        XCTAssertEqual(querySigned.canonicalRequest, try file("query-canonical-request.txt"), "\(name): query canonical request")
        XCTAssertEqual(querySigned.stringToSign, try file("query-string-to-sign.txt"), "\(name): query string to sign")
        XCTAssertEqual(querySigned.signature, try file("query-signature.txt"), "\(name): query signature")
        XCTAssertTrue(querySigned.queryString.hasSuffix("&X-Amz-Signature=" + querySigned.signature), name)
    }

    /// request.txt: "METHOD PATH[?QUERY] HTTP/1.1", header lines (a line starting with
    /// whitespace continues the previous value; a repeated name is kept twice), a blank
    /// line, the body. The path may hold spaces and raw UTF-8; the query is percent-decoded
    /// here since the signer encodes.
    private func parseRequest(_ bytes: [UInt8]) throws -> (SigV4Signer.Request, [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let head: Substring, body: [UInt8]
        if let blank = text.range(of: "\n\n") {
            head = text[..<blank.lowerBound]
            body = Array(text[blank.upperBound...].utf8)
        } else {
            head = text[...]
            body = []
        }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let space = try XCTUnwrap(requestLine.firstIndex(of: " "))
        let method = String(requestLine[..<space])
        var target = String(requestLine[requestLine.index(after: space)...])
        XCTAssertTrue(target.hasSuffix(" HTTP/1.1"))
        target = String(target.dropLast(" HTTP/1.1".count))
        var path = target, query: [(name: String, value: String)] = []
        if let question = target.firstIndex(of: "?") {
            path = String(target[..<question])
            for pair in target[target.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                query.append((name, value))
            }
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", let last = headers.popLast() {
                headers.append((last.name, last.value + " " + line.trimmingCharacters(in: .whitespaces)))
                continue
            }
            let colon = try XCTUnwrap(line.firstIndex(of: ":"), line)
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return (SigV4Signer.Request(method: method, path: path, query: query, headers: headers), body)
    }

    /// The presigned GET example of the S3 documentation ("Authenticating Requests: Using
    /// Query Parameters").
    func testS3DocumentationPresignedGet() throws {
        let client = S3Client(configuration: S3Configuration(
            endpoint: "https://s3.amazonaws.com", bucket: "examplebucket", region: "us-east-1",
            credentials: S3Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            addressing: .virtualHost))
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z"))
        let url = client.presignedGetURL(key: "test.txt", expiresInSeconds: 86400, at: date, responseContentDisposition: nil)
        XCTAssertEqual(url, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// The header-signed GET example of the S3 documentation ("Example: GET Object", a
    /// Range header signed too).
    func testS3DocumentationHeaderSignedGet() throws {
        let signer = SigV4Signer(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                 secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: "2013-05-24T00:00:00Z"))
        let signed = signer.sign(SigV4Signer.Request(method: "GET", path: "/test.txt",
                                                     headers: [("Host", "examplebucket.s3.amazonaws.com"),
                                                               ("Range", "bytes=0-9")]),
                                 payloadHash: SigV4Signer.emptyPayloadHash, sendPayloadHash: true, at: date)
        XCTAssertEqual(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(signed.addedHeaders.last?.value,
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                       + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                       + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The same presigned GET from botocore (in the stack's venv, beside moto), at the same
    /// instant: same parameters, same signature.
    func testPresignedGetMatchesBotocore() throws {
        guard let python = ProcessInfo.processInfo.environment["MEDIA_TEST_PYTHON"] else {
            throw TestFailure("MEDIA_TEST_PYTHON is not set (run ./scripts/test)")
        }
        let script = """
            import datetime, sys
            from unittest import mock
            import botocore.session
            from botocore.config import Config
            client = botocore.session.get_session().create_client(
                "s3", region_name="auto", endpoint_url="http://127.0.0.1:9000", aws_access_key_id="AKIDEXAMPLE",
                aws_secret_access_key="secret/with+chars", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
            at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
            with mock.patch("botocore.auth.get_current_datetime", return_value=at):
                print(client.generate_presigned_url("get_object", ExpiresIn=900, Params={
                    "Bucket": "media", "Key": "a/b c+d.jpg", "ResponseContentDisposition": 'attachment; filename="x y.jpg"'}))
            """
        let result = try runProcess(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.text)
        let client = S3Client(configuration: S3Configuration(
            endpoint: "http://127.0.0.1:9000", bucket: "media", region: "auto",
            credentials: S3Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/with+chars")))
        let ours = client.presignedGetURL(key: "a/b c+d.jpg", expiresInSeconds: 900,
                                          at: Date(timeIntervalSince1970: 1_767_323_045),
                                          responseContentDisposition: "attachment; filename=\"x y.jpg\"")
        func parts(_ url: String) -> (String, Set<String>) {
            let split = url.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "?", maxSplits: 1)
            return (String(split.first ?? ""), Set((split.last ?? "").split(separator: "&").map(String.init)))
        }
        let (theirBase, theirQuery) = parts(result.text), (ourBase, ourQuery) = parts(ours)
        XCTAssertEqual(ourBase, theirBase)
        XCTAssertEqual(ourQuery, theirQuery)
        XCTAssertTrue(ourQuery.contains { $0.hasPrefix("X-Amz-Signature=") })
    }

    func testPathSegmentsAreEncodedOnceAndQueryIsSorted() {
        XCTAssertEqual(SigV4Signer.encodePath("/bucket/a b/ü+~x.jpg"), "/bucket/a%20b/%C3%BC%2B~x.jpg")
        XCTAssertEqual(SigV4Signer.encodePath("/bucket/a%20b"), "/bucket/a%2520b")
        XCTAssertEqual(SigV4Signer.canonicalQuery([("prefix", "a/b c"), ("list-type", "2"), ("b", "2"), ("b", "1")]),
                       "b=1&b=2&list-type=2&prefix=a%2Fb%20c")
    }
}
