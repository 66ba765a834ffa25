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

/// Enrollment through the real enrollment listener: the join token is checked before the CSR is
/// signed, and failures are throttled per source address.
@Suite("Enrollment: token before CSR, failures throttled per address")
struct EnrollmentThrottleLiveTests {
    /// Enrolls with the real agent code; nil on success, else the error as the agent reports it.
    func enroll(_ coordinator: TestCoordinator, _ token: String) async -> String? {
        let directory = try! TemporaryDirectory.make(prefix: "chom-enroll")
        defer { TemporaryDirectory.remove(directory) }
        let configuration = AgentConfiguration(stateDirectory: directory, sitesRoot: directory.appendingPathComponent("sites"))
        do {
            _ = try await AgentRuntime.enroll(
                configuration: configuration, host: "127.0.0.1", port: coordinator.ports.enroll, token: token,
                caSHA256: coordinator.caSHA256, logger: TestLogging.logger("t"))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("after 3 failures from an address it is refused (resourceExhausted) with one audit entry; successes do not count")
    func throttled() async throws {
        let clock = IdentityFixtures.clock()
        try await TestCoordinator.with(clock: clock, configure: {
            $0.agents.enrollmentFailuresPerAddress = 3
            $0.agents.enrollmentWindowSeconds = 600
        }) { coordinator in
            let created = try await coordinator.client.createJoinToken(.init(description: "fleet", maxUses: 5))
            // Successes take their attempt back: more than the limit enroll in a row.
            for _ in 0..<4 { #expect(await enroll(coordinator, created.token) == nil) }
            let wrong = String(created.token.dropLast(4)) + "0000"
            for _ in 0..<3 {
                let refused = await enroll(coordinator, wrong)
                #expect(refused?.contains("not recognised") == true, "\(refused ?? "")")
            }
            // The fourth failure's address is now refused, even with the valid token, which is not used.
            for _ in 0..<3 {
                let limited = await enroll(coordinator, created.token)
                #expect(limited?.contains("too many failed enrollment attempts from this address") == true, "\(limited ?? "")")
            }
            let uses = try await coordinator.client.joinTokenUses(id: created.joinToken.id)
            #expect(uses.filter { $0.outcome == "enrolled" }.count == 4)
            #expect(uses.filter { $0.outcome == "wrong_secret" }.count == 3)
            #expect(uses.count == 7)
            // One audit entry for the run of refusals, naming the address.
            let entries = try await coordinator.client.allAuditEntries(AuditFilter(action: "agent.enroll.throttled"))
            #expect(entries.count == 1)
            #expect(entries.first?.target == "address:127.0.0.1")
            #expect(try await coordinator.client.auditVerify().intact)
            // Once the oldest failure leaves the window the address may try again.
            clock.advance(by: 601)
            let again = await enroll(coordinator, wrong)
            #expect(again?.contains("not recognised") == true, "\(again ?? "")")
        }
    }

    /// A CSR whose signature does not verify (its last byte flipped): it parses, but cannot be signed.
    func badlySignedCSR() throws -> String {
        let csr = try AgentKeyPair.makeCSR(privateKey: AgentKeyPair.generate(), commonName: "agent")
        var der = try AgentKeyPair.pem(of: csr)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            .data(using: .utf8).flatMap { Data(base64Encoded: $0) } ?? Data()
        der[der.count - 1] ^= 0x01
        let lines = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE REQUEST-----\n\(lines)\n-----END CERTIFICATE REQUEST-----\n"
    }

    func rawEnroll(
        _ coordinator: TestCoordinator, token: String, csr: String, sealingKey: Data = Data()
    ) async throws -> RPCError? {
        let ca = try String(contentsOf: coordinator.dataDirectory.appendingPathComponent("pki/ca.pem"), encoding: .utf8)
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: coordinator.ports.enroll),
            transportSecurity: .tls {
                $0.trustRoots = .certificates([.bytes(Array(ca.utf8), format: .pem)])
                $0.serverCertificateVerification = .noHostnameVerification
            })
        do {
            try await withGRPCClient(transport: transport) { client in
                var request = Chom_Agent_V1_EnrollRequest()
                request.joinToken = token
                request.csrPem = csr
                request.name = "raw"
                request.sealingPublicKey = sealingKey
                var options = CallOptions.defaults
                options.timeout = .seconds(10)
                _ = try await Chom_Agent_V1_AgentGateway.Client(wrapping: client).enroll(request, options: options)
            }
            return nil
        } catch let error as RPCError {
            return error
        }
    }

    @Test("the join token is checked before the CSR is signed: a bad token is refused as such, whatever the CSR")
    func tokenBeforeCSR() async throws {
        try await TestCoordinator.with { coordinator in
            let created = try await coordinator.client.createJoinToken(.init(description: "order"))
            let csr = try badlySignedCSR()
            let wrong = String(created.token.dropLast(4)) + "0000"
            let refused = try #require(try await rawEnroll(coordinator, token: wrong, csr: csr))
            #expect(refused.code == .unauthenticated, "\(refused)")
            // With the valid token the CSR is what is refused, and the token's use is rolled back with it.
            let badCSR = try #require(try await rawEnroll(coordinator, token: created.token, csr: csr))
            #expect(badCSR.code == .invalidArgument && badCSR.message.contains("CSR was refused"), "\(badCSR)")
            let uses = try await coordinator.client.joinTokenUses(id: created.joinToken.id)
            #expect(uses.map(\.outcome) == ["wrong_secret"])
            #expect(await enroll(coordinator, created.token) == nil)
        }
    }

    @Test("a sealing key that is not a 32-byte X25519 key refuses the enrollment before the token is used")
    func malformedSealingKey() async throws {
        try await TestCoordinator.with { coordinator in
            let created = try await coordinator.client.createJoinToken(.init(description: "sealing"))
            let csr = try AgentKeyPair.pem(of: AgentKeyPair.makeCSR(privateKey: AgentKeyPair.generate(), commonName: "agent"))
            for key in [Data(repeating: 1, count: 31), Data(repeating: 0, count: 32)] {
                let refused = try #require(try await rawEnroll(coordinator, token: created.token, csr: csr, sealingKey: key))
                #expect(refused.code == .invalidArgument && refused.message.contains("sealing_public_key"), "\(refused)")
            }
            #expect(try await coordinator.client.joinTokenUses(id: created.joinToken.id).isEmpty)
            #expect(try await rawEnroll(coordinator, token: created.token, csr: csr, sealingKey: Data(repeating: 9, count: 32)) == nil)
        }
    }
}
