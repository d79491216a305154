#if canImport(Glibc)
import Glibc
#endif
import FastCGI
import MariaDB
import MediaAPI
import Media
import S3
import Video

/// Every setting of the service, read from `MEDIA_*` variables (and `DATABASE_URL`) and
/// validated at start: a bad value stops the process with one line per problem.
struct ServiceConfiguration: Sendable {
    var listen: ListenAddress
    var socketMode: mode_t
    var backlog: Int32
    var workers: Int
    var maxRequests: Int
    var requestTimeoutMilliseconds: Int64
    var slowRequestMilliseconds: Int64
    var stopTimeoutMilliseconds: Int64
    var debugEndpoints: Bool
    var auth: Identity.Mode
    var jwtSecret: [UInt8]
    var database: ConnectionConfiguration
    var statementCacheSize: Int
    /// Bytes of rendered library pages and owner media a worker keeps (0: none).
    var renderedResponseBytes: Int
    var storageRoot: String
    var baseURL: String
    var origin: Origin
    /// The bucket's settings: with MEDIA_ORIGIN=r2, or for `storage copy` whenever MEDIA_R2_ENDPOINT is set.
    var bucket: S3Configuration?
    var delivery: Delivery
    var signedURLTTLSeconds: Int64
    var signingSecret: String
    var maxUploadBytes: Int64
    var maxPixels: Int
    var maxMetadataBytes: Int
    var maxDecodeBytes: Int
    var userQuotaBytes: Int64?
    var generationLimits: GenerationLimits
    var video: VideoIngest
    var generationProvider: String
    var generationConcurrency: Int
    var generationMaxAttempts: Int
    var generationStaleAfterMilliseconds: Int64
    var openAIBaseURL: String
    var openAIKey: String
    var openAIModel: String
    var openAITimeoutMilliseconds: Int64
    var openAIMaxAttempts: Int
    var openAIBackoffMilliseconds: Int64
    var debugGenerationPauseMilliseconds: Int64
    /// Loaded by the commands that need it (serve validates it at start).
    var ownersFile: String

    /// One line per variable for `--help`: name, default, meaning.
    static let variables: [(name: String, defaultValue: String, meaning: String)] = [
        ("DATABASE_URL", "(required)", "mysql://user:password@host:port/database[?socket=/path], as Prisma reads it"),
        ("MEDIA_STATEMENT_CACHE", "256", "prepared statements kept open per database connection (least recently used closed first)"),
        ("MEDIA_RENDERED_RESPONSES", "8m", "bytes (512k, 8m, 1g…) of rendered library pages and owner media a worker keeps, sent again for exactly the same rows (0: none)"),
        ("MEDIA_SOCKET", "/run/media-server/media.sock", "unix socket path, or tcp:127.0.0.1:PORT"),
        ("MEDIA_SOCKET_MODE", "0660", "permissions of the unix socket (octal)"),
        ("MEDIA_SOCKET_BACKLOG", "511", "listen backlog"),
        ("MEDIA_WORKERS", "2 x cores", "worker processes in the pool (each waits on the database for part of every request)"),
        ("MEDIA_MAX_REQUESTS", "10000", "requests a worker serves before it is recycled (0: never)"),
        ("MEDIA_REQUEST_TIMEOUT", "60s", "per-request time limit, below nginx fastcgi_read_timeout (120s); the worker is killed and replaced (0: none)"),
        ("MEDIA_SLOW_REQUEST", "5s", "requests slower than this count as slow in the status report"),
        ("MEDIA_STOP_TIMEOUT", "30s", "how long a graceful stop waits for in-flight requests"),
        ("MEDIA_AUTH", "nginx", "identity: nginx (MEDIA_USER_ID param), jwt (HS256 bearer), dev (X-User-Id header)"),
        ("MEDIA_JWT_SECRET", "(required with MEDIA_AUTH=jwt)", "HS256 key of the bearer tokens, at least 32 bytes"),
        ("MEDIA_OWNERS_FILE", "/etc/media-server/owners.json", "owners registry: one SQL query per owner type against the host tables (see prisma-compat/owners.json)"),
        ("MEDIA_STORAGE_ROOT", "/var/lib/media-server/uploads", "absolute folder of the local origin storage (nginx serves it at /uploads/)"),
        ("MEDIA_BASE_URL", "/uploads (required with MEDIA_ORIGIN=r2 and public delivery)", "URL prefix of stored files in responses: nginx's /uploads, or the bucket's public domain or CDN in front of it"),
        ("MEDIA_ORIGIN", "local", "where objects are stored: local (MEDIA_STORAGE_ROOT, served by nginx) or r2 (an S3-compatible bucket)"),
        ("MEDIA_R2_ENDPOINT", "(required with MEDIA_ORIGIN=r2)", "S3 API endpoint, e.g. https://ACCOUNT.r2.cloudflarestorage.com"),
        ("MEDIA_R2_BUCKET", "(required with MEDIA_ORIGIN=r2)", "bucket name (3-63 of a-z 0-9 . -)"),
        ("MEDIA_R2_ACCESS_KEY_ID", "(required with MEDIA_ORIGIN=r2)", "access key id of an API token with read and write access to the bucket"),
        ("MEDIA_R2_SECRET_ACCESS_KEY", "(required with MEDIA_ORIGIN=r2)", "its secret access key"),
        ("MEDIA_R2_REGION", "auto", "signing region (R2: auto)"),
        ("MEDIA_R2_ADDRESSING", "path", "path (endpoint/bucket/key) or virtual-host (bucket.endpoint/key)"),
        ("MEDIA_R2_TIMEOUT", "30s", "per S3 request without progress; then it is retried"),
        ("MEDIA_R2_MAX_ATTEMPTS", "4", "tries per S3 request on 5xx, SlowDown, timeouts and connection failures"),
        ("MEDIA_R2_BACKOFF", "200ms", "first retry delay, doubled each retry (with jitter)"),
        ("MEDIA_R2_MULTIPART_THRESHOLD", "64m", "files larger than this are uploaded in parts (multipart upload)"),
        ("MEDIA_R2_PART_SIZE", "16m", "size of one part (at least 5m)"),
        ("MEDIA_R2_PART_CONCURRENCY", "4", "parts of one upload sent at once; memory per upload is about this many parts"),
        ("MEDIA_DELIVERY", "public", "public (MEDIA_BASE_URL + key) or signed (expiring URLs: nginx secure_link for local, presigned GET for r2)"),
        ("MEDIA_SIGNED_URL_TTL", "1h", "how long a signed URL stays valid (expiry is rounded up to a quarter of it, so URLs repeat)"),
        ("MEDIA_SIGNING_SECRET", "(required with local signed delivery)", "nginx secure_link secret: at least 16 of A-Z a-z 0-9 - _ (the same string in nginx's media-delivery.conf)"),
        ("MEDIA_MAX_UPLOAD_BYTES", "100m", "largest accepted file (bytes, or with k/m/g); keep nginx client_max_body_size ~10% above"),
        ("MEDIA_MAX_PIXELS", "100000000", "largest accepted image, width × height × pages, checked from the header before decoding"),
        ("MEDIA_MAX_METADATA_BYTES", "1m", "largest metadata of one image (text chunks as inflated, EXIF, XMP, ICC, comments), checked from the header before decoding"),
        ("MEDIA_MAX_DECODE_BYTES", "60m", "most memory making one image's variants may hold, estimated from its header (progressive JPEG, interlaced PNG, GIF, lossless WebP and HEIC decode whole); keeps a worker's peak within 64 MiB of idle"),
        ("MEDIA_USER_QUOTA_BYTES", "off", "bytes of originals one user may store (bytes, or with k/m/g; off: no quota)"),
        ("MEDIA_MAX_VIDEO_BYTES", "2g", "largest accepted video file (bytes, or with k/m/g); nginx client_max_body_size of the upload location follows the larger limit"),
        ("MEDIA_MAX_VIDEO_SECONDS", "4h", "longest accepted video (seconds, or with ms/s/m/h), from the container's duration"),
        ("MEDIA_MAX_VIDEO_FRAME", "8192x8192", "largest accepted video frame, WIDTHxHEIGHT as displayed (either orientation)"),
        ("MEDIA_MAX_VIDEO_STREAMS", "16", "most streams (video, audio, subtitles, data, attachments) in one video file"),
        ("MEDIA_VIDEO_PROBE_TIMEOUT", "15s", "time limit of one ffprobe run; then it is killed and the upload refused (default: at most 1/4 of MEDIA_REQUEST_TIMEOUT)"),
        ("MEDIA_VIDEO_POSTER_TIMEOUT", "20s", "time limit of the ffmpeg poster-frame runs of one upload together (default: at most 1/3 of MEDIA_REQUEST_TIMEOUT); set, the two must sum below it"),
        ("MEDIA_FFPROBE", "/usr/bin/ffprobe", "absolute path of ffprobe"),
        ("MEDIA_FFMPEG", "/usr/bin/ffmpeg", "absolute path of ffmpeg"),
        ("MEDIA_GENERATION_PROVIDER", "procedural", "image generator: procedural (offline, development) or openai (any OpenAI images API server)"),
        ("MEDIA_GENERATION_CONCURRENCY", "2", "generation jobs running at once, across every host sharing the database"),
        ("MEDIA_GENERATION_MAX_QUEUED", "10", "generation jobs one user may have queued or running at once (0: no limit)"),
        ("MEDIA_GENERATION_PER_HOUR", "60", "generation jobs one user may start per hour (0: no limit)"),
        ("MEDIA_GENERATION_MAX_ATTEMPTS", "3", "runs of one job before it fails (a worker dying mid-job costs one)"),
        ("MEDIA_GENERATION_STALE_AFTER", "30s", "a running job whose heartbeat is older belongs to a dead worker and is reclaimed"),
        ("MEDIA_OPENAI_BASE_URL", "https://api.openai.com", "base URL of the OpenAI-compatible images API"),
        ("MEDIA_OPENAI_API_KEY", "(none)", "bearer key for the images API"),
        ("MEDIA_OPENAI_MODEL", "gpt-image-1", "model name sent to the images API"),
        ("MEDIA_OPENAI_TIMEOUT", "120s", "per HTTP request to the images API"),
        ("MEDIA_OPENAI_MAX_ATTEMPTS", "4", "tries per job on 429/5xx/timeouts/connection failures"),
        ("MEDIA_OPENAI_BACKOFF", "1s", "first retry delay, doubled each retry (Retry-After wins, capped at 30s)"),
        ("MEDIA_DEBUG_GENERATION_PAUSE", "0", "tests only (with MEDIA_DEBUG_ENDPOINTS=1): pause after the provider's bytes are saved"),
        ("MEDIA_DEBUG_ENDPOINTS", "0", "1 enables /api/media/_debug/* (tests only: sleep, echo, bytes)"),
    ]

    struct Invalid: Error, CustomStringConvertible {
        let problems: [String]
        var description: String { problems.joined(separator: "\n") }
    }

    init(environment: [String: String]) throws {
        var reader = EnvironmentReader(environment: environment)
        listen = reader.value("MEDIA_SOCKET", default: ListenAddress.unix(path: "/run/media-server/media.sock")) {
            try? ListenAddress(parsing: $0)
        }
        socketMode = reader.value("MEDIA_SOCKET_MODE", default: 0o660) {
            guard let mode = mode_t($0, radix: 8), mode <= 0o777 else { return nil }
            return mode
        }
        backlog = reader.integer("MEDIA_SOCKET_BACKLOG", default: 511, range: 1...65535).map(Int32.init) ?? 511
        // Twice the cores: a worker spends part of each request waiting on MariaDB. On 2
        // cores 4 workers served the library page fastest in 3 of 5 sweeps (by up to a
        // third), 8 never (scripts/bench list prints the sweep).
        workers = reader.integer("MEDIA_WORKERS", default: 2 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                                 range: 1...512) ?? 1
        maxRequests = reader.integer("MEDIA_MAX_REQUESTS", default: 10_000, range: 0...Int.max) ?? 0
        requestTimeoutMilliseconds = reader.duration("MEDIA_REQUEST_TIMEOUT", default: 60_000)
        slowRequestMilliseconds = reader.duration("MEDIA_SLOW_REQUEST", default: 5_000)
        stopTimeoutMilliseconds = reader.duration("MEDIA_STOP_TIMEOUT", default: 30_000)
        auth = reader.value("MEDIA_AUTH", default: .nginx) { Identity.Mode(rawValue: $0) }
        jwtSecret = Array((environment["MEDIA_JWT_SECRET"] ?? "").utf8)
        if auth == .jwt && jwtSecret.count < 32 {
            reader.problems.append("MEDIA_JWT_SECRET: required with MEDIA_AUTH=jwt, at least 32 bytes")
        }
        storageRoot = reader.value("MEDIA_STORAGE_ROOT", default: "/var/lib/media-server/uploads") { text in
            guard text.hasPrefix("/"), !text.split(separator: "/").contains("..") else { return nil }
            return text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        baseURL = reader.value("MEDIA_BASE_URL", default: "/uploads") { text in
            guard text.hasPrefix("/") || text.hasPrefix("http://") || text.hasPrefix("https://") else { return nil }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        origin = reader.value("MEDIA_ORIGIN", default: .local) { Origin(rawValue: $0) }
        bucket = nil
        if origin == .r2 || environment["MEDIA_R2_ENDPOINT"] != nil {
            bucket = Self.bucketSettings(&reader, environment: environment)
        }
        delivery = reader.value("MEDIA_DELIVERY", default: .public) { Delivery(rawValue: $0) }
        signedURLTTLSeconds = max(1, reader.duration("MEDIA_SIGNED_URL_TTL", default: 3_600_000) / 1000)
        // The TTL plus a quarter (the window) must stay within S3's 7-day presigned limit.
        if signedURLTTLSeconds > 5 * 86_400 {
            reader.problems.append("MEDIA_SIGNED_URL_TTL: at most 5 days (presigned URLs live at most 7)")
        }
        signingSecret = environment["MEDIA_SIGNING_SECRET"] ?? ""
        if delivery == .signed && origin == .local {
            let allowed = signingSecret.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
            if signingSecret.utf8.count < 16 || !allowed {
                reader.problems.append("MEDIA_SIGNING_SECRET: required with MEDIA_DELIVERY=signed and MEDIA_ORIGIN=local, "
                                       + "at least 16 of A-Z a-z 0-9 - _")
            }
        }
        if origin == .r2 && delivery == .public && !(environment["MEDIA_BASE_URL"] ?? "").hasPrefix("http") {
            reader.problems.append("MEDIA_BASE_URL: required with MEDIA_ORIGIN=r2 and MEDIA_DELIVERY=public: "
                                   + "the bucket's public domain or the CDN in front of it (https://...)")
        }
        maxUploadBytes = reader.byteCount("MEDIA_MAX_UPLOAD_BYTES", default: 100 * 1024 * 1024)
        maxPixels = reader.integer("MEDIA_MAX_PIXELS", default: 100_000_000, range: 1...Int(Int32.max) * 4) ?? 1
        maxMetadataBytes = Int(clamping: reader.byteCount("MEDIA_MAX_METADATA_BYTES", default: 1 << 20))
        maxDecodeBytes = Int(clamping: reader.byteCount("MEDIA_MAX_DECODE_BYTES", default: 60 << 20))
        userQuotaBytes = environment["MEDIA_USER_QUOTA_BYTES"] == "off" ? nil
            : reader.optionalByteCount("MEDIA_USER_QUOTA_BYTES")
        let defaults = VideoIngest.Limits()
        let frame = reader.value("MEDIA_MAX_VIDEO_FRAME", default: (defaults.maxWidth, defaults.maxHeight)) { text in
            let sides = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard sides.count == 2, let width = sides[0], let height = sides[1],
                  (16...65_536).contains(width), (16...65_536).contains(height) else { return nil }
            return (width, height)
        }
        let tool = { (text: String) in text.hasPrefix("/") && !text.split(separator: "/").contains("..") ? text : nil }
        // The tools must finish before the pool's time limit kills the worker mid-upload.
        // Defaults shrink to fit a short MEDIA_REQUEST_TIMEOUT; explicit values must fit.
        let defaultTools = VideoIngest()
        var probeSeconds = Double(reader.duration("MEDIA_VIDEO_PROBE_TIMEOUT",
                                                  default: Int64(defaultTools.analyzer.timeout * 1000))) / 1000
        var posterSeconds = Double(reader.duration("MEDIA_VIDEO_POSTER_TIMEOUT",
                                                   default: Int64(defaultTools.previewer.timeout * 1000))) / 1000
        if requestTimeoutMilliseconds > 0 {
            let request = Double(requestTimeoutMilliseconds) / 1000
            if ["MEDIA_VIDEO_PROBE_TIMEOUT", "MEDIA_VIDEO_POSTER_TIMEOUT"].contains(where: { environment[$0] != nil }) {
                if probeSeconds + posterSeconds >= request {
                    reader.problems.append("MEDIA_VIDEO_PROBE_TIMEOUT + MEDIA_VIDEO_POSTER_TIMEOUT: must stay below "
                                           + "MEDIA_REQUEST_TIMEOUT, which kills the worker mid-upload")
                }
            } else {
                (probeSeconds, posterSeconds) = (min(probeSeconds, request / 4), min(posterSeconds, request / 3))
            }
        }
        video = VideoIngest(
            limits: VideoIngest.Limits(
                maxBytes: reader.byteCount("MEDIA_MAX_VIDEO_BYTES", default: defaults.maxBytes),
                maxMilliseconds: reader.duration("MEDIA_MAX_VIDEO_SECONDS", default: defaults.maxMilliseconds),
                maxWidth: frame.0, maxHeight: frame.1,
                maxStreams: reader.integer("MEDIA_MAX_VIDEO_STREAMS", default: defaults.maxStreams, range: 1...1024)
                    ?? defaults.maxStreams),
            analyzer: VideoAnalyzer(ffprobe: reader.value("MEDIA_FFPROBE", default: defaultTools.analyzer.ffprobe, tool),
                                    timeout: probeSeconds),
            previewer: VideoPreviewer(ffmpeg: reader.value("MEDIA_FFMPEG", default: defaultTools.previewer.ffmpeg, tool),
                                      timeout: posterSeconds))
        ownersFile = reader.value("MEDIA_OWNERS_FILE", default: "/etc/media-server/owners.json") {
            $0.hasPrefix("/") ? $0 : nil
        }
        statementCacheSize = reader.integer("MEDIA_STATEMENT_CACHE", default: 256, range: 1...16_382) ?? 256
        renderedResponseBytes = Int(clamping: reader.byteCount("MEDIA_RENDERED_RESPONSES", default: 8 << 20, orOff: true))
        generationProvider = reader.value("MEDIA_GENERATION_PROVIDER", default: "procedural") {
            ["procedural", "openai"].contains($0) ? $0 : nil
        }
        generationConcurrency = reader.integer("MEDIA_GENERATION_CONCURRENCY", default: 2, range: 1...256) ?? 2
        generationLimits = GenerationLimits(
            maxQueued: reader.integer("MEDIA_GENERATION_MAX_QUEUED", default: 10, range: 0...100_000) ?? 10,
            perHour: reader.integer("MEDIA_GENERATION_PER_HOUR", default: 60, range: 0...1_000_000) ?? 60)
        generationMaxAttempts = reader.integer("MEDIA_GENERATION_MAX_ATTEMPTS", default: 3, range: 1...20) ?? 3
        generationStaleAfterMilliseconds = reader.duration("MEDIA_GENERATION_STALE_AFTER", default: 30_000)
        openAIBaseURL = reader.value("MEDIA_OPENAI_BASE_URL", default: "https://api.openai.com") {
            $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : nil
        }
        openAIKey = environment["MEDIA_OPENAI_API_KEY"] ?? ""
        openAIModel = reader.value("MEDIA_OPENAI_MODEL", default: "gpt-image-1") { $0 }
        openAITimeoutMilliseconds = reader.duration("MEDIA_OPENAI_TIMEOUT", default: 120_000)
        openAIMaxAttempts = reader.integer("MEDIA_OPENAI_MAX_ATTEMPTS", default: 4, range: 1...10) ?? 4
        openAIBackoffMilliseconds = reader.duration("MEDIA_OPENAI_BACKOFF", default: 1_000)
        debugGenerationPauseMilliseconds = reader.duration("MEDIA_DEBUG_GENERATION_PAUSE", default: 0)
        if generationStaleAfterMilliseconds < 2_000 {
            reader.problems.append("MEDIA_GENERATION_STALE_AFTER: at least 2s (heartbeats are a few seconds apart)")
        }
        debugEndpoints = reader.value("MEDIA_DEBUG_ENDPOINTS", default: false) {
            switch $0 { case "1", "true", "yes": return true; case "0", "false", "no": return false; default: return nil }
        }
        database = ConnectionConfiguration(user: "", password: "", database: "")
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            do {
                database = try ConnectionConfiguration(url: url)
            } catch {
                reader.problems.append("DATABASE_URL: \(error)")
            }
        } else {
            reader.problems.append("DATABASE_URL: required (mysql://user:password@host:port/database)")
        }
        if !reader.problems.isEmpty { throw Invalid(problems: reader.problems) }
    }
}

extension ServiceConfiguration {
    enum Origin: String, Sendable { case local, r2 }
    enum Delivery: String, Sendable { case `public`, signed }

    /// MEDIA_R2_*: every missing or bad one is a problem line.
    static func bucketSettings(_ reader: inout EnvironmentReader, environment: [String: String]) -> S3Configuration? {
        let required = { (reader: inout EnvironmentReader, name: String, valid: (String) -> Bool) -> String? in
            guard let text = environment[name], !text.isEmpty else {
                reader.problems.append("\(name): required with MEDIA_ORIGIN=r2")
                return nil
            }
            return reader.value(name, default: String?.none) { valid($0) ? $0 : nil }
        }
        let endpoint = required(&reader, "MEDIA_R2_ENDPOINT") { text in
            (text.hasPrefix("https://") || text.hasPrefix("http://")) && !text.contains("?") && !text.contains("#")
        }
        let bucket = required(&reader, "MEDIA_R2_BUCKET") { name in
            (3...63).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
            }
        }
        let keyId = required(&reader, "MEDIA_R2_ACCESS_KEY_ID") { !$0.contains(where: \.isWhitespace) }
        let secret = required(&reader, "MEDIA_R2_SECRET_ACCESS_KEY") { !$0.contains(where: \.isWhitespace) }
        let region = reader.value("MEDIA_R2_REGION", default: "auto") { text in
            text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") } ? text : nil
        }
        let addressing = reader.value("MEDIA_R2_ADDRESSING", default: S3Addressing.path) { S3Addressing(rawValue: $0) }
        let timeout = reader.duration("MEDIA_R2_TIMEOUT", default: 30_000)
        let attempts = reader.integer("MEDIA_R2_MAX_ATTEMPTS", default: 4, range: 1...20) ?? 4
        let backoff = reader.duration("MEDIA_R2_BACKOFF", default: 200)
        let threshold = reader.byteCount("MEDIA_R2_MULTIPART_THRESHOLD", default: 64 << 20)
        let partSize = reader.byteCount("MEDIA_R2_PART_SIZE", default: 16 << 20)
        let partConcurrency = reader.integer("MEDIA_R2_PART_CONCURRENCY", default: 4, range: 1...32) ?? 4
        // S3 refuses parts below 5 MiB (but the last) and more than 10,000 parts.
        if partSize < 5 << 20 || partSize > 5 << 30 {
            reader.problems.append("MEDIA_R2_PART_SIZE=\(environment["MEDIA_R2_PART_SIZE"] ?? ""): between 5m and 5g")
        }
        guard let endpoint, let bucket, let keyId, let secret else { return nil }
        return S3Configuration(
            endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint, bucket: bucket,
            region: region, credentials: S3Credentials(accessKeyId: keyId, secretAccessKey: secret),
            addressing: addressing, timeoutSeconds: Double(max(timeout, 100)) / 1000, maxAttempts: attempts,
            backoffSeconds: Double(backoff) / 1000, multipartThreshold: max(threshold, partSize), partSize: partSize,
            partConcurrency: partConcurrency)
    }
}

/// Reads variables, collecting one problem line per bad value instead of stopping at the first.
struct EnvironmentReader {
    let environment: [String: String]
    var problems: [String] = []

    mutating func value<T>(_ name: String, default fallback: T, _ parse: (String) -> T?) -> T {
        guard let text = environment[name], !text.isEmpty else { return fallback }
        guard let parsed = parse(text) else {
            let expected = ServiceConfiguration.variables.first { $0.name == name }?.meaning ?? "a valid value"
            problems.append("\(name)=\(text): invalid; expected \(expected)")
            return fallback
        }
        return parsed
    }

    mutating func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int? {
        value(name, default: fallback) { text in
            guard let number = Int(text), range.contains(number) else { return nil }
            return number
        }
    }

    /// `512k`, `100m`, `2g` or a bare number of bytes, above zero (or `0` where `orOff`).
    mutating func byteCount(_ name: String, default fallback: Int64, orOff: Bool = false) -> Int64 {
        value(name, default: fallback) { text in
            if orOff, text == "0" { return 0 }
            let scales: [Character: Int64] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024]
            let scale = text.last.flatMap { scales[Character($0.lowercased())] } ?? 1
            guard let number = Int64(scale == 1 ? Substring(text) : text.dropLast()), number > 0 else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
            return overflow ? nil : bytes
        }
    }

    /// A byte count (see `byteCount`), nil when the variable is unset.
    mutating func optionalByteCount(_ name: String) -> Int64? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        return byteCount(name, default: 0)
    }

    /// `250ms`, `30s`, `2m`, or a bare number of seconds; in milliseconds.
    mutating func duration(_ name: String, default fallback: Int64) -> Int64 {
        value(name, default: fallback) { text in
            let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
            for (suffix, scale) in units where text.hasSuffix(suffix) {
                guard let number = Int64(text.dropLast(suffix.count)), number >= 0 else { return nil }
                let (milliseconds, overflow) = number.multipliedReportingOverflow(by: scale)
                return overflow ? nil : milliseconds
            }
            guard let seconds = Int64(text), seconds >= 0 else { return nil }
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : milliseconds
        }
    }
}
