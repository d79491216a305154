// media-bench: in-process measurements that scripts/bench compares with command-line
// baselines on the same files in the same run. Not part of the service.
//
//   media-bench variants FILE ITERATIONS OUTDIR
//     makes the thumbnail and preview of FILE exactly as ingest does (inspect, two
//     libvips thumbnails, WebP with metadata removed) and writes both to OUTDIR, ITERATIONS
//     times; prints the mean milliseconds per iteration.
import Foundation
import Imaging

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 4, arguments[0] == "variants", let iterations = Int(arguments[2]), iterations > 0 else {
    FileHandle.standardError.write(Data("usage: media-bench variants FILE ITERATIONS OUTDIR\n".utf8))
    exit(64)
}
let file = arguments[1], directory = arguments[3]
do {
    // The pool's workers run libvips with one thread each; so does this.
    try Vips.initialize(concurrency: 1)
    let processor = ImageProcessor(maxPixels: 100_000_000)
    _ = try processor.makeDisplayVariants(from: file)  // warm-up: libraries loaded, caches filled
    let started = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations {
        let variants = try processor.makeDisplayVariants(from: file)
        try Data(variants.thumbnail.bytes).write(to: URL(fileURLWithPath: directory + "/thumbnail.webp"))
        try Data(variants.preview.bytes).write(to: URL(fileURLWithPath: directory + "/preview.webp"))
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
    print(String(format: "%.2f", elapsed / Double(iterations)))
} catch {
    FileHandle.standardError.write(Data("media-bench: \(error)\n".utf8))
    exit(1)
}
