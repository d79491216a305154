import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import S3
import XCTest

/// What is retried, and how S3's XML answers are read.
final class ResponseTests: XCTestCase {
    func testRetryClassification() {
        for (status, code) in [(503, "SlowDown"), (500, "InternalError"), (400, "RequestTimeout"), (503, ""),
                               (502, ""), (504, ""), (429, ""), (408, ""), (200, "InternalError"), (503, "ServiceUnavailable")] {
            XCTAssertEqual(RetryPolicy.verdict(status: status, code: code), .retry, "\(status) \(code)")
        }
        for (status, code) in [(403, "SignatureDoesNotMatch"), (403, "InvalidAccessKeyId"), (403, "AccessDenied"),
                               (404, "NoSuchBucket"), (400, "AuthorizationHeaderMalformed"), (301, "PermanentRedirect"),
                               (403, "RequestTimeTooSkewed"), (403, ""), (401, ""), (301, "")] {
            XCTAssertEqual(RetryPolicy.verdict(status: status, code: code), .configuration, "\(status) \(code)")
        }
        for (status, code) in [(404, "NoSuchKey"), (404, "NoSuchUpload"), (400, "EntityTooSmall"), (400, "InvalidPart"),
                               (400, "BadDigest"), (400, "XAmzContentSHA256Mismatch"), (412, "PreconditionFailed"), (404, "")] {
            XCTAssertEqual(RetryPolicy.verdict(status: status, code: code), .rejected, "\(status) \(code)")
        }
        for code in [URLError.Code.timedOut, .cannotConnectToHost, .networkConnectionLost, .cannotFindHost,
                     .dnsLookupFailed, .notConnectedToInternet, .badServerResponse] {
            XCTAssertEqual(RetryPolicy.verdict(transportError: URLError(code)), .retry, "\(code)")
        }
        for code in [URLError.Code.badURL, .unsupportedURL, .serverCertificateUntrusted, .serverCertificateHasUnknownRoot] {
            XCTAssertEqual(RetryPolicy.verdict(transportError: URLError(code)), .configuration, "\(code)")
        }
    }

    func testBackoffDoublesWithJitterAndIsCapped() {
        for attempt in 1...5 {
            let full = 0.2 * pow(2, Double(attempt - 1))
            for _ in 0..<20 {
                let delay = RetryPolicy.delay(afterAttempt: attempt, base: 0.2)
                XCTAssertGreaterThanOrEqual(delay, full * 0.5)
                XCTAssertLessThanOrEqual(delay, full)
            }
        }
        XCTAssertLessThanOrEqual(RetryPolicy.delay(afterAttempt: 60, base: 5), S3Configuration.maxBackoffSeconds)
    }

    func testListPage() throws {
        let page = try S3Responses.listPage(Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
              <Contents><Key>p/a &amp; &lt;b&gt;</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size></Contents>
              <Contents><Key><![CDATA[p/c]]></Key><Size>0</Size></Contents>
              <CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>
              <!-- a comment -->
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
            </ListBucketResult>
            """.utf8))
        XCTAssertEqual(page.objects, [
            S3Object(key: "p/a & <b>", size: 434_234, eTag: "\"fba9dede5f27731c9771645a39863328\"",
                     lastModified: Date(timeIntervalSince1970: 1_255_369_830)),
            S3Object(key: "p/c", size: 0, eTag: nil, lastModified: nil),
        ])
        XCTAssertEqual(page.commonPrefixes, ["p/d/"])
        XCTAssertEqual(page.nextContinuationToken, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    func testUploadsPageAndOtherAnswers() throws {
        let uploads = try S3Responses.uploadsPage(Array("""
            <ListMultipartUploadsResult><IsTruncated>false</IsTruncated>
            <Upload><Key>k</Key><UploadId>u1</UploadId><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
            </ListMultipartUploadsResult>
            """.utf8))
        XCTAssertEqual(uploads.uploads, [S3MultipartUpload(key: "k", uploadId: "u1",
                                                           initiated: Date(timeIntervalSince1970: 1_289_422_113))])
        XCTAssertNil(uploads.next)
        XCTAssertEqual(try S3Responses.uploadId(Array(
            "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUploadResult>".utf8)),
            "abc")
        XCTAssertEqual(S3Responses.errorAnswer(Array("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>".utf8)),
                       S3Responses.ErrorAnswer(code: "NoSuchKey", message: "gone"))
        XCTAssertNil(S3Responses.errorAnswer([]))
        XCTAssertEqual(try S3Responses.completeError(Array("<Error><Code>InternalError</Code></Error>".utf8))?.code, "InternalError")
        XCTAssertNil(try S3Responses.completeError(Array("<CompleteMultipartUploadResult/>".utf8)))
        XCTAssertEqual(S3Dates.http("Wed, 12 Oct 2009 17:50:00 GMT"), Date(timeIntervalSince1970: 1_255_369_800))
    }

    func testMalformedAnswersThrowInsteadOfTrapping() {
        let bad = ["", "<", "<a", "<a>", "</a>", "<a></b>", "<a>&bogus;</a>", "<a>&#xFFFFFFFFF;</a>", "<a>&#xD800;</a>",
                   "text", "<a/><b/>", "<!DOCTYPE a><a/>", "<a><![CDATA[x</a>", "<a b='>", "<?xml", "<!--",
                   String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)]
        for text in bad {
            XCTAssertThrowsError(try S3XMLReader.parse(Array(text.utf8)), text)
        }
        XCTAssertThrowsError(try S3Responses.listPage(Array(
            "<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999</Size></Contents></ListBucketResult>".utf8)))
        XCTAssertThrowsError(try S3Responses.listPage(Array(
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8)))
        XCTAssertNil(S3Dates.iso8601("2009-13-12T17:50:30.000Z"))
        XCTAssertNil(S3Dates.iso8601("99999-10-12T17:50:30Z"))
        XCTAssertNil(S3Dates.http("Wed, 12 Foo 2009 17:50:00 GMT"))
        XCTAssertNil(S3Dates.http("Wed, 99999999999999999999 Oct 2009 17:50:00 GMT"))
    }
}
