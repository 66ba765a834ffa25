import CHOMAPI
import Foundation

/// Unbuffered writes to stdout and stderr, so progress lines show up as they happen even when
/// stdout is a pipe.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// "chom: warning: …" on stderr.
    static func warning(_ text: String) {
        error("chom: warning: \(text)")
    }

    /// Pretty JSON with sorted keys and ISO-8601 dates.
    static func json(_ value: some Encodable) throws {
        let data = try APIJSON.prettyEncoder().encode(value)
        out(String(decoding: data, as: UTF8.self))
    }

    /// One JSON object on one line (a stream of answers, as `--follow --output json` prints).
    static func jsonLine(_ value: some Encodable) throws {
        let data = try APIJSON.encoder().encode(value)
        out(String(decoding: data, as: UTF8.self))
    }

    static func table(_ table: Table) {
        out(table.render())
    }
}
