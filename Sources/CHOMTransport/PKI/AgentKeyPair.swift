// AgentKeyPair.swift
// The agent's side of enrollment: a P-256 key that never leaves the VPS and a
// CSR carrying its public key, plus PEM helpers for both.

package import Crypto
import SwiftASN1
package import X509

package enum AgentKeyPair {
    /// A fresh ECDSA P-256 signing key.
    package static func generate() -> P256.Signing.PrivateKey {
        P256.Signing.PrivateKey()
    }

    /// A PKCS#10 CSR for `privateKey`, subject CN = `commonName`, signed with ECDSA-SHA256.
    /// It requests no extensions: the coordinator decides every extension itself.
    package static func makeCSR(
        privateKey: P256.Signing.PrivateKey,
        commonName: String
    ) throws -> CertificateSigningRequest {
        do {
            let subject = try DistinguishedName { CommonName(commonName) }
            return try CertificateSigningRequest(
                version: .v1,
                subject: subject,
                privateKey: Certificate.PrivateKey(privateKey),
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: .ecdsaWithSHA256
            )
        } catch {
            throw PKIError.signingFailed(what: "certificate signing request", reason: String(describing: error))
        }
    }

    /// The CSR as a PEM "CERTIFICATE REQUEST" document.
    package static func pem(of csr: CertificateSigningRequest) throws -> String {
        do {
            return try csr.serializeAsPEM().pemString
        } catch {
            throw PKIError.serializationFailed(what: "certificate signing request")
        }
    }

    /// Parses a PEM "CERTIFICATE REQUEST". Does not check its signature
    /// (`FleetCA.issueAgentCertificate` does).
    package static func csr(pem: String) throws -> CertificateSigningRequest {
        do {
            return try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw PKIError.invalidPEM(what: "certificate signing request")
        }
    }

    /// The private key as a PKCS#8 PEM "PRIVATE KEY" document. Secret: store via `PrivateFile`.
    package static func pem(of privateKey: P256.Signing.PrivateKey) -> String {
        privateKey.pemRepresentation
    }

    /// Parses a PEM P-256 private key (PKCS#8 or SEC1).
    package static func privateKey(pem: String) throws -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw PKIError.invalidPEM(what: "private key (expected an ECDSA P-256 key)")
        }
    }

    /// A certificate as a PEM "CERTIFICATE" document.
    package static func pem(of certificate: Certificate) throws -> String {
        do {
            return try certificate.serializeAsPEM().pemString
        } catch {
            throw PKIError.serializationFailed(what: "certificate")
        }
    }

    /// Parses a PEM "CERTIFICATE".
    package static func certificate(pem: String) throws -> Certificate {
        do {
            return try Certificate(pemEncoded: pem)
        } catch {
            throw PKIError.invalidPEM(what: "certificate")
        }
    }
}
