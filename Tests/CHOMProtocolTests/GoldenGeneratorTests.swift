import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf
import Testing

/// Writes Protocol/testdata (the `.envelope` files and cases.json). Runs only when asked:
///
///     CHOM_REGENERATE_GOLDENS=1 swift test --filter GoldenGeneratorTests
///
/// The golden tests never call this: they open the committed bytes.
@Suite("Golden envelope generator")
struct GoldenGeneratorTests {
    static let enabled = ProcessInfo.processInfo.environment["CHOM_REGENERATE_GOLDENS"] == "1"

    @Test("regenerates Protocol/testdata when CHOM_REGENERATE_GOLDENS=1", .enabled(if: enabled))
    func regenerate() throws {
        let specs = try GoldenSpecs.all()
        let folder = GoldenCatalog.directory
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Remove the previous envelopes so a renamed case leaves no orphan behind.
        for old in try FileManager.default.contentsOfDirectory(atPath: folder.path) where old.hasSuffix(".envelope") {
            try FileManager.default.removeItem(at: folder.appendingPathComponent(old))
        }
        var cases: [GoldenCase] = []
        for spec in specs {
            // The generator checks its own cases before writing them.
            #expect(
                Fixtures.outcome(spec.envelope, now: Date(unixMilliseconds: spec.nowMs), replay: spec.replay)
                    == spec.outcome, "\(spec.name)")
            let file = spec.name + ".envelope"
            let bytes: Data = try spec.envelope.serializedBytes()
            try bytes.write(to: folder.appendingPathComponent(file))
            cases.append(
                GoldenCase(
                    name: spec.name, file: file, description: spec.description, nowMs: spec.nowMs,
                    replay: GoldenCase.ReplayState(spec.replay), agentID: Fixtures.agent.description,
                    outcome: spec.outcome, taskID: spec.task?.taskID, taskKind: spec.task?.protoKind.protoName))
        }
        let key = GoldenCatalog.Key(
            seedHex: Fixtures.keySeed.hex, publicKeyHex: Fixtures.signer.publicKey.rawRepresentation.hex,
            keyID: Fixtures.signer.keyID)
        let catalog = GoldenCatalog(format: 1, signingKey: key, cases: cases)
        try catalog.encoded().write(to: GoldenCatalog.fileURL)
        print("wrote \(cases.count) golden envelopes to \(folder.path); key \(key.keyID) public \(key.publicKeyHex)")
    }
}
