import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf
import Testing

/// One way to earn each refusal, built fresh from `EnvelopeSealer.seal` and tampering.
/// The base is a deploy task sealed with sequence 5 for an agent that has accepted 1…4.
enum FreshRefusal: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case envelopeOverOneMiB, headerOver4KiB, signature63Bytes, signature65Bytes, declaredSizeOverCap
    case headerNotProtobuf
    case unknownKey
    case payloadBitFlipped, headerBitFlipped, signatureBitFlipped, signedByOtherKeyUnderTrustedID
    case otherAgent, audienceInUppercase
    case issuedTwoMinutesAhead, expiredTwoMinutesAgo, expiresBeforeIssued
    case sequenceAlreadyAccepted, sequenceBelowWindow, sequenceZero
    case declaredSmaller, declaredLarger, bomb, truncatedFrame, trailingBytes, payloadNotZstd
    case payloadNotATask, kindMismatch, taskIDMismatch, taskWithoutKind, unknownFutureKind

    var testDescription: String { rawValue }

    var expectedReason: String {
        switch self {
        case .envelopeOverOneMiB, .headerOver4KiB, .signature63Bytes, .signature65Bytes, .declaredSizeOverCap:
            "oversize"
        case .headerNotProtobuf: "malformed_header"
        case .unknownKey: "unknown_key"
        case .payloadBitFlipped, .headerBitFlipped, .signatureBitFlipped, .signedByOtherKeyUnderTrustedID:
            "bad_signature"
        case .otherAgent, .audienceInUppercase: "misaddressed"
        case .issuedTwoMinutesAhead: "not_yet_valid"
        case .expiredTwoMinutesAgo, .expiresBeforeIssued: "expired"
        case .sequenceAlreadyAccepted: "replayed"
        case .sequenceBelowWindow, .sequenceZero: "stale"
        case .declaredSmaller, .declaredLarger, .bomb, .truncatedFrame, .trailingBytes, .payloadNotZstd:
            "decompression"
        case .payloadNotATask, .kindMismatch, .taskIDMismatch, .taskWithoutKind, .unknownFutureKind: "undecodable"
        }
    }

    func build() throws -> OpenAttempt {
        let task = Fixtures.deployTask(50)
        let taskBytes: Data = try task.serializedBytes()
        let valid = try Fixtures.seal(task, sequence: 5)
        var built = OpenAttempt(envelope: valid)
        switch self {
        case .envelopeOverOneMiB:
            built.envelope = try Fixtures.resign(valid) { _, payload in payload = Data(count: 1 << 20) }
        case .headerOver4KiB:
            built.envelope = try Fixtures.resign(valid) { header, _ in header.trace.traceparent = String(repeating: "0", count: 4096) }
        case .signature63Bytes: built.envelope.signature.removeLast()
        case .signature65Bytes: built.envelope.signature.append(0)
        case .declaredSizeOverCap:
            built.envelope = try Fixtures.resign(valid) { header, _ in header.uncompressedSize = (4 << 20) + 1 }
        case .headerNotProtobuf:
            built.envelope = try Fixtures.sign(headerBytes: Data([0xFF, 0xFF, 0xFF]), payload: valid.payload)
        case .unknownKey: built.envelope = try Fixtures.seal(task, sequence: 5, signer: Fixtures.otherSigner)
        case .payloadBitFlipped: built.envelope.payload[built.envelope.payload.startIndex + 10] ^= 0x10
        case .headerBitFlipped:
            // Byte 2 is the first character of the envelope id: the header still parses, the signature fails.
            built.envelope.header[built.envelope.header.startIndex + 2] ^= 0x01
            _ = try Fixtures.header(of: built.envelope)
        case .signatureBitFlipped: built.envelope.signature[built.envelope.signature.startIndex + 31] ^= 0x80
        case .signedByOtherKeyUnderTrustedID:
            built.envelope = try Fixtures.resign(valid, signer: Fixtures.otherSigner) { header, _ in
                header.signingKeyID = Fixtures.signer.keyID
            }
        case .otherAgent: built.envelope = try Fixtures.seal(task, sequence: 5, audience: Fixtures.otherAgent)
        case .audienceInUppercase:
            // The audience is compared as the exact lowercase string: an uppercase spelling of the same UUID is refused.
            let lettered = try #require(AgentID("abcdef00-0000-4000-8000-000000000001"))
            built.opener.expectedAgent = lettered
            built.envelope = try Fixtures.resign(try Fixtures.seal(task, sequence: 5, audience: lettered)) { header, _ in
                header.audienceAgentID = header.audienceAgentID.uppercased()
            }
        case .issuedTwoMinutesAhead: built.now = Fixtures.issuedAt.addingTimeInterval(-120)
        case .expiredTwoMinutesAgo: built.now = Date(unixMilliseconds: Fixtures.expiresAtMs + 120_000)
        case .expiresBeforeIssued:
            built.envelope = try Fixtures.resign(valid) { header, _ in header.expiresAtMs = header.issuedAtMs - 1 }
        case .sequenceAlreadyAccepted: built.replay = ReplayWindow(highest: 6, bitmap: 0b111)
        case .sequenceBelowWindow: built.replay = ReplayWindow(highest: 69, bitmap: 1)
        case .sequenceZero: built.envelope = try Fixtures.seal(task, sequence: 0)
        case .declaredSmaller: built.envelope = try Fixtures.resign(valid) { header, _ in header.uncompressedSize -= 1 }
        case .declaredLarger:
            built.envelope = try Fixtures.resign(valid) { header, payload in
                header.uncompressedSize += 1
                payload = ZstdFrame.raw(taskBytes, recordContentSize: false)
            }
        case .bomb:
            built.envelope = try Fixtures.resign(valid) { header, payload in
                header.uncompressedSize = UInt64(taskBytes.count)
                payload = ZstdFrame.rle(byte: 0x0A, count: 1 << 30)
            }
        case .truncatedFrame: built.envelope = try Fixtures.resign(valid) { _, payload in payload.removeLast(3) }
        case .trailingBytes: built.envelope = try Fixtures.resign(valid) { _, payload in payload.append(0) }
        case .payloadNotZstd: built.envelope = try Fixtures.resign(valid) { _, payload in payload = taskBytes }
        case .payloadNotATask:
            built.envelope = try Fixtures.resign(valid) { header, payload in
                header.uncompressedSize = 3
                payload = ZstdFrame.raw(Data([0x0A, 0x7F, 0x00]))
            }
        case .kindMismatch: built.envelope = try Fixtures.resign(valid) { header, _ in header.taskKind = .rollback }
        case .taskIDMismatch:
            built.envelope = try Fixtures.resign(valid) { header, _ in header.envelopeID = Fixtures.taskID(51) }
        case .taskWithoutKind:
            var bare = Chom_Agent_V1_Task()
            bare.taskID = task.taskID
            built.envelope = try Fixtures.seal(bare, sequence: 5)
        case .unknownFutureKind:
            // Field 99 (a kind from a later protocol version, empty): this agent sees no kind it implements.
            var bare = Chom_Agent_V1_Task()
            bare.taskID = task.taskID
            let bytes: Data = try bare.serializedBytes() + Data([0x9A, 0x06, 0x00])
            built.envelope = try Fixtures.resign(valid) { header, payload in
                header.taskKind = .UNRECOGNIZED(99)
                header.uncompressedSize = UInt64(bytes.count)
                payload = ZstdFrame.raw(bytes)
            }
        }
        return built
    }
}

@Suite("Envelope refusals")
struct EnvelopeRefusalTests {
    @Test(
        "each refusal, built fresh, is reported with its reason and leaves the replay window unchanged",
        arguments: FreshRefusal.allCases)
    func refusal(kind: FreshRefusal) throws {
        let attempt = try kind.build()
        let (result, replayAfter) = attempt.open()
        #expect(result.reason == kind.expectedReason)
        #expect(replayAfter == attempt.replay)
    }

    @Test("the fresh refusals cover every refusal reason")
    func everyReason() {
        #expect(Set(FreshRefusal.allCases.map(\.expectedReason)) == Set(GoldenEnvelopeTests.allReasons))
    }

    @Test("the untampered base envelope opens, so each refusal above comes from its tampering")
    func baseOpens() throws {
        var replay = ReplayWindow(highest: 4, bitmap: 0b1111)
        let opened = try Fixtures.opener.open(
            try Fixtures.seal(Fixtures.deployTask(50), sequence: 5), replay: &replay, now: Fixtures.issuedAt)
        #expect(opened.task == Fixtures.deployTask(50))
        #expect(opened.header.sequence == 5)
    }

    @Test("an accept records the sequence; opening the same envelope again is replayed")
    func acceptThenReplay() throws {
        let envelope = try Fixtures.seal(Fixtures.deployTask(52), sequence: 3)
        var replay = ReplayWindow(highest: 1, bitmap: 1)
        let first = Fixtures.open(envelope, replay: &replay)
        #expect(first.reason == "accept")
        #expect(replay == ReplayWindow(highest: 3, bitmap: 0b101))
        let second = Fixtures.open(envelope, replay: &replay)
        #expect(second.reason == "replayed")
        #expect(replay == ReplayWindow(highest: 3, bitmap: 0b101))
        let error = try #require(second.refusal)
        #expect(error == .replayed(sequence: 3))
    }

    @Test("refusal details name the oversized part and never echo more than a bounded id")
    func refusalDetails() throws {
        var replay = ReplayWindow()
        var shortSignature = try Fixtures.seal(Fixtures.deployTask(53), sequence: 1)
        shortSignature.signature.removeLast()
        let oversize = Fixtures.open(shortSignature, replay: &replay).refusal
        #expect(oversize == .oversize(part: "signature", size: 63, limit: 64))
        let longKeyID = try Fixtures.resign(shortSignature) { header, _ in
            header.signingKeyID = String(repeating: "a", count: 1000)
        }
        let unknown = Fixtures.open(longKeyID, replay: &replay).refusal
        #expect(unknown == .unknownKey(keyID: String(repeating: "a", count: 32)))
    }

    @Test("an expiry at Int64.max is far in the future, not an overflow")
    func expiryAtInt64Max() throws {
        let envelope = try Fixtures.resign(try Fixtures.seal(Fixtures.deployTask(54), sequence: 1)) { header, _ in
            header.expiresAtMs = .max
        }
        #expect(Fixtures.outcome(envelope) == "accept")
        let ancient = try Fixtures.resign(envelope) { header, _ in
            header.issuedAtMs = .min
            header.expiresAtMs = .min
        }
        #expect(Fixtures.outcome(ancient) == "expired")
    }

    @Test("a smaller uncompressed cap refuses an honest envelope as oversize before decompressing")
    func configurableCap() throws {
        var limits = EnvelopeLimits()
        limits.maxUncompressedBytes = 100
        let opener = EnvelopeOpener(trustedKeys: Fixtures.opener.trustedKeys, expectedAgent: Fixtures.agent, limits: limits)
        var replay = ReplayWindow()
        let result = Fixtures.open(try Fixtures.seal(Fixtures.deployTask(55), sequence: 1), replay: &replay, opener: opener)
        #expect(result.reason == "oversize")
        #expect(replay == ReplayWindow())
    }

    @Test("peekHeader reads a replayed envelope's header but not an oversized one")
    func peekHeader() throws {
        let envelope = try Fixtures.seal(Fixtures.deployTask(56), sequence: 9)
        #expect(Fixtures.opener.peekHeader(envelope)?.envelopeID == Fixtures.taskID(56))
        let oversized = try Fixtures.resign(envelope) { header, _ in header.trace.tracestate = String(repeating: "x", count: 5000) }
        #expect(Fixtures.opener.peekHeader(oversized) == nil)
    }
}
