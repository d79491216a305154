import Foundation

/// The decoders of S3's XML answers. Public so the fuzz target (media-fuzz s3xml) reaches
/// them; like the reader they throw on anything unexpected and never trap.
public enum S3Responses {
    public struct ListPage: Sendable {
        public let objects: [S3Object]
        public let commonPrefixes: [String]
        /// nil when this is the last page.
        public let nextContinuationToken: String?
    }

    public struct UploadsPage: Sendable {
        public let uploads: [S3MultipartUpload]
        /// nil when this is the last page.
        public let next: (keyMarker: String, uploadIdMarker: String)?
    }

    public struct ErrorAnswer: Sendable, Equatable {
        public let code: String
        public let message: String
    }

    /// ListObjectsV2's ListBucketResult.
    public static func listPage(_ body: [UInt8]) throws -> ListPage {
        let root = try document(body, root: "ListBucketResult")
        var objects: [S3Object] = []
        for item in root.children("Contents") {
            guard let key = item.value("Key") else { throw S3XMLError(description: "Contents without a Key") }
            guard let size = item.value("Size").flatMap({ Int64($0) }), size >= 0 else {
                throw S3XMLError(description: "Contents without a valid Size")
            }
            objects.append(S3Object(key: key, size: size, eTag: item.value("ETag"),
                                    lastModified: item.value("LastModified").flatMap(S3Dates.iso8601)))
        }
        let prefixes = root.children("CommonPrefixes").compactMap { $0.value("Prefix") }
        let token = try nextMarker(root, truncatedBy: "NextContinuationToken")
        return ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: token)
    }

    /// ListMultipartUploadsResult.
    public static func uploadsPage(_ body: [UInt8]) throws -> UploadsPage {
        let root = try document(body, root: "ListMultipartUploadsResult")
        var uploads: [S3MultipartUpload] = []
        for item in root.children("Upload") {
            guard let key = item.value("Key"), let uploadId = item.value("UploadId"), !uploadId.isEmpty else {
                throw S3XMLError(description: "Upload without Key or UploadId")
            }
            uploads.append(S3MultipartUpload(key: key, uploadId: uploadId,
                                             initiated: item.value("Initiated").flatMap(S3Dates.iso8601)))
        }
        guard let keyMarker = try nextMarker(root, truncatedBy: "NextKeyMarker") else {
            return UploadsPage(uploads: uploads, next: nil)
        }
        return UploadsPage(uploads: uploads, next: (keyMarker, root.value("NextUploadIdMarker") ?? ""))
    }

    /// InitiateMultipartUploadResult's UploadId.
    public static func uploadId(_ body: [UInt8]) throws -> String {
        guard let id = try document(body, root: "InitiateMultipartUploadResult").value("UploadId"), !id.isEmpty else {
            throw S3XMLError(description: "InitiateMultipartUploadResult without an UploadId")
        }
        return id
    }

    /// A 200 answer to CompleteMultipartUpload may still be an Error document (S3 sends the
    /// status before it has finished): that error, or nil on success.
    public static func completeError(_ body: [UInt8]) throws -> ErrorAnswer? {
        let root = try S3XMLReader.parse(body)
        if root.name == "Error" { return errorAnswer(root) }
        guard root.name == "CompleteMultipartUploadResult" else {
            throw S3XMLError(description: "unexpected \(root.name) answer to CompleteMultipartUpload")
        }
        return nil
    }

    /// DeleteResult: the keys that could not be deleted, with why.
    public static func deleteErrors(_ body: [UInt8]) throws -> [(key: String, error: ErrorAnswer)] {
        try document(body, root: "DeleteResult").children("Error").map { ($0.value("Key") ?? "", errorAnswer($0)) }
    }

    /// An error answer's Code and Message; nil when the body is not an Error document (HEAD
    /// answers have no body at all).
    public static func errorAnswer(_ body: [UInt8]) -> ErrorAnswer? {
        guard let root = try? S3XMLReader.parse(body), root.name == "Error" else { return nil }
        return errorAnswer(root)
    }

    private static func errorAnswer(_ element: S3XMLElement) -> ErrorAnswer {
        ErrorAnswer(code: element.value("Code") ?? "", message: element.value("Message") ?? "")
    }

    private static func document(_ body: [UInt8], root name: String) throws -> S3XMLElement {
        let root = try S3XMLReader.parse(body)
        guard root.name == name else { throw S3XMLError(description: "expected \(name), got \(root.name)") }
        return root
    }

    /// The marker of the next page when IsTruncated is true; a truncated page without one
    /// would make the caller loop for ever, so it is an error.
    private static func nextMarker(_ root: S3XMLElement, truncatedBy name: String) throws -> String? {
        guard root.value("IsTruncated") == "true" else { return nil }
        guard let marker = root.value(name), !marker.isEmpty else {
            throw S3XMLError(description: "a truncated listing without \(name)")
        }
        return marker
    }
}

/// The two date forms S3 sends, parsed by hand so that no input can trap.
enum S3Dates {
    /// "2009-10-12T17:50:30.000Z" (listings).
    static func iso8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"),
              bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
              let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2), let second = number(bytes, 17, 2)
        else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count <= 30, let digits = number(bytes, 20, bytes.count - 21) else {
                return nil
            }
            fraction = Double(digits) / pow(10, Double(bytes.count - 21))
        }
        return date(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            .map { $0.addingTimeInterval(fraction) }
    }

    /// "Wed, 12 Oct 2009 17:50:00 GMT" (Last-Modified header, RFC 7231 IMF-fixdate).
    static func http(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]),
              let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]) else {
            return nil
        }
        return date(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard count > 0, start >= 0, start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<(start + count)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Days from the civil date (Howard Hinnant's algorithm); fields range-checked first,
    /// so the arithmetic cannot overflow.
    private static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
