// FleetCA+Issuance.swift
// Issuing leaf certificates: the coordinator's gRPC server certificate and
// agents' client certificates (from their CSRs).

package import Crypto
package import Foundation
import SwiftASN1
package import X509

extension FleetCA {
    /// Issues the coordinator's TLS server certificate.
    ///
    /// EKU serverAuth only, KeyUsage digitalSignature, not a CA, SANs = every
    /// hostname as dNSName and every IP literal as iPAddress (4 or 16 bytes).
    package func issueServerCertificate(
        publicKey: P256.Signing.PublicKey,
        hostnames: [String],
        ipAddresses: [String],
        now: Date,
        validity: TimeInterval
    ) throws -> Certificate {
        try Self.requirePositive(validity)
        var names: [GeneralName] = []
        for hostname in hostnames {
            let normalized = hostname.lowercased()
            guard Self.isPlausibleDNSName(normalized), IPAddressLiteral.bytes(normalized) == nil else {
                throw PKIError.invalidHostname(hostname)
            }
            names.append(.dnsName(normalized))
        }
        for address in ipAddresses {
            guard let bytes = IPAddressLiteral.bytes(address) else {
                throw PKIError.invalidIPAddress(address)
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        guard let firstName = hostnames.first ?? ipAddresses.first else {
            throw PKIError.noServerNames
        }
        return try signLeaf(
            commonName: firstName.lowercased(),
            publicKey: Certificate.PublicKey(publicKey),
            usage: .serverAuth,
            subjectAlternativeNames: names,
            now: now,
            validity: validity,
            what: "server certificate"
        )
    }

    /// Issues an agent's mTLS client certificate from its CSR.
    ///
    /// The CSR's self-signature must verify (else `PKIError.csrSignatureInvalid`) and its
    /// key must be P-256. Only the public key is taken from the CSR: its subject and any
    /// requested extensions (SANs included) are ignored. The certificate has subject
    /// CN = the agent id, one URI SAN `chom-agent://<lowercased uuid>`, EKU clientAuth
    /// only (it can never serve as a server certificate), KeyUsage digitalSignature,
    /// not a CA, an authority key identifier, a random serial, and is valid from
    /// `now - clockSkewAllowance` to `now + validity`.
    package func issueAgentCertificate(
        csr: CertificateSigningRequest,
        agentID: UUID,
        now: Date,
        validity: TimeInterval
    ) throws -> Certificate {
        try Self.requirePositive(validity)
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw PKIError.csrSignatureInvalid
        }
        guard P256.Signing.PublicKey(csr.publicKey) != nil else {
            throw PKIError.unsupportedKeyType
        }
        return try signLeaf(
            commonName: AgentIdentity.commonName(for: agentID),
            publicKey: csr.publicKey,
            usage: .clientAuth,
            subjectAlternativeNames: [.uniformResourceIdentifier(AgentIdentity.uri(for: agentID))],
            now: now,
            validity: validity,
            what: "agent certificate"
        )
    }

    /// The key identifier leaves point at through their authority key identifier.
    var authorityKeyIdentifier: ArraySlice<UInt8> {
        if let ski = try? certificate.extensions.subjectKeyIdentifier {
            return ski.keyIdentifier
        }
        return SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }

    private func signLeaf(
        commonName: String,
        publicKey: Certificate.PublicKey,
        usage: ExtendedKeyUsage.Usage,
        subjectAlternativeNames: [GeneralName],
        now: Date,
        validity: TimeInterval,
        what: String
    ) throws -> Certificate {
        do {
            let subject = try DistinguishedName { CommonName(commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectAlternativeNames(subjectAlternativeNames)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
                SubjectKeyIdentifier(hash: publicKey)
            }
            return try Certificate(
                version: .v3,
                serialNumber: Self.randomSerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - Self.clockSkewAllowance,
                notValidAfter: now + validity,
                issuer: certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(privateKey)
            )
        } catch {
            throw PKIError.signingFailed(what: what, reason: String(describing: error))
        }
    }

    /// Letters, digits, '-' and '.', non-empty labels, at most 253 characters.
    private static func isPlausibleDNSName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63
                && label.utf8.allSatisfy { byte in
                    (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d
                }
        }
    }
}
