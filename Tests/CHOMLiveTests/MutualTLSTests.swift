import CHOMAPI
import CHOMAgent
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing
import X509

/// Who may talk to the agent listener: only holders of a live fleet client certificate.
@Suite("Mutual TLS on the agent listener")
struct MutualTLSTests {
    /// Calls FetchArtifact on the agent listener with `security` and returns the error code, or nil if it succeeded.
    func fetchCode(
        _ coordinator: TestCoordinator, port: Int? = nil, security: HTTP2ClientTransport.Posix.TransportSecurity
    ) async throws -> RPCError.Code? {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port ?? coordinator.ports.agents), transportSecurity: security)
        do {
            try await withGRPCClient(transport: transport) { client in
                let gateway = Chom_Agent_V1_AgentGateway.Client(wrapping: client)
                var options = CallOptions.defaults
                options.timeout = .seconds(5)
                var request = Chom_Agent_V1_FetchArtifactRequest()
                request.releaseID = UUID().uuidString
                try await gateway.fetchArtifact(request: ClientRequest(message: request), options: options) { response in
                    for try await _ in response.messages {}
                }
            }
            return nil
        } catch let error as RPCError {
            return error.code
        }
    }

    func caPEM(_ coordinator: TestCoordinator) throws -> String {
        try String(contentsOf: coordinator.dataDirectory.appendingPathComponent("pki/ca.pem"), encoding: .utf8)
    }

    @Test("a client without a certificate is refused by the handshake")
    func noCertificate() async throws {
        try await TestCoordinator.with { coordinator in
            let ca = try caPEM(coordinator)
            let code = try await fetchCode(coordinator, security: .tls {
                $0.trustRoots = .certificates([.bytes(Array(ca.utf8), format: .pem)])
                $0.serverCertificateVerification = .fullVerification
            })
            #expect(code == .unavailable)
        }
    }

    @Test("a certificate from a foreign CA is refused by the handshake")
    func foreignCA() async throws {
        try await TestCoordinator.with { coordinator in
            let foreign = try FleetCA.create(commonName: "foreign", now: Date())
            let key = AgentKeyPair.generate()
            let csr = try AgentKeyPair.makeCSR(privateKey: key, commonName: "intruder")
            let certificate = try foreign.issueAgentCertificate(csr: csr, agentID: UUID(), now: Date(), validity: 3600)
            let code = try await fetchCode(coordinator, security: AgentTLS.mutual(
                certificatePEM: try AgentKeyPair.pem(of: certificate), privateKeyPEM: AgentKeyPair.pem(of: key),
                caPEM: try caPEM(coordinator)))
            #expect(code == .unavailable)
        }
    }

    @Test("an expired fleet certificate is refused by the handshake")
    func expiredCertificate() async throws {
        try await TestCoordinator.with { coordinator in
            let ca = try FleetCA(
                certificatePEM: try caPEM(coordinator),
                privateKeyPEM: String(
                    contentsOf: coordinator.dataDirectory.appendingPathComponent("pki/ca-key.pem"), encoding: .utf8))
            let key = AgentKeyPair.generate()
            let csr = try AgentKeyPair.makeCSR(privateKey: key, commonName: "old")
            let certificate = try ca.issueAgentCertificate(
                csr: csr, agentID: UUID(), now: Date().addingTimeInterval(-7200), validity: 3600)
            let code = try await fetchCode(coordinator, security: AgentTLS.mutual(
                certificatePEM: try AgentKeyPair.pem(of: certificate), privateKeyPEM: AgentKeyPair.pem(of: key),
                caPEM: try caPEM(coordinator)))
            #expect(code == .unavailable)
        }
    }

    @Test("a deleted agent's certificate is refused; a live one is let in")
    func deletedAgent() async throws {
        try await TestCoordinator.with { coordinator in
            let (agentID, identity) = try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                let identity = try #require(
                    try AgentIdentityStore(directory: agent.runtime.configuration.identityDirectory).load())
                return (agent.agentID, identity)
            }
            let security = AgentTLS.mutual(
                certificatePEM: identity.certificatePEM, privateKeyPEM: identity.privateKeyPEM, caPEM: identity.caPEM)
            // Live: authenticated, and an unknown release is simply not found.
            #expect(try await fetchCode(coordinator, security: security) == .notFound)
            try await coordinator.client.deleteAgent(id: agentID.description)
            #expect(try await fetchCode(coordinator, security: security) == .permissionDenied)
        }
    }

    @Test("the enrollment listener never accepts an agent call without a certificate")
    func enrollmentListenerRefusesAgentCalls() async throws {
        try await TestCoordinator.with { coordinator in
            let ca = try caPEM(coordinator)
            let code = try await fetchCode(coordinator, port: coordinator.ports.enroll, security: .tls {
                $0.trustRoots = .certificates([.bytes(Array(ca.utf8), format: .pem)])
                $0.serverCertificateVerification = .fullVerification
            })
            #expect(code == .unauthenticated)
        }
    }

    @Test("enrollment refuses a wrong, a reused and a revoked join token; every use is recorded")
    func joinTokenRefusals() async throws {
        try await TestCoordinator.with { coordinator in
            func enroll(_ token: String) async -> String? {
                let directory = try! TemporaryDirectory.make(prefix: "chom-enroll")
                let configuration = AgentConfiguration(
                    stateDirectory: directory, sitesRoot: directory.appendingPathComponent("sites"))
                do {
                    try await AgentRuntime.enroll(
                        configuration: configuration, host: "127.0.0.1", port: coordinator.ports.enroll, token: token,
                        caSHA256: coordinator.caSHA256, logger: TestLogging.logger("t"))
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            let created = try await coordinator.client.createJoinToken(.init(description: "one use"))
            #expect(await enroll(created.token) == nil)
            let reused = await enroll(created.token)
            #expect(reused?.contains("exhausted") == true, "\(reused ?? "")")
            let wrongSecret = String(created.token.dropLast(4)) + "0000"
            let wrong = await enroll(wrongSecret)
            #expect(wrong?.contains("not recognised") == true, "\(wrong ?? "")")
            let second = try await coordinator.client.createJoinToken(.init(description: "revoked"))
            try await coordinator.client.revokeJoinToken(id: second.joinToken.id)
            let revoked = await enroll(second.token)
            #expect(revoked?.contains("revoked") == true, "\(revoked ?? "")")
            let uses = try await coordinator.client.joinTokenUses(id: created.joinToken.id)
            #expect(uses.map(\.outcome) == ["enrolled", "exhausted", "wrong_secret"])
            #expect(uses.first?.agentId != nil)
        }
    }

    @Test("enrollment with a wrong CA pin fails before the token is sent")
    func wrongPin() async throws {
        try await TestCoordinator.with { coordinator in
            let directory = try TemporaryDirectory.make(prefix: "chom-pin")
            let configuration = AgentConfiguration(
                stateDirectory: directory, sitesRoot: directory.appendingPathComponent("sites"))
            let created = try await coordinator.client.createJoinToken(.init(description: "pin"))
            await #expect(throws: (any Error).self) {
                try await AgentRuntime.enroll(
                    configuration: configuration, host: "127.0.0.1", port: coordinator.ports.enroll,
                    token: created.token, caSHA256: String(repeating: "ab", count: 32), logger: TestLogging.logger("t"))
            }
            let uses = try await coordinator.client.joinTokenUses(id: created.joinToken.id)
            #expect(uses.isEmpty)
        }
    }
}
