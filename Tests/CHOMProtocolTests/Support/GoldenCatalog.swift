import CHOMProtocol
import Foundation
import Testing

/// Protocol/testdata/cases.json: every golden envelope and how an agent must answer it.
struct GoldenCatalog: Codable, Sendable {
    var format: Int
    var signingKey: Key
    var cases: [GoldenCase]

    struct Key: Codable, Sendable, Equatable {
        /// The 32-byte Ed25519 seed, SHA-256("chom golden test key v1").
        var seedHex: String
        var publicKeyHex: String
        var keyID: String

        enum CodingKeys: String, CodingKey {
            case seedHex = "seed_hex"
            case publicKeyHex = "public_key_hex"
            case keyID = "key_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format
        case signingKey = "signing_key"
        case cases
    }

    /// The folder of the golden files: the repository root (the first folder above this file that
    /// holds Package.swift), then Protocol/testdata.
    static let directory: URL = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { break }
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("Protocol/testdata", isDirectory: true)
    }()

    static var fileURL: URL { directory.appendingPathComponent("cases.json") }

    static func load() throws -> GoldenCatalog {
        try JSONDecoder().decode(GoldenCatalog.self, from: Data(contentsOf: fileURL))
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

struct GoldenCase: Codable, Sendable, CustomTestStringConvertible {
    var name: String
    /// `<name>.envelope`: the serialized Chom_Agent_V1_Envelope.
    var file: String
    var description: String
    /// The agent's clock when it opens the envelope, Unix milliseconds.
    var nowMs: Int64
    /// The replay window before opening.
    var replay: ReplayState
    /// The agent that opens it.
    var agentID: String
    /// "accept", or an `EnvelopeRefusal.reason`.
    var outcome: String
    /// For "accept": the task's id and kind (proto enum name).
    var taskID: String?
    var taskKind: String?

    struct ReplayState: Codable, Sendable {
        var highest: UInt64
        /// The 64-bit bitmap as 16 lowercase hex digits (JSON numbers lose precision past 2^53).
        var bitmap: String

        init(_ window: ReplayWindow) {
            highest = window.highest
            bitmap = String(format: "%016llx", window.bitmap)
        }

        var window: ReplayWindow? {
            guard bitmap.count == 16, let bits = UInt64(bitmap, radix: 16) else { return nil }
            return ReplayWindow(highest: highest, bitmap: bits)
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, file, description
        case nowMs = "now_ms"
        case replay
        case agentID = "agent_id"
        case outcome
        case taskID = "task_id"
        case taskKind = "task_kind"
    }

    var testDescription: String { name }

    func envelopeBytes() throws -> Data {
        try Data(contentsOf: GoldenCatalog.directory.appendingPathComponent(file))
    }
}
