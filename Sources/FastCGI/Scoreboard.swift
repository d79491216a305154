#if canImport(Glibc)
import Glibc
#endif
import CFastCGI

/// Milliseconds since the Unix epoch, from the real-time clock.
public func wallClockMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// The pool's shared scoreboard (see `media_scoreboard` in CFastCGI.h). The supervisor
/// creates it as a memfd and hands it to each worker as fd 3 with its slot number.
public final class Scoreboard: @unchecked Sendable {
    static let magic: UInt32 = 0x4D45_4449  // "MEDI"
    public static let workerFileDescriptor: Int32 = 3

    let board: UnsafeMutablePointer<media_scoreboard>
    public let fileDescriptor: Int32
    private let byteCount: Int

    /// Creates a new scoreboard for a pool of `poolSize` workers (supervisor side).
    public init(poolSize: Int) throws {
        let capacity = poolSize * 2
        byteCount = MemoryLayout<media_scoreboard>.size + capacity * MemoryLayout<media_scoreboard_slot>.stride
        let fd = media_fcgi_memfd("media-scoreboard")
        guard fd >= 0 else { throw SystemError.call("memfd_create") }
        guard ftruncate(fd, off_t(byteCount)) == 0 else { throw SystemError.call("ftruncate") }
        guard let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
              memory != MAP_FAILED else { throw SystemError.call("mmap") }
        fileDescriptor = moveAboveStandardDescriptors(fd)
        board = memory.bindMemory(to: media_scoreboard.self, capacity: 1)
        board.pointee.magic = Scoreboard.magic
        board.pointee.capacity = UInt32(capacity)
        board.pointee.started_ms = wallClockMilliseconds()
        board.pointee.pool_size = Int32(poolSize)
        board.pointee.supervisor_pid = getpid()
    }

    /// Maps the scoreboard a supervisor passed on `fd` (worker side); nil if it is not one.
    public init?(inheritedFileDescriptor fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= MemoryLayout<media_scoreboard>.size,
              let memory = mmap(nil, Int(info.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
              memory != MAP_FAILED else { return nil }
        let board = memory.bindMemory(to: media_scoreboard.self, capacity: 1)
        guard board.pointee.magic == Scoreboard.magic else {
            munmap(memory, Int(info.st_size))
            return nil
        }
        self.board = board
        self.fileDescriptor = fd
        self.byteCount = Int(info.st_size)
    }

    public var capacity: Int { Int(board.pointee.capacity) }

    func slot(_ index: Int) -> UnsafeMutablePointer<media_scoreboard_slot> {
        precondition(index >= 0 && index < capacity)
        return UnsafeMutableRawPointer(board).advanced(by: MemoryLayout<media_scoreboard>.size)
            .assumingMemoryBound(to: media_scoreboard_slot.self) + index
    }

    /// A consistent copy of the whole board, for the status report.
    public func snapshot(now: Int64 = wallClockMilliseconds()) -> PoolStatus {
        var workers: [PoolStatus.Worker] = []
        var requests = board.pointee.retired_requests
        var slow = board.pointee.retired_slow_requests
        var allBusy = board.pointee.retired_all_busy_events
        for index in 0..<capacity {
            let slot = readSlot(index)
            guard slot.state != Int32(MEDIA_SLOT_FREE) else { continue }
            requests += slot.requests
            slow += slot.slow_requests
            allBusy += slot.all_busy_events
            workers.append(PoolStatus.Worker(slot: slot, now: now))
        }
        return PoolStatus(
            startedAtMilliseconds: board.pointee.started_ms,
            poolSize: Int(board.pointee.pool_size),
            acceptedRequests: requests,
            slowRequests: slow,
            maxChildrenReached: allBusy,
            restarts: board.pointee.restarts,
            timeLimitKills: board.pointee.time_limit_kills,
            workers: workers)
    }

    func readSlot(_ index: Int) -> media_scoreboard_slot {
        let pointer = slot(index)
        while true {
            let before = atomicLoad(&pointer.pointee.sequence)
            let copy = pointer.pointee
            if before & 1 == 0, atomicLoad(&pointer.pointee.sequence) == before { return copy }
            sched_yield()
        }
    }

    /// Whether no other worker is waiting in accept: php-fpm's "max children reached".
    func everyOtherWorkerBusy(than index: Int) -> Bool {
        for other in 0..<capacity where other != index {
            if slot(other).pointee.state == Int32(MEDIA_SLOT_IDLE) { return false }
        }
        return true
    }
}

@inline(__always)
private func atomicLoad(_ pointer: UnsafeMutablePointer<UInt32>) -> UInt32 {
    // Aligned 32-bit loads are atomic on every platform we run on; the volatile-style
    // re-read through the pointer is what the sequence check needs.
    UnsafeMutableRawPointer(pointer).load(as: UInt32.self)
}

/// A worker's own slot: the worker is its only writer.
public struct WorkerSlot: @unchecked Sendable {
    let board: Scoreboard
    let index: Int

    public init(board: Scoreboard, index: Int) {
        self.board = board
        self.index = index
    }

    private func update(_ body: (UnsafeMutablePointer<media_scoreboard_slot>) -> Void) {
        let pointer = board.slot(index)
        pointer.pointee.sequence &+= 1
        body(pointer)
        pointer.pointee.sequence &+= 1
    }

    func becameIdle() {
        update {
            $0.pointee.state = Int32(MEDIA_SLOT_IDLE)
            $0.pointee.request_started_ms = 0
        }
    }

    func beganRequest(method: String, uri: String, requestId: String) {
        let allBusy = board.everyOtherWorkerBusy(than: index)
        update { slot in
            slot.pointee.state = Int32(MEDIA_SLOT_BUSY)
            slot.pointee.request_started_ms = wallClockMilliseconds()
            slot.pointee.requests += 1
            if allBusy { slot.pointee.all_busy_events += 1 }
            copyCString(method, into: &slot.pointee.method)
            copyCString(uri, into: &slot.pointee.uri)
            copyCString(requestId, into: &slot.pointee.request_id)
        }
    }

    func finishedRequest(slow: Bool) {
        update {
            if slow { $0.pointee.slow_requests += 1 }
            $0.pointee.request_started_ms = 0
        }
    }
}

/// Copies a string into a fixed C char array (a tuple), truncated and NUL-terminated.
func copyCString<T>(_ string: String, into field: inout T) {
    withUnsafeMutableBytes(of: &field) { raw in
        let bytes = Array(string.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}

func readCString<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { raw in
        let end = raw.firstIndex(of: 0) ?? raw.count
        return String(decoding: raw[..<end], as: UTF8.self)
    }
}

extension Scoreboard {
    /// Fills slot 0 for a worker that runs without a supervisor (spawn-fcgi, systemd).
    public func registerStandaloneWorker() {
        let pointer = slot(0)
        pointer.pointee.pid = getpid()
        pointer.pointee.started_ms = wallClockMilliseconds()
        pointer.pointee.state = Int32(MEDIA_SLOT_STARTING)
    }
}
