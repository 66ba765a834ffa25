import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTransport
import Foundation
import Synchronization
import Testing

@Suite("Enrollment over pinned TLS")
struct EnrollmentTests {
    func configuration(_ root: URL) -> AgentConfiguration {
        var configuration = AgentConfiguration(
            stateDirectory: root.appendingPathComponent("state"), sitesRoot: root.appendingPathComponent("sites"))
        configuration.enrollTimeout = .seconds(20)
        return configuration
    }

    func mode(_ url: URL) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
    }

    @Test("the right pin enrolls and stores a private identity (0700 directory, 0600 files)")
    func enrolls() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            let configuration = configuration(root)
            try await coordinator.run { enrollPort, connectPort in
                let identity = try await AgentRuntime.enroll(
                    configuration: configuration, host: "127.0.0.1", port: enrollPort, token: coordinator.joinToken,
                    caSHA256: coordinator.pin.uppercased(), name: "web-1", logger: Fixtures.logger)
                #expect(identity.record.connectPort == connectPort)
                #expect(identity.record.coordinatorHost == "127.0.0.1")
                #expect(identity.record.caSHA256 == coordinator.pin)
                #expect(AgentIdentity.agentID(from: identity.certificate) == identity.agentID.uuid)
            }
            let directory = configuration.identityDirectory
            #expect(try mode(directory) == 0o700)
            for name in ["agent.json", "key.pem", "cert.pem", "ca.pem", "envelope-keys.json"] {
                #expect(try mode(directory.appendingPathComponent(name)) == 0o600, "\(name)")
            }
            let stored = try #require(try AgentIdentityStore(directory: directory).load())
            #expect(stored.record.name == "web-1")
            #expect(try stored.trustedKeys().keys.keys.contains(coordinator.signer.keyID))
            #expect(coordinator.gateway.enrollCalls.withLock { $0 } == 1)
        }
    }

    @Test("a wrong pin fails the handshake before any Enroll call reaches the server")
    func wrongPin() async throws {
        let coordinator = try FakeCoordinator()
        let otherCA = try FleetCA.create(commonName: "Impostor CA", now: Date())
        try await Fixtures.withTemporaryDirectory { root in
            let configuration = configuration(root)
            try await coordinator.run { enrollPort, _ in
                await #expect {
                    try await AgentRuntime.enroll(
                        configuration: configuration, host: "127.0.0.1", port: enrollPort, token: coordinator.joinToken,
                        caSHA256: otherCA.fingerprintSHA256, logger: Fixtures.logger)
                } throws: { error in
                    guard case .pinRejected(let detail) = error as? EnrollmentError else { return false }
                    return detail.contains("pinned SHA-256")
                }
            }
            #expect(coordinator.gateway.enrollCalls.withLock { $0 } == 0)
            #expect(!FileManager.default.fileExists(atPath: configuration.identityDirectory.appendingPathComponent("agent.json").path))
        }
    }

    @Test("a server certificate that does not name the dialled address is refused")
    func wrongHost() async throws {
        let coordinator = try FakeCoordinator(hostnames: ["coordinator.example"], ipAddresses: ["192.0.2.1"])
        try await Fixtures.withTemporaryDirectory { root in
            try await coordinator.run { enrollPort, _ in
                await #expect {
                    try await AgentRuntime.enroll(
                        configuration: configuration(root), host: "127.0.0.1", port: enrollPort,
                        token: coordinator.joinToken, caSHA256: coordinator.pin, logger: Fixtures.logger)
                } throws: { error in
                    guard case .pinRejected(let detail) = error as? EnrollmentError else { return false }
                    return detail.contains("not valid for 127.0.0.1")
                }
            }
            #expect(coordinator.gateway.enrollCalls.withLock { $0 } == 0)
        }
    }

    @Test("a bad token surfaces the coordinator's status message")
    func badToken() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            try await coordinator.run { enrollPort, _ in
                await #expect {
                    try await AgentRuntime.enroll(
                        configuration: configuration(root), host: "localhost", port: enrollPort, token: "chom_join_wrong",
                        caSHA256: coordinator.pin, logger: Fixtures.logger)
                } throws: { error in
                    guard case .rejected(_, let message) = error as? EnrollmentError else { return false }
                    return message == "join token is invalid or expired"
                }
            }
        }
    }

    @Test("a malformed pin is refused without dialling")
    func malformedPin() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            await #expect(throws: EnrollmentError.malformedPin) {
                try await AgentRuntime.enroll(
                    configuration: configuration(root), host: "127.0.0.1", port: 1, token: "t", caSHA256: "abc",
                    logger: Fixtures.logger)
            }
        }
    }
}
