import CVips
import Foundation
import ServerLog

/// The process's libvips runtime. libvips keeps global state (thread pool, error buffer,
/// blocked loaders), so it is started once per process, before any image is touched. It
/// is not linked: starting it opens the library (CVips' library.h says why).
public enum Vips {
    /// Opens and starts libvips for untrusted input: blocks untrusted loaders, disables the
    /// operation cache and sets the size of its thread pool. Safe to call from any
    /// thread and any number of times: the first call decides `concurrency`, later calls
    /// return (or rethrow) its result. `ImageProcessor` calls it with the default if the
    /// process has not.
    public static func initialize(concurrency: Int = 1) throws {
        try startup.run(concurrency: max(1, concurrency))
    }

    /// The libvips error buffer's text, taken (and cleared) right after a failure: the
    /// buffer is process-global, so a later failure on another thread would append to it.
    static func takeError() -> String {
        guard let text = media_vips_take_error() else { return "unknown libvips error" }
        defer { media_vips_free(text) }
        let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? "unknown libvips error" : message
    }

    private static let startup = Startup()

    /// The once-only start, under a lock so concurrent first callers wait for one result.
    private final class Startup: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Result<Void, ImagingError>?

        func run(concurrency: Int) throws {
            lock.lock()
            defer { lock.unlock() }
            if outcome == nil {
                let argv0 = CommandLine.arguments.first ?? "media-server"
                if media_vips_init(argv0, Int32(clamping: concurrency), { message in
                    Log.warning("vips_warning", ["message": .string(message.map { String(cString: $0) } ?? "")])
                }) == 0 {
                    outcome = .success(())
                    Log.info("vips_started", ["version": .string(String(cString: media_vips_version())),
                                              "concurrency": LogValue(concurrency)])
                } else {
                    outcome = .failure(.processingFailed("libvips did not start: \(takeError())"))
                }
            }
            try outcome?.get()
        }
    }
}
