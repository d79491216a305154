import Foundation
import ServerLog

/// The API's JSON conventions: Prisma's field names, dates as ISO-8601 UTC with milliseconds.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Log.timestamp(date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    public static let decoder = JSONDecoder()
}
