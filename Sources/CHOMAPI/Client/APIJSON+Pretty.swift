package import Foundation

extension APIJSON {
    /// For people reading the output: indented, sorted keys, ISO-8601 dates, "/" left alone.
    package static func prettyEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
