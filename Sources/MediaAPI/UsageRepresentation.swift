import Media

/// `GET /api/media/usage`: the user's bytes and counts, in total and by type, beside the
/// quota (`limitBytes` and `remainingBytes` are null when there is none).
struct UsageRepresentation: JSONWritable {
    let usage: StorageUsage

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("byType")
            json.object { json in
                for type in MediaType.allCases {
                    let tally = usage.tally(type)
                    json.key(escaping: type.rawValue)
                    json.object { json in
                        json.key("bytes"); json.number(tally.bytes)
                        json.key("count"); json.number(tally.count)
                    }
                }
            }
            json.key("bytes"); json.number(usage.bytes)
            json.key("count"); json.number(usage.count)
            json.key("limitBytes"); json.number(usage.limitBytes)
            json.key("remainingBytes"); json.number(usage.limitBytes.map { max(0, $0 - usage.bytes) })
        }
    }
}
