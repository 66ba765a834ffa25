// FleetCATests.swift
// The CA itself and what it issues: CA, agent and server certificate contents, CSR checks.

import CHOMTransport
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@Suite("Fleet CA")
struct FleetCATests {
    typealias S = PKITestSupport

    @Test("a new CA is a self-signed P-256 CA with pathLen 0, keyCertSign/cRLSign and a 20-byte positive serial")
    func caShape() throws {
        let ca = try S.makeCA()
        let cert = ca.certificate
        #expect(cert.subject == cert.issuer)
        #expect(cert.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let usage = try #require(try cert.extensions.keyUsage)
        #expect(usage.keyCertSign && usage.cRLSign && !usage.digitalSignature)
        #expect(try cert.extensions.subjectKeyIdentifier != nil)
        #expect(cert.serialNumber.bytes.count == 20)
        #expect(cert.serialNumber.bytes.first.map { $0 & 0x80 == 0 && $0 != 0 } == true)
        #expect(cert.notValidAfter.timeIntervalSince(S.t0) == FleetCA.defaultValidity)
    }

    @Test("the fingerprint is the lowercase hex SHA-256 of the CA certificate's DER")
    func fingerprint() throws {
        let ca = try S.makeCA()
        let expected = SHA256.hash(data: ca.certificateDER).map { String(format: "%02x", $0) }.joined()
        #expect(ca.fingerprintSHA256 == expected)
        #expect(ca.fingerprintSHA256.count == 64)
        #expect(ca.fingerprintSHA256 == ca.fingerprintSHA256.lowercased())
        #expect(try S.makeCA().fingerprintSHA256 != ca.fingerprintSHA256)
    }

    @Test("an agent certificate has clientAuth only, digitalSignature, no CA flag, an AKI and the skewed validity")
    func agentCertificateShape() throws {
        let ca = try S.makeCA()
        let cert = try S.issueAgent(by: ca, validity: S.day)
        let usages = try S.extendedKeyUsages(cert)
        #expect(usages.contains(.clientAuth))
        #expect(!usages.contains(.serverAuth))
        #expect(usages.count == 1)
        #expect(try cert.extensions.keyUsage?.digitalSignature == true)
        #expect(try cert.extensions.keyUsage?.keyCertSign == false)
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        let aki = try #require(try cert.extensions.authorityKeyIdentifier)
        #expect(aki.keyIdentifier == (try ca.certificate.extensions.subjectKeyIdentifier)?.keyIdentifier)
        #expect(cert.notValidBefore == S.t0 - 300)
        #expect(cert.notValidAfter == S.t0 + S.day)
        #expect(cert.issuer == ca.certificate.subject)
    }

    @Test("SANs requested in the CSR are ignored: the only SAN is the chom-agent URI")
    func csrSANsIgnored() async throws {
        let ca = try S.makeCA()
        let agentID = UUID()
        let key = AgentKeyPair.generate()
        let csr = try S.csrRequestingSANs(
            key: key,
            names: [.dnsName("coordinator.example"), .uniformResourceIdentifier(AgentIdentity.uri(for: UUID()))]
        )
        #expect(csr.attributes.count == 1, "fixture must really request SANs")
        let cert = try ca.issueAgentCertificate(csr: csr, agentID: agentID, now: S.t0, validity: S.day)
        #expect(try S.sans(cert) == [.uniformResourceIdentifier("chom-agent://" + agentID.uuidString.lowercased())])
        #expect(cert.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(await ca.verifyAgentCertificate(cert, now: S.t0) == .valid(agentID: agentID, serial: AgentIdentity.serialHex(cert)))
    }

    @Test("a CSR whose signature does not match its public key is refused")
    func tamperedCSRRefused() throws {
        let ca = try S.makeCA()
        let honest = try AgentKeyPair.makeCSR(privateKey: AgentKeyPair.generate(), commonName: "agent")
        let attacker = try AgentKeyPair.makeCSR(privateKey: AgentKeyPair.generate(), commonName: "agent")
        // The honest request's content and key, with a signature made by someone else's key.
        let tampered = try CertificateSigningRequest(
            version: honest.version, subject: honest.subject, publicKey: honest.publicKey,
            attributes: honest.attributes, signatureAlgorithm: honest.signatureAlgorithm, signature: attacker.signature
        )
        #expect(throws: PKIError.csrSignatureInvalid) {
            try ca.issueAgentCertificate(csr: tampered, agentID: UUID(), now: S.t0, validity: S.day)
        }
        // Same key, altered subject after signing.
        let key = AgentKeyPair.generate()
        let original = try AgentKeyPair.makeCSR(privateKey: key, commonName: "agent-a")
        let altered = try CertificateSigningRequest(
            version: original.version, subject: try DistinguishedName { CommonName("agent-b") },
            publicKey: original.publicKey, attributes: original.attributes,
            signatureAlgorithm: original.signatureAlgorithm, signature: original.signature
        )
        #expect(throws: PKIError.csrSignatureInvalid) {
            try ca.issueAgentCertificate(csr: altered, agentID: UUID(), now: S.t0, validity: S.day)
        }
        // The untampered one still goes through, so the refusals above are about the signature.
        #expect(throws: Never.self) {
            try ca.issueAgentCertificate(csr: original, agentID: UUID(), now: S.t0, validity: S.day)
        }
    }

    @Test("a server certificate carries serverAuth only and encodes IPv4/IPv6 SANs as 4/16 bytes")
    func serverCertificateShape() throws {
        let ca = try S.makeCA()
        let cert = try S.issueServer(by: ca)
        #expect(try S.extendedKeyUsages(cert) == [.serverAuth])
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try cert.extensions.keyUsage?.digitalSignature == true)
        let names = try S.sans(cert)
        #expect(names.contains(.dnsName("coordinator.example")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [192, 0, 2, 10]))))
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: v6[...]))))
        #expect(names.count == 3)
    }

    @Test("bad server names and non-positive validity are refused")
    func serverIssuanceInputValidation() throws {
        let ca = try S.makeCA()
        let key = P256.Signing.PrivateKey().publicKey
        #expect(throws: PKIError.invalidIPAddress("300.1.1.1")) {
            try ca.issueServerCertificate(publicKey: key, hostnames: [], ipAddresses: ["300.1.1.1"], now: S.t0, validity: S.day)
        }
        #expect(throws: PKIError.noServerNames) {
            try ca.issueServerCertificate(publicKey: key, hostnames: [], ipAddresses: [], now: S.t0, validity: S.day)
        }
        #expect(throws: PKIError.invalidHostname("bad host")) {
            try ca.issueServerCertificate(publicKey: key, hostnames: ["bad host"], ipAddresses: [], now: S.t0, validity: S.day)
        }
        #expect(throws: PKIError.invalidValidity(seconds: 0)) {
            try S.issueAgent(by: ca, validity: 0)
        }
    }
}
