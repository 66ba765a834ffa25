package import CHOMCore
import Foundation

/// Checkpoints as JSON, one object per line, for export to a file outside the database:
///
///     {"head_hash":"<64 hex>","key_id":"<16 hex>","sequence":42,"signature":"<128 hex>","time":"2027-01-15T08:00:00.123Z"}
///
/// Keys are sorted, hashes and signatures lowercase hex, the time in `AuditTimestamp` form,
/// so that the same checkpoint is always the same line.
extension AuditCheckpoint: Codable {
    private enum CodingKeys: String, CodingKey {
        case sequence
        case headHash = "head_hash"
        case time
        case keyID = "key_id"
        case signature
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func bytes(_ key: CodingKeys, count: Int) throws -> [UInt8] {
            guard let bytes = Hex.decode(try container.decode(String.self, forKey: key)),
                bytes.count == count
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "not \(count) bytes of hex")
            }
            return bytes
        }
        let headHash = try bytes(.headHash, count: AuditChain.hashByteCount)
        let signature = try bytes(.signature, count: 64)
        guard let time = AuditTimestamp.date(try container.decode(String.self, forKey: .time)) else {
            throw DecodingError.dataCorruptedError(
                forKey: .time, in: container, debugDescription: "not an RFC 3339 UTC time with milliseconds")
        }
        self.init(
            sequence: try container.decode(Int64.self, forKey: .sequence), headHash: headHash, time: time,
            keyID: try container.decode(String.self, forKey: .keyID), signature: signature)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(Hex.encode(headHash), forKey: .headHash)
        try container.encode(AuditTimestamp.string(time), forKey: .time)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(Hex.encode(signature), forKey: .signature)
    }

    /// This checkpoint as one JSON line, without the newline.
    package var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and an integer into JSON cannot fail.
        guard let data = try? encoder.encode(self) else { preconditionFailure("a checkpoint did not encode") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Checkpoints as JSON lines, each ending in a newline (appendable to an export file).
    package static func jsonLines(_ checkpoints: [AuditCheckpoint]) -> String {
        checkpoints.map { $0.jsonLine + "\n" }.joined()
    }

    /// Reads an export: one checkpoint per non-blank line. The error names the first bad line.
    package static func parseJSONLines(_ text: String) throws(CHOMError) -> [AuditCheckpoint] {
        let decoder = JSONDecoder()
        var checkpoints: [AuditCheckpoint] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            do {
                checkpoints.append(try decoder.decode(AuditCheckpoint.self, from: Data(trimmed.utf8)))
            } catch {
                throw CHOMError(.invalidInput, "checkpoint line \(index + 1) is not a valid audit checkpoint")
            }
        }
        return checkpoints
    }
}
