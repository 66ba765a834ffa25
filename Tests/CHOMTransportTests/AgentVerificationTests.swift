// AgentVerificationTests.swift
// FleetCA.verifyAgentCertificate: what is accepted, and every way it refuses.

import CHOMTransport
import Foundation
import Testing
import X509

@Suite("Agent certificate verification")
struct AgentVerificationTests {
    typealias S = PKITestSupport

    @Test("an agent certificate issued from a CSR verifies as valid with the right agent id and serial")
    func agentCertificateVerifies() async throws {
        let ca = try S.makeCA()
        let agentID = UUID()
        let cert = try S.issueAgent(by: ca, agentID: agentID)
        let check = await ca.verifyAgentCertificate(cert, now: S.t0 + S.hour)
        #expect(check == .valid(agentID: agentID, serial: AgentIdentity.serialHex(cert)))
        #expect(AgentIdentity.agentID(from: cert) == agentID)
        #expect(AgentIdentity.serialHex(cert).count == 40)
        #expect(cert.subject == (try DistinguishedName { CommonName(agentID.uuidString.lowercased()) }))
    }

    @Test("a certificate issued by a foreign CA is invalid")
    func foreignCA() async throws {
        let ca = try S.makeCA()
        let foreign = try S.makeCA()  // same name, different key
        let cert = try S.issueAgent(by: foreign)
        let check = await ca.verifyAgentCertificate(cert, now: S.t0 + S.hour)
        guard case .invalid(let reason) = check else {
            Issue.record("foreign certificate accepted: \(check)")
            return
        }
        #expect(reason.contains("not issued by this fleet CA"))
    }

    @Test("an expired agent certificate is invalid")
    func expired() async throws {
        let ca = try S.makeCA()
        let cert = try S.issueAgent(by: ca, now: S.t0, validity: S.hour)
        #expect(await ca.verifyAgentCertificate(cert, now: S.t0 + 30 * 60).isValid)
        let check = await ca.verifyAgentCertificate(cert, now: S.t0 + 2 * S.hour)
        guard case .invalid(let reason) = check else {
            Issue.record("expired certificate accepted: \(check)")
            return
        }
        #expect(reason.contains("expired"))
    }

    @Test("an agent certificate whose validity has not started is invalid")
    func notYetValid() async throws {
        let ca = try S.makeCA()
        let cert = try S.issueAgent(by: ca, now: S.t0 + S.day, validity: S.day)
        let check = await ca.verifyAgentCertificate(cert, now: S.t0 + S.hour)
        guard case .invalid(let reason) = check else {
            Issue.record("future certificate accepted: \(check)")
            return
        }
        #expect(reason.contains("not valid before"))
        // Inside the 5-minute skew allowance it is accepted.
        #expect(await ca.verifyAgentCertificate(cert, now: S.t0 + S.day - 120).isValid)
    }

    @Test("a server certificate from the fleet CA is not accepted as an agent certificate")
    func serverCertificateIsNotAnAgent() async throws {
        let ca = try S.makeCA()
        let server = try S.issueServer(by: ca)
        let check = await ca.verifyAgentCertificate(server, now: S.t0 + S.hour)
        #expect(check == .invalid(reason: "certificate lacks the clientAuth extended key usage"))
    }

    @Test("a clientAuth certificate from the fleet CA without an agent SAN is invalid")
    func missingAgentSAN() async throws {
        let ca = try S.makeCA()
        let cert = try S.handMadeLeaf(by: ca, usages: [.clientAuth], names: [.dnsName("agent.example")])
        let check = await ca.verifyAgentCertificate(cert, now: S.t0)
        #expect(!check.isValid)
        #expect(check.description.contains("chom-agent://"))
        #expect(AgentIdentity.agentID(from: cert) == nil)
    }

    @Test("a certificate from the fleet CA with an agent SAN but without clientAuth is invalid")
    func missingClientAuth() async throws {
        let ca = try S.makeCA()
        let agentID = UUID()
        let cert = try S.handMadeLeaf(by: ca, usages: [.serverAuth], names: [.uniformResourceIdentifier(AgentIdentity.uri(for: agentID))])
        #expect(AgentIdentity.agentID(from: cert) == agentID)
        let check = await ca.verifyAgentCertificate(cert, now: S.t0)
        #expect(check == .invalid(reason: "certificate lacks the clientAuth extended key usage"))
    }

    @Test("two agent SANs make the identity ambiguous and the certificate invalid")
    func ambiguousAgentSAN() async throws {
        let ca = try S.makeCA()
        let cert = try S.handMadeLeaf(
            by: ca, usages: [.clientAuth],
            names: [.uniformResourceIdentifier(AgentIdentity.uri(for: UUID())), .uniformResourceIdentifier(AgentIdentity.uri(for: UUID()))]
        )
        #expect(AgentIdentity.agentID(from: cert) == nil)
        #expect(await !ca.verifyAgentCertificate(cert, now: S.t0).isValid)
    }
}
