// FleetCA.swift
// The coordinator's fleet certificate authority: a self-signed ECDSA P-256 CA
// certificate plus its private key. Issuance lives in FleetCA+Issuance.swift,
// agent-certificate verification in FleetCA+Verification.swift.

import CHOMCore
package import Crypto
package import Foundation
import SwiftASN1
package import X509

/// The fleet CA. Value type; cheap to copy and safe to share across tasks.
package struct FleetCA: Sendable {
    /// The self-signed CA certificate.
    package let certificate: Certificate
    /// The CA signing key. Never logged; `description` and reflection omit it.
    package let privateKey: P256.Signing.PrivateKey
    /// DER encoding of `certificate` (what the fingerprint is computed over).
    package let certificateDER: [UInt8]

    /// Clock skew tolerated on `notBefore` of every certificate this CA issues.
    package static let clockSkewAllowance: TimeInterval = 5 * 60
    /// Default lifetime of a new CA: ten years.
    package static let defaultValidity: TimeInterval = 10 * 365.25 * 24 * 60 * 60

    /// Builds a FleetCA from parts already checked to belong together.
    private init(checkedCertificate certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificateDER = try Self.derBytes(of: certificate, what: "CA certificate")
    }

    /// Creates a new self-signed fleet CA.
    ///
    /// BasicConstraints CA with maxPathLength 0 (it signs leaves only), KeyUsage
    /// keyCertSign + cRLSign (critical), a subject key identifier, a random
    /// positive 20-byte serial, valid from `now - clockSkewAllowance` to `now + validity`.
    package static func create(
        commonName: String,
        now: Date,
        validity: TimeInterval = FleetCA.defaultValidity
    ) throws -> FleetCA {
        try requirePositive(validity)
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate: Certificate
        do {
            let name = try DistinguishedName { CommonName(commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            }
            certificate = try Certificate(
                version: .v3,
                serialNumber: randomSerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - clockSkewAllowance,
                notValidAfter: now + validity,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
        } catch {
            throw PKIError.signingFailed(what: "CA certificate", reason: String(describing: error))
        }
        return try FleetCA(checkedCertificate: certificate, privateKey: key)
    }

    /// Loads a CA from its PEM documents, checking that the key belongs to the
    /// certificate and that the certificate is a CA.
    package init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw PKIError.invalidPEM(what: "CA certificate")
        }
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw PKIError.invalidPEM(what: "CA private key (expected an ECDSA P-256 key)")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw PKIError.caKeyMismatch
        }
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else {
            throw PKIError.notACertificateAuthority
        }
        try self.init(checkedCertificate: certificate, privateKey: key)
    }

    /// The CA certificate as a PEM "CERTIFICATE" document.
    package var certificatePEM: String {
        PEMDocument(type: "CERTIFICATE", derBytes: certificateDER).pemString
    }

    /// The CA private key as a PKCS#8 PEM "PRIVATE KEY" document. Secret: store via `PrivateFile`.
    package var privateKeyPEM: String {
        privateKey.pemRepresentation
    }

    /// Lowercase hex SHA-256 of the CA certificate's DER: the value agents pin (`--ca-sha256`).
    package var fingerprintSHA256: String {
        Self.fingerprintSHA256(ofDER: certificateDER)
    }

    /// Lowercase hex SHA-256 of a DER encoding.
    package static func fingerprintSHA256(ofDER der: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: der))
    }

    /// DER encoding of a certificate. (`DER.Serializer.serialized(element:)` is internal to
    /// swift-certificates, so go through a serializer.)
    static func derBytes(of certificate: Certificate, what: String) throws -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch {
            throw PKIError.serializationFailed(what: what)
        }
    }

    /// A random, positive serial of exactly 20 bytes (RFC 5280's maximum), first byte never zero.
    static func randomSerialNumber() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[0] = (bytes[0] & 0x7f) | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    static func requirePositive(_ validity: TimeInterval) throws {
        guard validity.isFinite, validity > 0 else {
            throw PKIError.invalidValidity(seconds: validity)
        }
    }
}

extension FleetCA: CustomStringConvertible, CustomReflectable {
    /// Subject and fingerprint only: the private key never appears in logs or dumps.
    package var description: String {
        "FleetCA(subject: \(certificate.subject), sha256: \(fingerprintSHA256))"
    }

    package var customMirror: Mirror {
        Mirror(self, children: ["subject": "\(certificate.subject)", "fingerprintSHA256": fingerprintSHA256])
    }
}
