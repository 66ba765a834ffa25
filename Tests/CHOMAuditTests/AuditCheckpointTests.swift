import CHOMAudit
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("Audit checkpoints")
struct AuditCheckpointTests {
    let chain = AuditFixtures.chain(100)

    /// A checkpoint by the fixture key (seed 32 × 0x07) of sequence 42 and head SHA-256("head");
    /// Ed25519 is deterministic, so the line is fixed. Cross-checked with Python's `cryptography`
    /// over the documented signed bytes. If it changes, exported checkpoints no longer verify.
    static let pinnedLine =
        #"{"head_hash":"9f2e6d33a3717ee826353a404ba4618d1aeeb6879ad7936bce8ed5f46814924d","key_id":"fe812c12f3ab4ce6","#
        + #""sequence":42,"signature":"a84ad87c15b73b74949d06621cac5f2fa7387f58f5c634963d77d0cd059beca9df93dac11f5521242ae995f7e5309571050a818902bc4f500ad46268c1256908","#
        + #""time":"2027-01-15T08:00:00.123Z"}"#

    static func pinnedCheckpoint() throws -> AuditCheckpoint {
        try AuditCheckpoint.sign(
            sequence: 42, headHash: Array(SHA256.hash(data: Data("head".utf8))),
            time: Date(unixMilliseconds: 1_800_000_000_123), key: AuditFixtures.signingKey)
    }

    @Test("a checkpoint of a fixed key and head is a fixed JSON line that parses back and verifies")
    func pinned() throws {
        let checkpoint = try Self.pinnedCheckpoint()
        #expect(checkpoint.jsonLine == Self.pinnedLine)
        let parsed = try AuditCheckpoint.parseJSONLines(Self.pinnedLine)
        #expect(parsed == [checkpoint])
        #expect(parsed[0].verify(publicKeys: AuditFixtures.trusted))
        #expect(checkpoint.keyID == AuditCheckpoint.keyID(of: AuditFixtures.signingKey.publicKey))
        #expect(checkpoint.keyID.count == 16)
    }

    @Test("the signature covers the domain tag, then sequence, head hash, time and key id")
    func signedBytes() throws {
        let checkpoint = try Self.pinnedCheckpoint()
        var expected = Array("chom-audit-checkpoint-v1".utf8) + [0]
        expected += [0, 0, 0, 0, 0, 0, 0, 42]
        expected += [0, 0, 0, 32] + checkpoint.headHash
        expected += [0, 0, 0, 24] + Array("2027-01-15T08:00:00.123Z".utf8)
        expected += [0, 0, 0, 16] + Array(checkpoint.keyID.utf8)
        let bytes = AuditCheckpoint.signedBytes(
            sequence: 42, headHash: checkpoint.headHash, time: checkpoint.time, keyID: checkpoint.keyID)
        #expect(Array(bytes) == expected)
        #expect(AuditFixtures.signingKey.publicKey.isValidSignature(checkpoint.signature, for: bytes))
    }

    enum Forgery: String, CaseIterable, CustomTestStringConvertible {
        case sequenceChanged, headHashChanged, timeChanged, signatureBitFlipped, signedByAttackerUnderTrustedID,
            signedByAttacker, keyIDChanged, signatureTruncated, headHashTruncated
        var testDescription: String { rawValue }

        func apply(_ checkpoint: inout AuditCheckpoint) throws {
            switch self {
            case .sequenceChanged: checkpoint.sequence -= 1
            case .headHashChanged: checkpoint.headHash[0] ^= 1
            case .timeChanged: checkpoint.time = checkpoint.time.addingTimeInterval(0.001)
            case .signatureBitFlipped: checkpoint.signature[10] ^= 0x40
            case .signedByAttackerUnderTrustedID:
                let keyID = checkpoint.keyID
                checkpoint = try AuditCheckpoint.sign(
                    sequence: checkpoint.sequence, headHash: checkpoint.headHash, time: checkpoint.time,
                    key: AuditFixtures.attackerKey)
                checkpoint.keyID = keyID
            case .signedByAttacker:
                checkpoint = try AuditCheckpoint.sign(
                    sequence: checkpoint.sequence, headHash: checkpoint.headHash, time: checkpoint.time,
                    key: AuditFixtures.attackerKey)
            case .keyIDChanged: checkpoint.keyID = "0000000000000000"
            case .signatureTruncated: checkpoint.signature.removeLast()
            case .headHashTruncated: checkpoint.headHash.removeLast()
            }
        }
    }

    @Test("a forged or altered checkpoint does not verify, and verification of the chain says so", arguments: Forgery.allCases)
    func forged(forgery: Forgery) throws {
        var checkpoint = try AuditFixtures.checkpoint(chain, at: 100)
        #expect(checkpoint.verify(publicKeys: AuditFixtures.trusted))
        try forgery.apply(&checkpoint)
        #expect(!checkpoint.verify(publicKeys: AuditFixtures.trusted))
        let result = AuditChain.verify(entries: chain, checkpoint: checkpoint, publicKeys: AuditFixtures.trusted)
        guard case .broken(let sequence, .checkpointSignatureInvalid) = result else {
            Issue.record("expected an invalid checkpoint signature, got \(result)")
            return
        }
        #expect(sequence == checkpoint.sequence)
        #expect(result.description.contains("checkpoint signature invalid"))
    }

    @Test("a genuine checkpoint verifies only under its own key")
    func untrustedKey() throws {
        let checkpoint = try AuditFixtures.checkpoint(chain, at: 50)
        #expect(checkpoint.verify(publicKeys: [AuditFixtures.attackerKey.publicKey, AuditFixtures.signingKey.publicKey]))
        #expect(!checkpoint.verify(publicKeys: [AuditFixtures.attackerKey.publicKey]))
        #expect(!checkpoint.verify(publicKeys: []))
        #expect(
            AuditChain.verify(entries: chain, checkpoint: checkpoint)
                == .broken(firstBadSequence: 50, reason: .checkpointSignatureInvalid(keyID: checkpoint.keyID)))
    }

    @Test("signing refuses a head hash that is not 32 bytes")
    func shortHash() {
        #expect(throws: CHOMError.self) {
            try AuditCheckpoint.sign(sequence: 1, headHash: [1, 2, 3], time: AuditFixtures.start, key: AuditFixtures.signingKey)
        }
    }

    @Test("checkpoints export to JSON lines and import back equal")
    func jsonLines() throws {
        let checkpoints = try [10, 20, 30].map { try AuditFixtures.checkpoint(chain, at: $0) }
        let text = AuditCheckpoint.jsonLines(checkpoints)
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.hasSuffix("\n"))
        #expect(try AuditCheckpoint.parseJSONLines(text) == checkpoints)
        #expect(try AuditCheckpoint.parseJSONLines("\n" + text + "\n\n") == checkpoints)
        for checkpoint in try AuditCheckpoint.parseJSONLines(text) {
            #expect(checkpoint.verify(publicKeys: AuditFixtures.trusted))
        }
    }

    /// A field of an exported line set to a bad value; nil for a line that is not JSON at all.
    static let badFields: [(field: String, value: any Sendable)?] = [
        nil, ("head_hash", String(repeating: "ab", count: 31)), ("head_hash", String(repeating: "zz", count: 32)),
        ("signature", String(repeating: "0", count: 127)), ("time", "2027-01-15T08:00:00Z"), ("sequence", "ten"),
        ("key_id", 7),
    ]

    @Test("an import names the first line that is not a checkpoint", arguments: 0..<badFields.count)
    func badLine(variant: Int) throws {
        let good = try AuditFixtures.checkpoint(chain, at: 10).jsonLine
        var bad = "not json"
        if let (field, value) = Self.badFields[variant] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(good.utf8)) as? [String: Any])
            object[field] = value
            bad = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        #expect(try AuditCheckpoint.parseJSONLines(good + "\n") == [try AuditCheckpoint.parseJSONLines(good)[0]])
        let error = #expect(throws: CHOMError.self) { try AuditCheckpoint.parseJSONLines(good + "\n" + bad + "\n") }
        #expect(error?.description.contains("line 2") == true)
        #expect(error?.code == .invalidInput)
    }

    @Test(
        "a checkpoint is due after N entries or M seconds, never for an empty chain or no new entry",
        arguments: [
            (nil as Int64?, Int64(0), 0.0, false), (nil, 1, 0, true), (10, 10, 3600, false), (10, 11, 0, false),
            (10, 110, 0, true), (10, 109, 0, false), (10, 11, 300, true), (10, 11, 299, false),
        ])
    func due(lastSequence: Int64?, headSequence: Int64, elapsed: Double, due: Bool) throws {
        let now = AuditFixtures.start.addingTimeInterval(elapsed)
        let last = try lastSequence.map {
            try AuditCheckpoint.sign(
                sequence: $0, headHash: AuditChain.genesisHash, time: AuditFixtures.start, key: AuditFixtures.signingKey)
        }
        let head = AuditChain.Head(sequence: headSequence, hash: AuditChain.genesisHash)
        #expect(AuditCheckpoint.isDue(last: last, head: head, now: now, everyEntries: 100, everyInterval: 300) == due)
    }
}
