import CHOMCore
package import Crypto
package import Foundation

/// The bytes an envelope signature covers: a domain tag, the header length as
/// a big-endian UInt32, the header bytes and the payload bytes, exactly as sent.
/// The tag keeps these signatures from being valid for any other use of the key;
/// the length keeps bytes from shifting between header and payload.
package enum EnvelopeSigning {
    package static let domainTag: [UInt8] = Array("chom-envelope-v1".utf8) + [0]

    package static func signedBytes(header: Data, payload: Data) -> Data {
        var bytes = Data(capacity: domainTag.count + 4 + header.count + payload.count)
        bytes.append(contentsOf: domainTag)
        let length = UInt32(header.count).bigEndian
        withUnsafeBytes(of: length) { bytes.append(contentsOf: $0) }
        bytes.append(header)
        bytes.append(payload)
        return bytes
    }

    /// A key id: the first 8 bytes of SHA-256 of the raw public key, lowercase hex.
    package static func keyID(of publicKey: Curve25519.Signing.PublicKey) -> String {
        let digest = SHA256.hash(data: publicKey.rawRepresentation)
        return Hex.encode(digest.prefix(8))
    }
}

/// The coordinator's signing key with its id.
package struct EnvelopeSigner: Sendable {
    package let privateKey: Curve25519.Signing.PrivateKey
    package let keyID: String

    package init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.keyID = EnvelopeSigning.keyID(of: privateKey.publicKey)
    }

    package var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }
}

/// The public keys an agent trusts, by key id.
package struct TrustedEnvelopeKeys: Sendable {
    package var keys: [String: Curve25519.Signing.PublicKey]

    package init(_ publicKeys: [Curve25519.Signing.PublicKey]) {
        keys = Dictionary(publicKeys.map { (EnvelopeSigning.keyID(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
    }

    package init(raw: [Data]) throws {
        self.init(try raw.map { try Curve25519.Signing.PublicKey(rawRepresentation: $0) })
    }
}
