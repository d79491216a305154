import FastCGI
import Foundation
import Hashing
import Imaging
import MariaDB
import Media
import MediaAPI
import S3
import Video

/// The parsers a request's bytes reach, each as a function of arbitrary input. A target
/// may throw (that is the parser refusing); it must never trap, hang or leak.
enum ParserTarget: String, CaseIterable {
    case cursor, multipart, json, jwt, query, owners, sniffer, metadata, container, ffprobe, s3xml

    func run(_ input: [UInt8]) {
        switch self {
        case .cursor: Self.cursor(input)
        case .multipart: Self.multipart(input)
        case .json: Self.json(input)
        case .jwt: Self.jwt(input)
        case .query: Self.query(input)
        case .owners: Self.owners(input)
        case .sniffer: Self.sniffer(input)
        case .metadata: Self.metadata(input)
        case .container: Self.container(input)
        case .ffprobe: Self.ffprobe(input)
        case .s3xml: Self.s3xml(input)
        }
    }

    /// An object store's answer body, through the XML reader and every decoder of S3Client.
    static func s3xml(_ input: [UInt8]) {
        _ = try? S3XMLReader.parse(input)
        _ = try? S3Responses.listPage(input)
        _ = try? S3Responses.uploadsPage(input)
        _ = try? S3Responses.uploadId(input)
        _ = try? S3Responses.completeError(input)
        _ = try? S3Responses.deleteErrors(input)
        _ = S3Responses.errorAnswer(input)
    }

    /// An upload's first bytes, as the type sniffer sees them.
    static func sniffer(_ input: [UInt8]) {
        _ = MediaTypeSniffer.detect(prefix: Array(input.prefix(MediaTypeSniffer.prefixLength)))
    }

    /// A whole image through the header scans: the first byte picks the format it is read
    /// as, the rest is the file, scanned for metadata under a small limit and under the
    /// default one, and for the WebP chunk that decides how it decodes.
    static func metadata(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let format = ImageFormat.allCases[Int(selector) % ImageFormat.allCases.count]
        let file = ScanInput.bytes(Array(input.dropFirst()))
        if format == .webp { _ = try? DecodeFootprint.decodesWholeWebPCanvas(file) }
        for limit in [4096, 1 << 20] {
            guard let found = try? MetadataScan.measure(file, format: format, limit: limit) else { continue }
            precondition(found <= limit, "a scan within the limit answered \(found)")
        }
    }

    /// A whole uploaded file through the container layout check, read as both families.
    static func container(_ input: [UInt8]) {
        guard FileManager.default.createFile(atPath: scratchFile, contents: Data(input)) else { return }
        for family in [ContainerFamily.isoMedia, .matroska] {
            try? ContainerLayout.check(path: scratchFile, family: family, prefix: Array(input.prefix(512)))
        }
    }

    static let scratchFile = NSTemporaryDirectory() + "media-fuzz-container-\(getpid())"

    /// ffprobe's JSON about a hostile file: what ffprobe prints is shaped by the upload.
    static func ffprobe(_ input: [UInt8]) {
        guard let analysis = try? VideoAnalyzer.analysis(ffprobeJSON: input) else { return }
        precondition(analysis.width > 0 && analysis.height > 0 && [0, 90, 180, 270].contains(analysis.rotation))
    }

    /// A library or jobs cursor: parsed, and a parsed one must round-trip.
    static func cursor(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        guard let cursor = LibraryCursor(token: text) else { return }
        let milliseconds = (cursor.createdAt.timeIntervalSince1970 * 1000).rounded()
        precondition(Int64(exactly: milliseconds).map(DateTimeRange.milliseconds.contains) == true,
                     "cursor date outside DATETIME(3)")
        precondition(LibraryCursor(token: cursor.token) == cursor, "cursor does not round-trip")
    }

    /// An upload body: the first line is the Content-Type header, the rest the body.
    static func multipart(_ input: [UInt8]) {
        let newline = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
        let contentType = String(decoding: input[..<newline], as: UTF8.self)
        let body = Array(input[min(newline + 1, input.endIndex)...])
        guard let parser = try? MultipartParser(contentType: contentType,
                                                limits: MultipartLimits(maxFieldBytes: 4096, maxFields: 8,
                                                                        maxHeaderBytes: 1024, bufferSize: 64)) else { return }
        var sink = CountingSink(limit: 1 << 16)
        guard let form = try? parser.parse(RequestBody(bytes: body), into: &sink) else { return }
        _ = try? MediaRoutes.tags(formField: form.fields["tags"])
        _ = try? MediaRoutes.attachTarget(form.fields)
        precondition(form.files.reduce(0) { $0 + $1.byteCount } == sink.bytes, "file bytes miscounted")
    }

    /// Every JSON body a route decodes, and the domain rules its values then meet.
    static func json(_ input: [UInt8]) {
        guard let body = try? JSONBody(parsing: input) else { return }
        if let attach = try? AttachmentRoutes.AttachBody(body) { _ = attach.target }
        _ = try? AttachmentRoutes.UpdateBody(body)
        _ = try? AttachmentRoutes.OrderBody(body)
        if let changes = try? MediaRoutes.changes(body) {
            _ = try? changes.title.map { try AssetDetails.title($0) }
            _ = try? changes.description.map { try AssetDetails.description($0) }
            _ = try? changes.tags.map { try $0.map(AssetDetails.tags) }
        }
        if let order = try? GenerationRoutes.order(body) {
            _ = try? GenerationParameters.validated(width: order.width, height: order.height, seed: order.seed,
                                                    quality: order.quality, style: order.style)
        }
    }

    static let jwtSecret = Array("fuzzing-secret-of-at-least-32-bytes!".utf8)

    /// A bearer token. An odd first byte makes the rest `header NUL payload`, encoded and
    /// signed with the right key, so the claims checks are reached too.
    static func jwt(_ input: [UInt8]) {
        let identity = Identity(mode: .jwt, jwtSecret: jwtSecret)
        guard let first = input.first else { return }
        let rest = Array(input.dropFirst())
        guard first & 1 == 1 else {
            _ = identity.bearerSubject("Bearer " + String(decoding: rest, as: UTF8.self))
            return
        }
        let split = rest.firstIndex(of: 0) ?? rest.endIndex
        let signed = Base64URL.encode(Array(rest[..<split])) + "." + Base64URL.encode(Array(rest[min(split + 1, rest.endIndex)...]))
        let signature = Base64URL.encode(HMACSHA256.authenticationCode(key: jwtSecret, message: Array(signed.utf8)))
        _ = identity.bearerSubject("Bearer " + signed + "." + signature)
    }

    /// A query string and a path, as the library and jobs routes read them.
    static func query(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let request = HTTPRequest(FastCGIRequest(params: ["QUERY_STRING": text, "DOCUMENT_URI": "/api/media"],
                                                 body: RequestBody(bytes: [])))
        _ = try? request.pageLimit(fallback: 50, maximum: 100)
        _ = try? request.pageCursor()
        for (name, values) in request.query {
            for value in values {
                _ = try? HTTPRequest.enumValue(value, name, code: "x") as MediaType
                _ = try? HTTPRequest.enumValue(value, name, code: "x") as MediaJobStatus
                _ = try? HTTPRequest.enumValue(value, name, code: "x") as MediaRole
            }
        }
        _ = try? router.match(method: "GET", path: "/api/" + text)
        // Foundation's decoding is the reference the service's own must agree with.
        precondition(PercentDecoding.decode(Substring(text)) == text.removingPercentEncoding,
                     "percent-decoding differs from Foundation's")
    }

    nonisolated(unsafe) static let router: Router = {
        var router = Router()
        for path in ["/api/media/:id", "/api/media/jobs", "/api/media/jobs/:id", "/api/owners/:ownerType/media",
                     "/api/owners/:ownerType/:ownerId/media", "/api/media/:id/attach"] {
            router.add("GET", path) { _ in HTTPResponse(status: 200) }
        }
        return router
    }()

    /// An owners file (MEDIA_OWNERS_FILE), and the statements a valid one builds.
    static func owners(_ input: [UInt8]) {
        guard let registry = try? OwnersRegistry(data: Data(input), path: "fuzz") else { return }
        for type in MediaOwnerType.allCases {
            guard let (sql, arguments) = registry.statement(type, ownerIds: ["a", "b"], userId: "u") else { continue }
            precondition(sql.filter { $0 == "?" }.count == arguments.count, "placeholders and arguments differ")
        }
    }
}

/// A file part's bytes, counted and dropped.
struct CountingSink: FilePartSink {
    let limit: Int
    var bytes = 0

    mutating func begin(fieldName: String, filename: String, contentType: String?) throws {}
    mutating func write(_ buffer: UnsafeRawBufferPointer) throws {
        bytes += buffer.count
        if bytes > limit { throw CocoaError(.fileWriteOutOfSpace) }
    }
    mutating func end() throws {}
}
