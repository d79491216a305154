#if canImport(Glibc)
import Glibc
#endif
import CFastCGI

/// What a worker hands each accepted request to.
public protocol FastCGIResponder: AnyObject {
    func respond(to request: FastCGIRequest, writer: ResponseWriter)
}

/// One worker process's accept loop: one request at a time, on the thread that called `run`.
public final class Worker {
    public struct Configuration: Sendable {
        /// The listening socket: 0 when started by the pool or spawn-fcgi.
        public var listenFileDescriptor: Int32 = 0
        /// Leave after this many requests (0: never), so a slow leak cannot grow forever.
        public var maxRequests: Int = 0
        /// Requests slower than this are counted as slow.
        public var slowRequestMilliseconds: Int64 = 5_000

        public init(listenFileDescriptor: Int32 = 0, maxRequests: Int = 0, slowRequestMilliseconds: Int64 = 5_000) {
            self.listenFileDescriptor = listenFileDescriptor
            self.maxRequests = maxRequests
            self.slowRequestMilliseconds = slowRequestMilliseconds
        }
    }

    public enum ExitReason: String, Sendable {
        case stopSignal = "stop-signal"
        case maxRequests = "max-requests"
        case acceptFailed = "accept-failed"
    }

    private let configuration: Configuration
    private let slot: WorkerSlot?
    public private(set) var requestsServed = 0

    public init(configuration: Configuration, slot: WorkerSlot?) {
        self.configuration = configuration
        self.slot = slot
    }

    public var stopRequested: Bool { media_fcgi_stop_requested() != 0 }

    /// Blocks the stop signals; call first thing in the process, before any thread starts,
    /// so that only the accept loop ever sees them.
    public static func prepareProcess() {
        media_fcgi_block_stop_signals()
    }

    public func run(_ responder: FastCGIResponder) -> ExitReason {
        media_fcgi_keep_freed_memory()
        guard FCGX_Init() == 0 else { return .acceptFailed }
        // libfcgi keeps pointers into the request: it must never move.
        let raw = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { raw.deallocate() }
        FCGX_InitRequest(raw, configuration.listenFileDescriptor, Int32(FCGI_FAIL_ACCEPT_ON_INTR))
        media_fcgi_install_signal_handlers()

        while true {
            if configuration.maxRequests > 0 && requestsServed >= configuration.maxRequests {
                return .maxRequests
            }
            slot?.becameIdle()
            // A stop signal that came while busy is delivered here, before the check.
            media_fcgi_unblock_stop_signals()
            if stopRequested { return .stopSignal }
            let accepted = FCGX_Accept_r(raw)
            media_fcgi_block_stop_signals()
            if accepted < 0 {
                if stopRequested { return .stopSignal }
                if -accepted == EINTR { continue }
                return .acceptFailed
            }
            let started = wallClockMilliseconds()
            let request = FastCGIRequest(raw: raw)
            slot?.beganRequest(method: request.method, uri: request.param("REQUEST_URI") ?? "", requestId: request.requestId)
            media_fcgi_set_current(raw, request.requestId)
            let writer = ResponseWriter(request: raw)
            responder.respond(to: request, writer: writer)
            try? writer.complete()  // a client gone by now has nothing left to be told
            media_fcgi_set_current(nil, nil)
            media_fcgi_finish(raw)
            requestsServed += 1
            slot?.finishedRequest(slow: wallClockMilliseconds() - started >= configuration.slowRequestMilliseconds)
        }
    }
}
