import CFastCGI

/// The pool's state with php-fpm's status fields, and its `?full` worker list.
public struct PoolStatus: Sendable {
    public struct Worker: Sendable {
        public let pid: Int32
        public let state: String
        public let startedAtMilliseconds: Int64
        public let requests: UInt64
        public let requestMethod: String
        public let requestURI: String
        public let requestId: String
        /// How long the current request has run; nil when idle.
        public let requestDurationMilliseconds: Int64?

        init(slot: media_scoreboard_slot, now: Int64) {
            pid = slot.pid
            switch Int(slot.state) {
            case Int(MEDIA_SLOT_STARTING): state = "starting"
            case Int(MEDIA_SLOT_IDLE): state = "idle"
            case Int(MEDIA_SLOT_BUSY): state = "busy"
            case Int(MEDIA_SLOT_STOPPING): state = "stopping"
            default: state = "free"
            }
            startedAtMilliseconds = slot.started_ms
            requests = slot.requests
            let busy = slot.request_started_ms > 0
            requestMethod = busy ? readCString(slot.method) : ""
            requestURI = busy ? readCString(slot.uri) : ""
            requestId = busy ? readCString(slot.request_id) : ""
            requestDurationMilliseconds = busy ? max(0, now - slot.request_started_ms) : nil
        }
    }

    public let startedAtMilliseconds: Int64
    public let poolSize: Int
    public let acceptedRequests: UInt64
    public let slowRequests: UInt64
    public let maxChildrenReached: UInt64
    public let restarts: UInt64
    public let timeLimitKills: UInt64
    public let workers: [Worker]

    public var activeWorkers: Int { workers.filter { $0.state == "busy" }.count }
    public var idleWorkers: Int { workers.filter { $0.state == "idle" }.count }
}
