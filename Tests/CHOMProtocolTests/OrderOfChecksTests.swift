import CHOMCore
import CHOMProtocol
import Foundation
import Testing

/// One fault an envelope (or the agent's state) can have. Faults combine: an envelope with two
/// must be refused for the one the opener checks first.
enum Fault: String, Sendable, CustomTestStringConvertible {
    case oversizeSignature, oversizeEnvelope, malformedHeader, unknownKey, badSignature
    case misaddressed, notYetValid, expired, replayed, stale
    case declaredOversize, decompression, undecodable

    var testDescription: String { rawValue }

    var reason: String {
        switch self {
        case .oversizeSignature, .oversizeEnvelope, .declaredOversize: "oversize"
        case .malformedHeader: "malformed_header"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .misaddressed: "misaddressed"
        case .notYetValid: "not_yet_valid"
        case .expired: "expired"
        case .replayed: "replayed"
        case .stale: "stale"
        case .decompression: "decompression"
        case .undecodable: "undecodable"
        }
    }

    /// Faults are applied in this order: re-signed header and payload edits first, then replacing the
    /// header, then signing with another key, then breaking the signature.
    private var stage: Int {
        switch self {
        case .malformedHeader: 1
        case .unknownKey: 2
        case .badSignature, .oversizeSignature: 3
        default: 0
        }
    }

    private func apply(to attempt: inout OpenAttempt) throws {
        switch self {
        case .oversizeSignature: attempt.envelope.signature.removeLast()
        case .oversizeEnvelope:
            attempt.envelope = try Fixtures.resign(attempt.envelope) { _, payload in payload += Data(count: 1 << 20) }
        case .malformedHeader:
            attempt.envelope = try Fixtures.sign(headerBytes: Data([0xFF, 0xFF, 0xFF]), payload: attempt.envelope.payload)
        case .unknownKey:
            attempt.envelope = try Fixtures.resign(attempt.envelope, signer: Fixtures.otherSigner) { header, _ in
                header.signingKeyID = Fixtures.otherSigner.keyID
            }
        case .badSignature: attempt.envelope.signature[attempt.envelope.signature.startIndex] ^= 0x01
        case .misaddressed:
            attempt.envelope = try Fixtures.resign(attempt.envelope) { header, _ in
                header.audienceAgentID = Fixtures.otherAgent.description
            }
        case .notYetValid: attempt.now = Date(unixMilliseconds: Fixtures.issuedAtMs - 120_000)
        case .expired: attempt.now = Date(unixMilliseconds: Fixtures.expiresAtMs + 120_000)
        case .replayed: attempt.replay = ReplayWindow(highest: 6, bitmap: 0b111)
        case .stale: attempt.replay = ReplayWindow(highest: 100, bitmap: 1)
        case .declaredOversize:
            attempt.envelope = try Fixtures.resign(attempt.envelope) { header, _ in header.uncompressedSize = 1 << 40 }
        case .decompression:
            attempt.envelope = try Fixtures.resign(attempt.envelope) { header, _ in header.uncompressedSize -= 1 }
        case .undecodable:
            attempt.envelope = try Fixtures.resign(attempt.envelope) { header, _ in header.taskKind = .restore }
        }
    }

    /// A deploy task sealed with sequence 5 for an agent that has accepted 1…4, with `faults` applied.
    static func attempt(_ faults: [Fault]) throws -> OpenAttempt {
        var attempt = OpenAttempt(envelope: try Fixtures.seal(Fixtures.deployTask(70), sequence: 5))
        for fault in faults.sorted(by: { $0.stage < $1.stage }) { try fault.apply(to: &attempt) }
        return attempt
    }
}

@Suite("Order of checks")
struct OrderOfChecksTests {
    /// (checked first, checked later): size → header → key id → signature → audience → time →
    /// sequence → declared size → decompression → decoding.
    static let pairs: [(Fault, Fault)] = [
        (.oversizeSignature, .malformedHeader),
        (.oversizeEnvelope, .unknownKey),
        (.malformedHeader, .badSignature),
        (.unknownKey, .badSignature),
        (.badSignature, .misaddressed),
        (.badSignature, .expired),
        (.misaddressed, .expired),
        (.misaddressed, .replayed),
        (.notYetValid, .stale),
        (.expired, .replayed),
        (.replayed, .undecodable),
        (.stale, .decompression),
        (.declaredOversize, .undecodable),
        (.decompression, .undecodable),
    ]

    @Test("an envelope with two faults is refused for the one checked first", arguments: pairs)
    func firstFaultWins(first: Fault, later: Fault) throws {
        // Each fault alone earns its own reason, so the pair really has both.
        #expect(try Fault.attempt([first]).open().0.reason == first.reason)
        #expect(try Fault.attempt([later]).open().0.reason == later.reason)
        let both = try Fault.attempt([first, later])
        let (result, replayAfter) = both.open()
        #expect(result.reason == first.reason)
        #expect(replayAfter == both.replay, "a refusal leaves the replay window unchanged")
    }

    @Test("an envelope with no fault opens and records its sequence")
    func noFault() throws {
        let attempt = try Fault.attempt([])
        let (result, replayAfter) = attempt.open()
        #expect(result.reason == "accept")
        #expect(replayAfter == ReplayWindow(highest: 5, bitmap: 0b11111))
    }

    @Test("a replay of a task whose payload no longer decodes is still answered as replayed")
    func replayedBeforeDecoding() throws {
        let envelope = try Fixtures.seal(Fixtures.deployTask(71), sequence: 2)
        var replay = ReplayWindow(highest: 1, bitmap: 1)
        #expect(Fixtures.open(envelope, replay: &replay).reason == "accept")
        let garbled = try Fixtures.resign(envelope) { _, payload in payload = Data("garbage".utf8) }
        #expect(Fixtures.open(garbled, replay: &replay).reason == "replayed")
        #expect(replay == ReplayWindow(highest: 2, bitmap: 0b11))
    }
}
