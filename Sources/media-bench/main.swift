// media-bench: in-process measurements that scripts/bench compares with command-line
// baselines on the same files in the same run. Not part of the service.
//
//   media-bench variants FILE ITERATIONS OUTDIR
//     makes the thumbnail and preview of FILE exactly as ingest does (inspect, two
//     libvips thumbnails, WebP with metadata removed) and writes both to OUTDIR, ITERATIONS
//     times; prints the mean milliseconds per iteration.
//   media-bench video FILE ITERATIONS OUTDIR
//     what ingest does to a video upload once its bytes have arrived, minus the rows:
//     stage (copy and SHA-256, as from the request), layout check, ffprobe, limits,
//     poster frame with ffmpeg, the three variants; prints the mean milliseconds, then
//     the mean of each step on its own line ("stage+hash 40.1", …).
//   media-bench s3-put FILE ITERATIONS KEY
//     uploads FILE to KEY with the service's S3 client, ITERATIONS times (one PUT, or
//     multipart above MEDIA_R2_MULTIPART_THRESHOLD), to the bucket of the MEDIA_R2_*
//     variables; prints the mean milliseconds per upload.
import Foundation
import Imaging
import Media
import S3
import Video

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 4, ["variants", "video", "s3-put"].contains(arguments[0]), let iterations = Int(arguments[2]),
      iterations > 0 else {
    FileHandle.standardError.write(Data("usage: media-bench {variants|video|s3-put} FILE ITERATIONS {OUTDIR|KEY}\n".utf8))
    exit(64)
}
let file = arguments[1], directory = arguments[3]

/// Milliseconds per step of the video ingest, summed over the runs.
nonisolated(unsafe) var stepTotals: [(String, Double)] = []

func timed<T>(_ step: String, _ body: () throws -> T) rethrows -> T {
    let started = DispatchTime.now().uptimeNanoseconds
    defer {
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        if let index = stepTotals.firstIndex(where: { $0.0 == step }) { stepTotals[index].1 += milliseconds }
        else { stepTotals.append((step, milliseconds)) }
    }
    return try body()
}

/// The steps of a video ingest one by one, with the same calls VideoIngest makes.
func videoSteps(_ bytes: [UInt8], processor: ImageProcessor) throws {
    let staged = try timed("stage+hash") { () throws -> StagedFile in
        let staged = try StagedFile(directory: directory, limits: UploadLimits(imageBytes: 1 << 30, videoBytes: 4 << 30))
        try bytes.withUnsafeBytes { buffer in
            for start in stride(from: 0, to: buffer.count, by: 1 << 16) {
                try staged.append(UnsafeRawBufferPointer(rebasing: buffer[start..<min(start + (1 << 16), buffer.count)]))
            }
        }
        try staged.finish()
        return staged
    }
    let ingest = VideoIngest()
    let declared = try timed("layout") { try ContainerLayout.check(path: staged.path, family: .isoMedia, prefix: staged.prefix) }
    let analysis = try timed("ffprobe") { try ingest.analyzer.analyze(path: staged.path, family: .isoMedia) }
    let frame = staged.path + ".frame.tiff"
    defer { unlink(frame) }
    let first = VideoPreviewer.attempts(videoSeconds: declared ?? analysis.videoSeconds)[0]
    try timed("ffmpeg frame (ingest runs it beside ffprobe)") {
        try ingest.previewer.extractFrame(path: staged.path, family: .isoMedia, at: first, to: frame, timeout: 20)
    }
    _ = try timed("variants") { try processor.makeVariants(fromFrame: frame, [.poster, .thumbnail, .videoPreview]) }
}

/// One video ingest of `bytes`, staged in `directory`.
func ingestVideo(_ bytes: [UInt8], processor: ImageProcessor) throws {
    let staged = try StagedFile(directory: directory, limits: UploadLimits(imageBytes: 1 << 30, videoBytes: 4 << 30))
    try bytes.withUnsafeBytes { buffer in
        for start in stride(from: 0, to: buffer.count, by: 1 << 16) {
            try staged.append(UnsafeRawBufferPointer(rebasing: buffer[start..<min(start + (1 << 16), buffer.count)]))
        }
    }
    try staged.finish()
    guard case .video(let container) = staged.sniffedType else { throw CocoaError(.fileReadCorruptFile) }
    let processed = try VideoIngest().process(staged, container: container, processor: processor)
    for (kind, variant) in processed.variants {
        try Data(variant.bytes).write(to: URL(fileURLWithPath: directory + "/\(kind.rawValue).\(variant.format.fileExtension)"))
    }
}

/// The bucket of the MEDIA_R2_* variables (as the local stack's env file has them).
func bucketClient(_ environment: [String: String]) throws -> S3Client {
    guard let endpoint = environment["MEDIA_R2_ENDPOINT"], let bucket = environment["MEDIA_R2_BUCKET"],
          let keyId = environment["MEDIA_R2_ACCESS_KEY_ID"], let secret = environment["MEDIA_R2_SECRET_ACCESS_KEY"] else {
        throw CocoaError(.userCancelled, userInfo: [NSLocalizedDescriptionKey: "MEDIA_R2_* settings are missing"])
    }
    var configuration = S3Configuration(endpoint: endpoint, bucket: bucket, region: environment["MEDIA_R2_REGION"] ?? "auto",
                                        credentials: S3Credentials(accessKeyId: keyId, secretAccessKey: secret))
    if let threshold = environment["MEDIA_R2_MULTIPART_THRESHOLD"].flatMap(Int64.init) { configuration.multipartThreshold = threshold }
    if let partSize = environment["MEDIA_R2_PART_SIZE"].flatMap(Int64.init) { configuration.partSize = partSize }
    if let lanes = environment["MEDIA_R2_PART_CONCURRENCY"].flatMap(Int.init) { configuration.partConcurrency = lanes }
    return S3Client(configuration: configuration)
}

do {
    // The pool's workers run libvips with one thread each; so does this.
    try Vips.initialize(concurrency: 1)
    let processor = ImageProcessor(maxPixels: 100_000_000)
    let run: () throws -> Void
    if arguments[0] == "s3-put" {
        let client = try bucketClient(ProcessInfo.processInfo.environment)
        run = { try client.putObject(key: directory, fileAt: file, contentType: "application/octet-stream", sha256Hex: nil) }
    } else if arguments[0] == "video" {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        run = { try ingestVideo(bytes, processor: processor) }
    } else {
        run = {
            let variants = try processor.makeDisplayVariants(from: file)
            try Data(variants.thumbnail.bytes).write(to: URL(fileURLWithPath: directory + "/thumbnail.webp"))
            try Data(variants.preview.bytes).write(to: URL(fileURLWithPath: directory + "/preview.webp"))
        }
    }
    try run()  // warm-up: libraries loaded, caches filled
    let started = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { try run() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
    print(String(format: "%.2f", elapsed / Double(iterations)))
    if arguments[0] == "video", let bytes = try? [UInt8](Data(contentsOf: URL(fileURLWithPath: file))) {
        for _ in 0..<iterations { try videoSteps(bytes, processor: processor) }
        for (step, total) in stepTotals { print(step, String(format: "%.1f", total / Double(iterations))) }
    }
} catch {
    FileHandle.standardError.write(Data("media-bench: \(error)\n".utf8))
    exit(1)
}
