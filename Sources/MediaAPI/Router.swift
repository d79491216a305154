/// A small router: routes are `METHOD /path/:param`; for a given path, static segments win
/// over parameters position by position, and a path known under another method is a 405.
/// A route says whether it needs a signed-in user: the application resolves the identity
/// once, before the handler runs, and a handler for signed-in users is handed the user id.
public struct Router {
    public typealias Handler = (HTTPRequest) throws -> HTTPResponse
    public typealias SignedInHandler = (HTTPRequest, _ userId: String) throws -> HTTPResponse

    public enum Endpoint {
        case open(Handler)
        case signedIn(SignedInHandler)
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route {
        let pattern: [Segment]
        var endpoints: [String: Endpoint]
    }

    private var routes: [Route] = []

    public init() {}

    /// A route anyone may call (nginx limits the operations routes to loopback).
    public mutating func add(_ method: String, _ path: String, _ handler: @escaping Handler) {
        add(method, path, .open(handler))
    }

    /// A route for signed-in users; without an identity it answers 401 before the handler runs.
    public mutating func add(_ method: String, _ path: String, signedIn handler: @escaping SignedInHandler) {
        add(method, path, .signedIn(handler))
    }

    private mutating func add(_ method: String, _ path: String, _ endpoint: Endpoint) {
        let pattern = path.split(separator: "/").map { part -> Segment in
            part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
        if let index = routes.firstIndex(where: { $0.pattern == pattern }) {
            routes[index].endpoints[method] = endpoint
        } else {
            routes.append(Route(pattern: pattern, endpoints: [method: endpoint]))
        }
    }

    /// Every route as registered (`GET /api/media/:id`), methods sorted within a path: what
    /// the contract test compares with openapi.yaml.
    public var registeredRoutes: [(method: String, path: String)] {
        routes.flatMap { route in
            let path = "/" + route.pattern.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): ":" + name
                }
            }.joined(separator: "/")
            return route.endpoints.keys.sorted().map { (method: $0, path: path) }
        }
    }

    public enum Match {
        case found(Endpoint, parameters: [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    /// `path` is percent-encoded; each segment is decoded after splitting, so an encoded
    /// `/` stays inside its segment.
    public func match(method: String, path: String) throws -> Match {
        var segments: [String] = []
        for raw in path.split(ascii: "/") {
            guard let decoded = PercentDecoding.decode(raw) else {
                throw APIError.badRequest("The path is not valid percent-encoded UTF-8.")
            }
            segments.append(decoded)
        }
        var best: (route: Route, parameters: [String: String], rank: [Int])?
        for route in routes where route.pattern.count == segments.count {
            var parameters: [String: String] = [:]
            var rank: [Int] = []
            var matches = true
            for (segment, value) in zip(route.pattern, segments) {
                switch segment {
                case .literal(let text):
                    if text != value { matches = false }
                    rank.append(0)
                case .parameter(let name):
                    parameters[name] = value
                    rank.append(1)
                }
                if !matches { break }
            }
            guard matches else { continue }
            if let current = best, !rank.lexicographicallyPrecedes(current.rank) { continue }
            best = (route, parameters, rank)
        }
        guard let best else { return .notFound }
        let lookup = method == "HEAD" ? (best.route.endpoints["HEAD"] == nil ? "GET" : "HEAD") : method
        guard let endpoint = best.route.endpoints[lookup] else {
            return .methodNotAllowed(best.route.endpoints.keys.sorted())
        }
        return .found(endpoint, parameters: best.parameters)
    }
}
