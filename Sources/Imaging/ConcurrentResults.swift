import Foundation

/// Results written by tasks running at once (DispatchQueue.concurrentPerform), one slot
/// each, read when all are done.
public final class ConcurrentResults<Value>: @unchecked Sendable {
    private var slots: [Result<Value, Error>?]
    private let lock = NSLock()

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ result: Result<Value, Error>) {
        lock.withLock { slots[index] = result }
    }

    /// The result in one slot (a slot never set reads as a failure).
    public func result(_ index: Int) -> Result<Value, Error> {
        lock.withLock { slots[index] } ?? .failure(ImagingError.processingFailed("not made"))
    }

    /// Every value in order, or the first error.
    public func values() throws -> [Value] {
        try slots.indices.map { try result($0).get() }
    }
}
