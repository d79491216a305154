import Foundation

/// Connection settings, read from the same Prisma-style `DATABASE_URL` the Node app uses:
/// `mysql://user:password@host:port/database`, with `?socket=/path` for a unix socket and
/// optional `connect_timeout` / `socket_timeout` (seconds, as Prisma names them).
public struct ConnectionConfiguration: Sendable, Equatable {
    public var host: String
    public var port: UInt32
    public var user: String
    public var password: String
    public var database: String
    public var socket: String?
    public var connectTimeoutSeconds: UInt32 = 5
    public var readTimeoutSeconds: UInt32 = 30
    public var writeTimeoutSeconds: UInt32 = 30

    public init(host: String = "127.0.0.1", port: UInt32 = 3306, user: String, password: String,
                database: String, socket: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.socket = socket
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    public init(url text: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "mysql" else {
            throw InvalidURL(description: "DATABASE_URL must look like mysql://user:password@host:port/database")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw InvalidURL(description: "DATABASE_URL has no user")
        }
        let database = String(components.percentEncodedPath.dropFirst()).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw InvalidURL(description: "DATABASE_URL has no database name (mysql://…/database)")
        }
        self.init(host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
                  port: UInt32(components.port ?? 3306), user: user,
                  password: components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? "",
                  database: database)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "socket":
                guard value.hasPrefix("/") else { throw InvalidURL(description: "DATABASE_URL socket must be an absolute path") }
                socket = value
            case "connect_timeout":
                guard let seconds = UInt32(value), seconds > 0 else { throw InvalidURL(description: "DATABASE_URL connect_timeout must be a positive number of seconds") }
                connectTimeoutSeconds = seconds
            case "socket_timeout":
                guard let seconds = UInt32(value), seconds > 0 else { throw InvalidURL(description: "DATABASE_URL socket_timeout must be a positive number of seconds") }
                readTimeoutSeconds = seconds
                writeTimeoutSeconds = seconds
            default:
                continue  // Prisma's other options (connection_limit, sslaccept…) do not apply here.
            }
        }
    }
}
