/// PAX extended header records: "<length> <key>=<value>\n", the length counting the whole record.
enum PaxRecords {
    static func encode(_ records: [(key: String, value: String)]) -> [UInt8] {
        var output: [UInt8] = []
        for (key, value) in records {
            let body = Array(" \(key)=\(value)\n".utf8)
            // The length includes its own digits: grow until it is self-consistent.
            var length = body.count + 1
            while String(length).utf8.count + body.count != length { length += 1 }
            output += Array(String(length).utf8) + body
        }
        return output
    }

    /// Parses records into a dictionary (later keys win). Throws on any malformed record.
    static func decode(_ bytes: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            // Tolerate NUL padding after the last record.
            if bytes[index...].allSatisfy({ $0 == 0 }) { break }
            var length = 0
            var cursor = index
            while cursor < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[cursor]) {
                guard length < 1 << 40 else { throw malformed("record length overflows") }
                length = length * 10 + Int(bytes[cursor] - UInt8(ascii: "0"))
                cursor += 1
            }
            guard cursor > index, cursor < bytes.count, bytes[cursor] == 0x20 else {
                throw malformed("record does not start with a length")
            }
            let end = index + length
            guard end <= bytes.count, end > cursor + 1, bytes[end - 1] == 0x0A else {
                throw malformed("record length does not match its content")
            }
            let body = bytes[(cursor + 1)..<(end - 1)]
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else {
                throw malformed("record has no '='")
            }
            guard let key = String(validating: body[body.startIndex..<equals], as: UTF8.self),
                let value = String(validating: body[(equals + 1)...], as: UTF8.self)
            else {
                throw malformed("record is not valid UTF-8")
            }
            result[key] = value
            index = end
        }
        return result
    }

    private static func malformed(_ reason: String) -> ArchiveError {
        .corrupt(format: "tar", reason: "malformed PAX header: \(reason)")
    }
}
