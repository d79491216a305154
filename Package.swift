// swift-tools-version:6.0
import PackageDescription

// Layers, bottom up: C bridges → FastCGI / MariaDB / Imaging / Video → Media (domain) → MediaAPI (HTTP)
// → media-server.
let package = Package(
    name: "media-server",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "media-server", targets: ["media-server"]),
        .executable(name: "media-bench", targets: ["media-bench"]),
    ],
    targets: [
        // C bridges. CFastCGI and CVips are small C targets because Swift cannot call
        // variadic C functions or install async-signal-safe handlers itself.
        .target(name: "CFastCGI", linkerSettings: [.linkedLibrary("fcgi")]),
        // fork/exec for ffprobe and ffmpeg: the child must be set up between the two.
        .target(name: "CChildProcess"),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb",
                       providers: [.apt(["libmariadb-dev"])]),
        // CVips opens libvips with dlopen at the first image instead of linking it (a worker that
        // only reads maps none of its ~130 libraries), so it takes libvips' headers (libvips-dev)
        // without pkg-config's link flags: vips.h needs GLib's include directories.
        .target(name: "CVips", cSettings: [.unsafeFlags(["-I/usr/include/glib-2.0",
                                                         "-I/usr/lib/x86_64-linux-gnu/glib-2.0/include",
                                                         "-I/usr/lib/aarch64-linux-gnu/glib-2.0/include"])],
                linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // XXH3: the fingerprint of every row a library page or owner read saw (ReadDigest).
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        // zlib: the header scan counts what a compressed PNG text chunk inflates to.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ServerLog"),
        .target(name: "Hashing", dependencies: ["CCrypto"]),
        .target(name: "FastCGI", dependencies: ["CFastCGI", "CChildProcess", "ServerLog"]),
        // Object storage (R2, S3, moto in the tests): SigV4 and a synchronous URLSession client.
        .target(name: "S3", dependencies: ["Hashing"]),

        .target(name: "MariaDB", dependencies: ["CMariaDB", "CXXHash"]),
        .target(name: "Imaging", dependencies: ["CVips", "CZlib", "ServerLog"]),
        // Video analysis and posters with ffprobe/ffmpeg as child processes.
        .target(name: "Video", dependencies: ["CChildProcess"]),
        .target(name: "Media", dependencies: ["MariaDB", "Imaging", "Video", "Hashing", "S3", "ServerLog"]),
        // openapi.yaml is the API contract (served by nginx as JSON, checked by the tests).
        .target(name: "MediaAPI", dependencies: ["FastCGI", "Media", "Hashing", "ServerLog"], exclude: ["openapi.yaml"]),
        .executableTarget(name: "media-server", dependencies: ["MediaAPI", "FastCGI", "Media", "MariaDB", "Imaging", "Video", "S3",
                                                              "ServerLog"]),
        // The parsers as fuzz targets (scripts/fuzz-parsers); built plainly, it replays inputs.
        .executableTarget(name: "media-fuzz", dependencies: ["MediaAPI", "Media", "MariaDB", "FastCGI", "Hashing",
                                                            "Imaging", "Video", "S3"]),
        // Benchmarks only (scripts/bench): in-process timings beside their CLI baselines.
        .executableTarget(name: "media-bench", dependencies: ["Imaging", "Media", "S3", "Video"]),

        .target(name: "TestSupport", dependencies: ["MariaDB", "S3"], path: "Tests/TestSupport"),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "Hashing", "TestSupport"]),
        .testTarget(name: "MariaDBTests", dependencies: ["MariaDB", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "VideoTests", dependencies: ["Video", "TestSupport"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "MariaDB", "Imaging", "TestSupport"]),
        .testTarget(name: "S3Tests", dependencies: ["S3", "TestSupport"], exclude: ["SigV4Vectors"]),
        .testTarget(name: "MediaAPITests", dependencies: ["MediaAPI", "Media", "MariaDB", "FastCGI", "Imaging", "Hashing",
                                                          "S3", "ServerLog", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
