import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf
import Testing

/// Opens the committed envelopes in Protocol/testdata exactly as cases.json says, so any change in
/// the wire format, the signed bytes or the order of checks shows up here.
@Suite("Golden envelopes")
struct GoldenEnvelopeTests {
    static let allReasons = [
        "oversize", "malformed_header", "unknown_key", "bad_signature", "misaddressed", "not_yet_valid", "expired",
        "replayed", "stale", "decompression", "undecodable",
    ]

    @Test("each golden envelope opens to the outcome cases.json documents", arguments: try GoldenCatalog.load().cases)
    func goldenOutcome(golden: GoldenCase) throws {
        let envelope = try Chom_Agent_V1_Envelope(serializedBytes: try golden.envelopeBytes())
        var replay = try #require(golden.replay.window, "bitmap must be 16 hex digits")
        let before = replay
        let agent = try #require(AgentID(golden.agentID))
        let opener = EnvelopeOpener(trustedKeys: try trustedKeys(), expectedAgent: agent)
        let result = Fixtures.open(envelope, now: Date(unixMilliseconds: golden.nowMs), replay: &replay, opener: opener)
        #expect(result.reason == golden.outcome)
        switch result {
        case .success(let opened):
            #expect(opened.task.taskID == golden.taskID)
            #expect(opened.header.envelopeID == golden.taskID)
            #expect(opened.task.protoKind.protoName == golden.taskKind)
            #expect(replay.check(opened.header.sequence) == .replayed, "an accept records the sequence")
        case .failure:
            #expect(replay == before, "a refusal leaves the replay window unchanged")
        }
    }

    @Test("the golden set has two deploy accepts and every refusal reason")
    func coverage() throws {
        let cases = try GoldenCatalog.load().cases
        let accepts = cases.filter { $0.outcome == "accept" }
        #expect(accepts.count >= 2)
        #expect(accepts.allSatisfy { $0.taskKind == "TASK_KIND_DEPLOY" && $0.taskID != nil })
        #expect(Set(cases.map(\.outcome)) == Set(Self.allReasons + ["accept"]))
        #expect(Set(cases.map(\.name)).count == cases.count, "case names are unique")
        for golden in cases {
            #expect(golden.file == golden.name + ".envelope")
            #expect(golden.agentID == "00000000-0000-4000-8000-000000000001")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: GoldenCatalog.directory.path)
        #expect(Set(files.filter { $0.hasSuffix(".envelope") }) == Set(cases.map(\.file)), "no orphan envelopes")
    }

    @Test("the golden key is SHA-256 of its published phrase, and cases.json and the README agree")
    func publishedKey() throws {
        let catalog = try GoldenCatalog.load()
        let seed = Data(SHA256.hash(data: Data("chom golden test key v1".utf8)))
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        #expect(catalog.signingKey.seedHex == seed.hex)
        #expect(catalog.signingKey.publicKeyHex == key.publicKey.rawRepresentation.hex)
        let keyID = SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8).hex
        #expect(catalog.signingKey.keyID == keyID)
        #expect(keyID.count == 16)
        let readme = try String(contentsOf: GoldenCatalog.directory.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(seed.hex))
        #expect(readme.contains(key.publicKey.rawRepresentation.hex))
        #expect(readme.contains(keyID))
    }

    @Test("the signature of a golden envelope covers tag, 0x00, u32be header length, header and payload")
    func signedBytesByHand() throws {
        let golden = try #require(try GoldenCatalog.load().cases.first { $0.name == "accept_deploy_first" })
        let envelope = try Chom_Agent_V1_Envelope(serializedBytes: try golden.envelopeBytes())
        let publicKey = try Curve25519.Signing.PrivateKey(
            rawRepresentation: Data(SHA256.hash(data: Data("chom golden test key v1".utf8)))
        ).publicKey
        let header = [UInt8](envelope.header)
        let payload = [UInt8](envelope.payload)
        let length = UInt32(header.count)
        let lengthBytes: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        let tag: [UInt8] = [0x63, 0x68, 0x6F, 0x6D, 0x2D, 0x65, 0x6E, 0x76, 0x65, 0x6C, 0x6F, 0x70, 0x65, 0x2D, 0x76, 0x31, 0x00]
        #expect(tag == Array("chom-envelope-v1".utf8) + [0])
        let signed = tag + lengthBytes + header + payload
        #expect(envelope.signature.count == 64)
        #expect(publicKey.isValidSignature(envelope.signature, for: Data(signed)))
        #expect(Data(signed) == EnvelopeSigning.signedBytes(header: envelope.header, payload: envelope.payload))
        // Each part matters: none of these neighbours verifies.
        #expect(!publicKey.isValidSignature(envelope.signature, for: Data(header + payload)))
        #expect(!publicKey.isValidSignature(envelope.signature, for: Data(tag + header + payload)))
        #expect(!publicKey.isValidSignature(envelope.signature, for: Data(Array(tag.dropLast()) + lengthBytes + header + payload)))
        #expect(!publicKey.isValidSignature(envelope.signature, for: Data(tag + lengthBytes.reversed() + header + payload)))
    }

    @Test("the golden accepts carry the fixed header values")
    func fixedHeaderValues() throws {
        for golden in try GoldenCatalog.load().cases where golden.outcome == "accept" {
            let envelope = try Chom_Agent_V1_Envelope(serializedBytes: try golden.envelopeBytes())
            let header = try Chom_Agent_V1_EnvelopeHeader(serializedBytes: envelope.header)
            #expect(header.audienceAgentID == "00000000-0000-4000-8000-000000000001")
            #expect(header.issuedAtMs == 1_800_000_000_000)
            #expect(header.expiresAtMs == 1_800_000_600_000)
            #expect(header.taskKind == .deploy)
            #expect(header.envelopeID == golden.taskID)
            #expect(header.signingKeyID == (try GoldenCatalog.load().signingKey.keyID))
        }
    }

    private func trustedKeys() throws -> TrustedEnvelopeKeys {
        let catalog = try GoldenCatalog.load()
        return try TrustedEnvelopeKeys(raw: [try #require(Data(hex: catalog.signingKey.publicKeyHex))])
    }
}
