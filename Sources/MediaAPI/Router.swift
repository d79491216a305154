/// A small router: routes are `METHOD /path/:param`; for a given path, static segments win
/// over parameters position by position, and a path known under another method is a 405.
public struct Router {
    public typealias Handler = (HTTPRequest) throws -> HTTPResponse

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route {
        let pattern: [Segment]
        var handlers: [String: Handler]
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ path: String, _ handler: @escaping Handler) {
        let pattern = path.split(separator: "/").map { part -> Segment in
            part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
        if let index = routes.firstIndex(where: { $0.pattern == pattern }) {
            routes[index].handlers[method] = handler
        } else {
            routes.append(Route(pattern: pattern, handlers: [method: handler]))
        }
    }

    public enum Match {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    /// `path` is percent-encoded; each segment is decoded after splitting, so an encoded
    /// `/` stays inside its segment.
    public func match(method: String, path: String) throws -> Match {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(raw).removingPercentEncoding else {
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
            if best == nil || rank.lexicographicallyPrecedes(best!.rank) {
                best = (route, parameters, rank)
            }
        }
        guard let best else { return .notFound }
        let lookup = method == "HEAD" ? (best.route.handlers["HEAD"] == nil ? "GET" : "HEAD") : method
        guard let handler = best.route.handlers[lookup] else {
            return .methodNotAllowed(best.route.handlers.keys.sorted())
        }
        return .found(handler, parameters: best.parameters)
    }
}

import Foundation
