import Media

/// JSON bodies of responses already rendered, each kept under the `ContentKey` of what its
/// read saw (every statement, value and row), at most `capacityBytes` of them, the least
/// recently used dropped first. A read that finds its key here decodes and renders nothing,
/// and the kept body is sent. The database is still read on every request, so a kept body
/// is only ever sent for exactly the rows a fresh rendering would be made from. One per
/// worker (a worker serves one request at a time).
public final class RenderedResponses: RenderedContent {
    public let capacityBytes: Int
    private var entries: [ContentKey: (body: ResponseBody, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    /// The kept bodies' memory, counted as `ResponseBody.footprint`.
    public private(set) var keptBytes = 0

    /// A body above a quarter of `capacityBytes` is not kept: a few large ones would push
    /// out many pages. (With none to keep, the routes are given no `RenderedResponses` at
    /// all: then reads neither hold rows nor look for kept renderings.)
    public init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    public var count: Int { entries.count }

    public func contains(_ key: ContentKey) -> Bool { entries[key] != nil }

    /// The body kept for `key`, marked as just used.
    func body(for key: ContentKey) -> ResponseBody? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.body, clock)
        return entry.body
    }

    /// Keeps `body` (a copy of its own size) for `key`, dropping the least recently used
    /// bodies to make room.
    func keep(_ body: ResponseBody, for key: ContentKey) {
        guard body.count <= capacityBytes / 4 else { return }
        let body = body.compacted()
        let size = body.footprint
        guard size <= capacityBytes / 4 else { return }
        if let old = entries.removeValue(forKey: key) { keptBytes -= old.body.footprint }
        // A linear scan, only when full: a few hundred entries at most.
        while keptBytes + size > capacityBytes, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries.removeValue(forKey: oldest.key)
            keptBytes -= oldest.value.body.footprint
        }
        clock += 1
        entries[key] = (body, clock)
        keptBytes += size
    }

    /// Keeps `response`'s body for `key`, and marks the response as made anew.
    func keep(_ response: inout HTTPResponse, for key: ContentKey) {
        keep(response.body, for: key)
        response.rendering = .anew
    }

    /// The response to a read that may find its rendering in `kept`: `read(kept)` reads,
    /// and a kept body answers it, else `render` makes the response, whose body is kept.
    static func respond<Value>(keeping kept: RenderedResponses?, _ read: (RenderedResponses?) throws -> ContentAnswer<Value>,
                               render: (Value) -> HTTPResponse) throws -> HTTPResponse {
        switch try read(kept) {
        case .rendered(let key):
            if let body = kept?.body(for: key) { return .json(body, rendering: .kept) }
            // Not reached: nothing is dropped between the read's check and here. Should it
            // be, a read without the kept bodies is still the right answer.
            return try respond(keeping: nil, read, render: render)
        case .content(let value, let key):
            var response = render(value)
            if let kept, let key { kept.keep(&response, for: key) }
            return response
        }
    }
}
