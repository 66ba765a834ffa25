import CHOMCoordinator
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("Secrets at rest")
struct SecretBoxTests {
    static let keyA = Data(repeating: 0x11, count: 32).base64EncodedString()
    static let keyB = Data(repeating: 0x22, count: 32).base64EncodedString()
    static let context = "totp:7d0f4c2e-8c1a-4a57-9b8e-1f0f3a6c2d11"

    let box = try! SecretBox(keyRing: KeyRing(configuration: "2026-01:\(keyA)", active: "2026-01"))

    /// "JBSWY3DPEHPK3PXP" sealed under key 2026-01 (32 × 0x11) for `context` with nonce 00 01 … 0b,
    /// made by Python's `cryptography` AESGCM, not by this code. It must keep opening: it stands
    /// for every secret already stored in a database.
    static let pinnedText = "chomsec:v1:2026-01:AAECAwQFBgcICQoLWaHlRCKQcaRR8IPU9_-vdlAVhl-wLZz1gaxtaAmXtGQ"

    @Test(
        "a sealed secret opens to the same bytes for the same context",
        arguments: [Data(), Data("JBSWY3DPEHPK3PXP".utf8), Data("mot de passe · 秘密 · 🔑".utf8), Data((0..<4096).map { UInt8($0 % 251) })])
    func roundTrip(plaintext: Data) throws {
        let text = box.seal(plaintext: plaintext, context: Self.context)
        #expect(try box.open(text, context: Self.context) == plaintext)
    }

    @Test("the sealed text is chomsec:v1:<key id>:<base64url>, carrying nonce, ciphertext and tag")
    func format() throws {
        let plaintext = Data("JBSWY3DPEHPK3PXP".utf8)
        let text = box.seal(plaintext: plaintext, context: Self.context)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        #expect(parts.count == 4)
        #expect(parts[0] == "chomsec" && parts[1] == "v1" && parts[2] == "2026-01")
        #expect(parts[3].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        // 12-byte nonce + plaintext + 16-byte tag, base64url without padding.
        #expect(parts[3].count == ((12 + plaintext.count + 16) * 4 + 2) / 3)
        #expect(SecretBox.keyID(of: text) == "2026-01")
        #expect(box.seal(plaintext: plaintext, context: Self.context) != text, "each seal takes a fresh nonce")
    }

    @Test("a secret sealed by an earlier build still opens")
    func pinned() throws {
        #expect(try box.open(Self.pinnedText, context: Self.context) == Data("JBSWY3DPEHPK3PXP".utf8))
    }

    @Test("a ciphertext never contains the plaintext", arguments: [16, 64, 1000])
    func noPlaintext(length: Int) throws {
        let plaintext = String(repeating: "SECRETSEED", count: length / 10 + 1)
        let text = box.seal(plaintext: Data(plaintext.utf8), context: Self.context)
        #expect(!text.contains(plaintext.prefix(8)))
        #expect(!text.contains(Data(plaintext.utf8).base64EncodedString().prefix(12)))
        let payload = String(text.split(separator: ":")[3])
        let raw = try #require(Data(base64Encoded: base64(payload)))
        #expect(raw.range(of: Data(plaintext.prefix(8).utf8)) == nil)
    }

    enum Refusal: String, CaseIterable, CustomTestStringConvertible {
        case wrongContext, emptyContext, contextOfAnotherUser
        case ciphertextBitFlipped, tagBitFlipped, nonceBitFlipped, tagTruncated, payloadSwappedFromAnotherSecret
        case unknownKeyID, otherKeyUnderSameID
        case empty, plainText, missingPayload, wrongScheme, extraField, paddedPayload, payloadNotBase64URL,
            payloadTooShort, invalidKeyIDInText
        case futureVersion

        var testDescription: String { rawValue }

        var expected: SecretBoxError {
            switch self {
            case .wrongContext, .emptyContext, .contextOfAnotherUser, .ciphertextBitFlipped, .tagBitFlipped,
                .nonceBitFlipped, .payloadSwappedFromAnotherSecret, .otherKeyUnderSameID:
                .authenticationFailed
            case .unknownKeyID: .unknownKeyID("2025-07")
            case .futureVersion: .unsupportedVersion("v2")
            case .tagTruncated, .empty, .plainText, .missingPayload, .wrongScheme, .extraField, .paddedPayload,
                .payloadNotBase64URL, .payloadTooShort, .invalidKeyIDInText:
                .malformed(reason: "")
            }
        }
    }

    /// Returns the text and context to open, built from a fresh seal.
    func attempt(_ refusal: Refusal) throws -> (text: String, context: String, box: SecretBox) {
        let text = box.seal(plaintext: Data("JBSWY3DPEHPK3PXP".utf8), context: Self.context)
        let prefix = "chomsec:v1:2026-01:"
        let payload = String(text.dropFirst(prefix.count))
        func flipping(_ index: (Int) -> Int) throws -> String {
            var raw = [UInt8](try #require(Data(base64Encoded: base64(payload))))
            raw[index(raw.count)] ^= 0x01
            return prefix + base64URL(raw)
        }
        switch refusal {
        case .wrongContext: return (text, "totp:someone-else", box)
        case .emptyContext: return (text, "", box)
        case .contextOfAnotherUser: return (text, Self.context.replacingOccurrences(of: "totp:", with: "recovery:"), box)
        case .ciphertextBitFlipped: return (try flipping { _ in 12 }, Self.context, box)
        case .tagBitFlipped: return (try flipping { $0 - 1 }, Self.context, box)
        case .nonceBitFlipped: return (try flipping { _ in 0 }, Self.context, box)
        case .tagTruncated:
            let raw = [UInt8](try #require(Data(base64Encoded: base64(payload))))
            return (prefix + base64URL(raw.prefix(27)), Self.context, box)
        case .payloadSwappedFromAnotherSecret:
            let other = box.seal(plaintext: Data("another".utf8), context: "totp:someone-else")
            return (prefix + String(other.dropFirst(prefix.count)), Self.context, box)
        case .unknownKeyID: return (text.replacingOccurrences(of: ":2026-01:", with: ":2025-07:"), Self.context, box)
        case .otherKeyUnderSameID:
            return (text, Self.context, try SecretBox(keyRing: KeyRing(configuration: "2026-01:\(Self.keyB)", active: "2026-01")))
        case .empty: return ("", Self.context, box)
        case .plainText: return ("JBSWY3DPEHPK3PXP", Self.context, box)
        case .missingPayload: return ("chomsec:v1:2026-01", Self.context, box)
        case .wrongScheme: return (text.replacingOccurrences(of: "chomsec:", with: "chomsek:"), Self.context, box)
        case .extraField: return (prefix + "x:" + payload, Self.context, box)
        case .paddedPayload: return (prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", Self.context, box)
        case .payloadNotBase64URL: return (prefix + payload.replacingOccurrences(of: payload.prefix(1), with: "+"), Self.context, box)
        case .payloadTooShort: return (prefix + base64URL([UInt8](repeating: 0, count: 27)), Self.context, box)
        case .invalidKeyIDInText: return (text.replacingOccurrences(of: ":2026-01:", with: ":2026 01:"), Self.context, box)
        case .futureVersion: return (text.replacingOccurrences(of: "chomsec:v1:", with: "chomsec:v2:"), Self.context, box)
        }
    }

    @Test("each refusal has its own typed error", arguments: Refusal.allCases)
    func refused(refusal: Refusal) throws {
        let (text, context, box) = try attempt(refusal)
        do {
            let opened = try box.open(text, context: context)
            Issue.record("opened \(opened.count) bytes")
        } catch {
            switch (error, refusal.expected) {
            case (.malformed, .malformed): break
            default: #expect(error == refusal.expected)
            }
            #expect(error.code == .integrity)
            #expect(!error.description.contains("JBSWY3DP"))
            #expect(!error.description.contains(String(text.suffix(16))) || text.count < 16)
            #expect(!error.description.contains(Self.keyA) && !error.description.contains(Self.keyB))
        }
    }

    @Test("rotation reseals every value under the new key, and every value still reads back")
    func rotation() throws {
        let values = (0..<25).map { (context: "totp:user-\($0)", plaintext: Data("seed-\($0)-\(UUID())".utf8)) }
        let sealed = values.map { box.seal(plaintext: $0.plaintext, context: $0.context) }

        let rotating = try SecretBox(keyRing: KeyRing(configuration: "2026-01:\(Self.keyA),2027-01:\(Self.keyB)", active: "2027-01"))
        #expect(sealed.allSatisfy(rotating.needsRotation))
        let resealed = try zip(sealed, values).map { try rotating.reseal($0, context: $1.context) }
        #expect(!resealed.contains(where: rotating.needsRotation))
        #expect(resealed.allSatisfy { SecretBox.keyID(of: $0) == "2027-01" })

        // After the old key is dropped, everything reads back under the new key alone.
        let rotated = try SecretBox(keyRing: KeyRing(configuration: "2027-01:\(Self.keyB)", active: "2027-01"))
        for (text, value) in zip(resealed, values) {
            #expect(try rotated.open(text, context: value.context) == value.plaintext)
        }
        // And the values sealed before the rotation no longer would.
        #expect(throws: SecretBoxError.unknownKeyID("2026-01")) { try rotated.open(sealed[0], context: values[0].context) }
        // Resealing is idempotent: a second run changes nothing.
        #expect(try zip(resealed, values).map { try rotated.reseal($0, context: $1.context) } == resealed)
    }

    @Test("reseal refuses a value whose context does not match, rather than re-binding it")
    func resealChecksContext() throws {
        let text = box.seal(plaintext: Data("x".utf8), context: Self.context)
        let rotating = try SecretBox(keyRing: KeyRing(configuration: "2026-01:\(Self.keyA),2027-01:\(Self.keyB)", active: "2027-01"))
        #expect(throws: SecretBoxError.authenticationFailed) { try rotating.reseal(text, context: "totp:other") }
        #expect(throws: SecretBoxError.authenticationFailed) { try box.reseal(text, context: "totp:other") }
    }

    @Test("a value that is not a sealed secret needs rotation, so that the rotation reports it")
    func needsRotationOfGarbage() {
        #expect(box.needsRotation("plain"))
        #expect(box.needsRotation(""))
        #expect(!box.needsRotation(box.seal(plaintext: Data(), context: "c")))
        #expect(throws: SecretBoxError.self) { try box.reseal("plain", context: "c") }
    }
}

private func base64(_ url: String) -> String {
    let standard = url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    return standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
}

private func base64URL(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
