// PEMRoundTripTests.swift
// PEM encoding and decoding of the CA, keys, CSRs and certificates, and error hygiene.

import CHOMTransport
import Crypto
import Foundation
import Testing
import X509

@Suite("PEM round trips")
struct PEMRoundTripTests {
    typealias S = PKITestSupport

    @Test("a CA survives a PEM round trip with the same certificate, key and fingerprint, and can still issue")
    func caRoundTrip() async throws {
        let ca = try S.makeCA()
        #expect(ca.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(ca.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try FleetCA(certificatePEM: ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        #expect(reloaded.certificate == ca.certificate)
        #expect(reloaded.certificateDER == ca.certificateDER)
        #expect(reloaded.fingerprintSHA256 == ca.fingerprintSHA256)
        #expect(reloaded.privateKey.rawRepresentation == ca.privateKey.rawRepresentation)
        // A certificate issued by the reloaded CA verifies under the original.
        let agentID = UUID()
        let cert = try S.issueAgent(by: reloaded, agentID: agentID)
        #expect(await ca.verifyAgentCertificate(cert, now: S.t0) == .valid(agentID: agentID, serial: AgentIdentity.serialHex(cert)))
    }

    @Test("private key, CSR and certificate PEM round trips preserve their content")
    func keyCSRCertificateRoundTrip() throws {
        let key = AgentKeyPair.generate()
        let keyBack = try AgentKeyPair.privateKey(pem: AgentKeyPair.pem(of: key))
        #expect(keyBack.rawRepresentation == key.rawRepresentation)

        let csr = try AgentKeyPair.makeCSR(privateKey: key, commonName: "agent-1")
        let csrPEM = try AgentKeyPair.pem(of: csr)
        #expect(csrPEM.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----"))
        let csrBack = try AgentKeyPair.csr(pem: csrPEM)
        #expect(csrBack == csr)
        #expect(csrBack.publicKey.isValidSignature(csrBack.signature, for: csrBack))

        let cert = try S.issueAgent(by: try S.makeCA())
        #expect(try AgentKeyPair.certificate(pem: AgentKeyPair.pem(of: cert)) == cert)
    }

    @Test("loading a CA with a key that is not its own, or a non-CA certificate, is refused")
    func caLoadChecks() throws {
        let ca = try S.makeCA()
        let otherKey = try S.makeCA().privateKeyPEM
        #expect(throws: PKIError.caKeyMismatch) {
            try FleetCA(certificatePEM: ca.certificatePEM, privateKeyPEM: otherKey)
        }
        let leafKey = AgentKeyPair.generate()
        let leaf = try ca.issueServerCertificate(publicKey: leafKey.publicKey, hostnames: ["h.example"], ipAddresses: [],
                                                 now: S.t0, validity: S.day)
        #expect(throws: PKIError.notACertificateAuthority) {
            try FleetCA(certificatePEM: AgentKeyPair.pem(of: leaf), privateKeyPEM: AgentKeyPair.pem(of: leafKey))
        }
    }

    @Test("errors and descriptions never echo PEM bodies or key material")
    func noKeyMaterialInMessages() throws {
        let ca = try S.makeCA()
        let secret = "SECRETMARKER0123456789"
        let garbage = "-----BEGIN PRIVATE KEY-----\n\(secret)\n-----END PRIVATE KEY-----\n"
        let error = #expect(throws: PKIError.self) {
            try FleetCA(certificatePEM: ca.certificatePEM, privateKeyPEM: garbage)
        }
        #expect(error == .invalidPEM(what: "CA private key (expected an ECDSA P-256 key)"))
        #expect(error?.description.contains(secret) == false)

        let keyBody = ca.privateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(!String(describing: ca).contains(keyBody))
        #expect(!String(reflecting: ca).contains(keyBody))
        var dumped = ""
        dump(ca, to: &dumped)
        #expect(!dumped.contains(keyBody))
        #expect(String(describing: ca).contains(ca.fingerprintSHA256))
    }
}
