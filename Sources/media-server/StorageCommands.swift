#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MariaDB
import Media

/// `media-server storage copy|verify`: moving a library between the local origin and a
/// bucket, and checking that an origin holds every object the database names.
enum StorageCommands {
    static let usage = "usage: media-server storage copy --from local|r2 --to local|r2\n"
        + "       media-server storage verify [--origin local|r2]\n"

    static func run(_ arguments: [String]) -> Int32 {
        let options = Dictionary(stride(from: 1, to: arguments.count - 1, by: 2).map { (arguments[$0], arguments[$0 + 1]) },
                                 uniquingKeysWith: { $1 })
        let configuration = Commands.loadConfiguration()
        do {
            let staging = try StagingArea(directory: configuration.storageRoot + "/.tmp")
            let job = StorageCopy(database: Database(configuration: configuration.database), staging: staging)
            let meter = ProgressMeter()
            switch arguments.first {
            case "copy" where arguments.count == 5:
                guard let from = options["--from"].flatMap(ServiceConfiguration.Origin.init(rawValue:)),
                      let to = options["--to"].flatMap(ServiceConfiguration.Origin.init(rawValue:)), from != to else { break }
                let result = try job.copy(from: try origin(from, configuration), to: try origin(to, configuration),
                                          report: meter.show)
                meter.finish()
                print("storage copy \(from.rawValue) → \(to.rawValue): \(result.objects) objects (\(result.copied) copied, "
                      + "\(result.skipped) already there), \(ProgressMeter.bytes(result.bytes)); \(result.failed.count) failed")
                result.failed.forEach { print("failed \($0)") }
                return result.failed.isEmpty ? 0 : 1
            case "verify" where arguments.count == 1 || (arguments.count == 3 && options["--origin"] != nil):
                guard let name = options["--origin"].map(ServiceConfiguration.Origin.init(rawValue:)) ?? configuration.origin
                else { break }
                let problems = try job.verify(try origin(name, configuration), report: meter.show)
                meter.finish()
                problems.forEach { print($0.description) }
                print("storage verify \(name.rawValue): \(problems.isEmpty ? "every object is there" : "\(problems.count) problems")")
                return problems.isEmpty ? 0 : 1
            default:
                break
            }
            FileHandle.standardError.write(Data(usage.utf8))
            return 64
        } catch {
            FileHandle.standardError.write(Data("media-server storage: \(error)\n".utf8))
            return 1
        }
    }

    /// An origin by name, from the same settings `serve` reads, checked like `serve` checks it.
    static func origin(_ name: ServiceConfiguration.Origin, _ configuration: ServiceConfiguration) throws -> any OriginStorage {
        let storage = try Service.Origin.storage(name, configuration)
        try Service.Origin.checkReachable(storage)
        return storage
    }
}

/// One self-overwriting status line on a terminal (objects, bytes, rate, ETA), at most
/// five times a second; nothing when stderr is not a terminal (logs, CI).
final class ProgressMeter {
    private let started = Date()
    private var lastShown = Date.distantPast
    private let isTerminal = isatty(2) == 1

    func show(_ progress: StorageCopy.Progress) {
        guard isTerminal, Date().timeIntervalSince(lastShown) >= 0.2 || progress.objects == progress.totalObjects else { return }
        lastShown = Date()
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(progress.bytes) / elapsed
        let remaining = rate > 0 ? Double(progress.totalBytes - progress.bytes) / rate : 0
        let line = "\r\(progress.objects)/\(progress.totalObjects) objects, \(Self.bytes(progress.bytes))/"
            + "\(Self.bytes(progress.totalBytes)), \(Self.bytes(Int64(rate)))/s, ETA \(Self.duration(remaining))\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(min(max(seconds, 0), 1e9).rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }
}
