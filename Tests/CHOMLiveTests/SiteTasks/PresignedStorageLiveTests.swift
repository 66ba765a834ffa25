import CHOMAPI
import CHOMAgent
import CHOMBackup
import CHOMCore
import CHOMCoordinator
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Backups in S3 (moto) through the fleet: a real agent hosting the site, the coordinator holding
/// the bucket's only credentials and presigning each request over mutual TLS.
@Suite(
    "Object storage through presigned URLs, end to end", .serialized,
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct PresignedStorageLiveTests {
    static let logger = Logger(label: "chom.test.presigned-live")

    @Test("backup, verify, restore and the coordinator's prune reach S3; the agent never holds the secret; a finished or unknown task gets no URL")
    func throughTheFleet() async throws {
        try await MotoServer.with(bucket: "fleet-backups", checkSignatures: false) { moto in
            try await TestCoordinator.with(configure: { configuration in
                var s3 = CoordinatorConfiguration.Backups.S3(
                    endpoint: moto.endpoint.absoluteString, region: moto.region, bucket: "fleet-backups",
                    accessKeyId: moto.accessKeyID)
                s3.secretAccessKey = moto.secretAccessKey
                s3.prefix = "fleet"
                s3.presignLifetimeSeconds = 120
                configuration.backups.destination.s3 = s3
                configuration.backups.scheduleIntervalSeconds = 0.2
            }) { coordinator in
                try await TestNginx.with { nginx in
                    try await TestAgent.with(coordinator: coordinator, name: "s3-vps", configure: nginx.host) { agent in
                        try await run(coordinator: coordinator, agent: agent, nginx: nginx, moto: moto)
                    }
                }
            }
        }
    }

    private func run(coordinator: TestCoordinator, agent: TestAgent, nginx: TestNginx, moto: MotoServer) async throws {
        try await coordinator.waitOnline([agent.agentID])
        let site = try await coordinator.createSite(domain: "s3.test")
        let deployed = try await coordinator.waitForTask(
            try await coordinator.deploy(site: "s3.test", files: ["public/index.html": "<h1>first</h1>"]).id)
        #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
        let bucket = try S3Target(configuration: moto.configuration(bucket: "fleet-backups"), logger: Self.logger)

        // Backup: the object lands under the fleet prefix, at the key the coordinator chose.
        let first = try await coordinator.client.createBackup(site: "s3.test")
        let firstTask = try await coordinator.waitForTask(try #require(first.taskId))
        #expect(firstTask.state == "succeeded", "\(firstTask.message ?? "")")
        let stored = try await coordinator.client.backups(site: "s3.test").first { $0.id == first.id }
        let firstKey = try #require(stored?.objectKey)
        #expect(firstKey == "\(site.tenantId)/s3.test/\(first.id).tar.zst.enc")
        #expect(try await bucket.list(prefix: "").map(\.key) == ["fleet/" + firstKey])

        // A verify drill and a restore read it back through presigned GETs.
        let drill = try await coordinator.waitForTask(
            try await coordinator.client.verifyBackup(site: "s3.test", backup: first.id).id)
        #expect(drill.state == "succeeded", "\(drill.message ?? "")")
        _ = try await coordinator.waitForTask(
            try await coordinator.deploy(site: "s3.test", files: ["public/index.html": "<h1>second</h1>"]).id)
        let restored = try await coordinator.waitForTask(
            try await coordinator.client.restoreBackup(site: "s3.test", backup: first.id).id, timeout: .seconds(60))
        #expect(restored.state == "succeeded", "\(restored.message ?? "")")
        try await nginx.waitForWorkers()
        #expect(try await HealthCheck(port: nginx.port, timeout: .seconds(5)).get(host: "s3.test", path: "/").body
            == "<h1>first</h1>")

        // The agent asks by task: a finished task and an unknown one get nothing.
        let identity = try #require(try AgentIdentityStore(directory: agent.runtime.configuration.identityDirectory).load())
        let security = AgentTLS.mutual(
            certificatePEM: identity.certificatePEM, privateKeyPEM: identity.privateKeyPEM, caPEM: identity.caPEM)
        #expect(try await presignCode(coordinator, security, task: firstTask.id, .put) == .permissionDenied)
        #expect(try await presignCode(coordinator, security, task: firstTask.id, .get) == .permissionDenied)
        #expect(try await presignCode(coordinator, security, task: UUID().uuidString.lowercased(), .get) == .notFound)
        #expect(try await presignCode(coordinator, security, task: "not-a-task", .get) == .notFound)

        // Nothing the agent keeps holds the bucket's secret.
        #expect(try filesContaining(moto.secretAccessKey, under: agent.stateDirectory).isEmpty)

        // A second backup, then a schedule keeping one: the coordinator deletes the first object itself.
        let second = try await coordinator.client.createBackup(site: "s3.test")
        #expect(try await coordinator.waitForTask(try #require(second.taskId)).state == "succeeded")
        #expect(try await bucket.list(prefix: "").count == 2)
        // The first is verified, and the newest verified backup is never pruned: verify the second too.
        let secondDrill = try await coordinator.waitForTask(
            try await coordinator.client.verifyBackup(site: "s3.test", backup: second.id).id)
        #expect(secondDrill.state == "succeeded", "\(secondDrill.message ?? "")")
        _ = try await coordinator.client.setBackupSchedule(
            site: "s3.test", BackupScheduleRequest(everyHours: 24, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0))
        let deadline = ContinuousClock.now + .seconds(20)
        var backups = try await coordinator.client.backups(site: "s3.test")
        while backups.first(where: { $0.id == first.id })?.deletedAt == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            backups = try await coordinator.client.backups(site: "s3.test")
        }
        #expect(backups.first { $0.id == first.id }?.deletedAt != nil, "the first backup is marked deleted")
        #expect(backups.first { $0.id == second.id }?.deletedAt == nil)
        let secondKey = try #require(backups.first { $0.id == second.id }?.objectKey)
        #expect(try await bucket.list(prefix: "").map(\.key) == ["fleet/" + secondKey])
        #expect(try await TestDatabase.count(
            "SELECT count(*) FROM tasks WHERE kind = 'prune_backups'", dataDirectory: coordinator.dataDirectory) == 0,
            "no prune task: object storage is pruned by the coordinator")
    }

    /// Calls PresignStorage as the agent; nil when it signed.
    private func presignCode(
        _ coordinator: TestCoordinator, _ security: HTTP2ClientTransport.Posix.TransportSecurity, task: String,
        _ operation: PresignedOperation
    ) async throws -> RPCError.Code? {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: coordinator.ports.agents), transportSecurity: security)
        do {
            try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = .seconds(5)
                _ = try await Chom_Agent_V1_AgentGateway.Client(wrapping: client).presignStorage(
                    operation.request(taskID: task), options: options)
            }
            return nil
        } catch let error as RPCError {
            return error.code
        }
    }

    /// Regular files under `directory` whose bytes contain `needle`.
    private func filesContaining(_ needle: String, under directory: URL) throws -> [String] {
        let pattern = Data(needle.utf8)
        var found: [String] = []
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let data = try? Data(contentsOf: url), data.range(of: pattern) != nil
            else { continue }
            found.append(url.path)
        }
        return found
    }
}
