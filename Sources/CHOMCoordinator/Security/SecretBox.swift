import Crypto
package import Foundation

/// Secrets at rest (TOTP seeds and the like), sealed with AES-256-GCM under the key ring's
/// active key into a self-describing text:
///
///     chomsec:v1:<keyID>:<base64url(nonce ‖ ciphertext ‖ tag)>
///
/// - `keyID` names the ring key that sealed it, so old secrets stay readable after a rotation.
/// - The nonce is 12 random bytes per seal; the tag is 16 bytes; base64url has no padding.
/// - `context` (for example `totp:<user id>`) is AES-GCM's authenticated data, as UTF-8:
///   it is not stored, and a ciphertext copied to another row (another context) does not open.
///
/// Pure apart from the random nonce. Errors never carry plaintext, ciphertext or key bytes.
package struct SecretBox: Sendable {
    package let keyRing: KeyRing

    package init(keyRing: KeyRing) {
        self.keyRing = keyRing
    }

    /// Seals `plaintext` for `context` under the active key.
    package func seal(plaintext: Data, context: String) -> String {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(
                plaintext, using: keyRing.activeKey, nonce: AES.GCM.Nonce(), authenticating: Data(context.utf8))
        } catch {
            // Only a key of the wrong size or a bad nonce makes AES-GCM throw; the ring admits
            // 256-bit keys only and the nonce is AES.GCM.Nonce(), 12 random bytes.
            preconditionFailure("AES-GCM refused a 256-bit key and a fresh nonce")
        }
        // `combined` is nil only for nonces other than 12 bytes.
        guard let combined = box.combined else { preconditionFailure("AES-GCM box without a combined form") }
        return SealedSecretText(keyID: keyRing.activeKeyID, combined: combined).text
    }

    /// Opens a sealed text, checking that it was sealed for `context`.
    /// Throws `.malformed`, `.unsupportedVersion`, `.unknownKeyID` or `.authenticationFailed`.
    package func open(_ text: String, context: String) throws(SecretBoxError) -> Data {
        let sealed = try SealedSecretText(parsing: text)
        guard let key = keyRing.key(id: sealed.keyID) else { throw .unknownKeyID(sealed.keyID) }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: sealed.combined)
        } catch {
            throw .malformed(reason: "the payload is not an AES-GCM sealed box")
        }
        do {
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw .authenticationFailed
        }
    }

    /// True when `text` is not sealed under the active key, including when it is not a sealed
    /// text at all: a rotation then reseals it, or reports why it cannot.
    package func needsRotation(_ text: String) -> Bool {
        SealedSecretText.keyID(of: text) != keyRing.activeKeyID
    }

    /// Opens `text` with whichever ring key sealed it and seals the plaintext again under the
    /// active key, for the same context. A text already under the active key is verified and
    /// returned unchanged, so a rotation that is run twice changes nothing the second time.
    package func reseal(_ text: String, context: String) throws(SecretBoxError) -> String {
        let plaintext = try open(text, context: context)
        guard needsRotation(text) else { return text }
        return seal(plaintext: plaintext, context: context)
    }

    /// The key id a sealed text names, without opening it; nil if it is not a `chomsec:v1` text.
    package static func keyID(of text: String) -> String? {
        SealedSecretText.keyID(of: text)
    }
}
