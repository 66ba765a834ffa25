import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite("rotate-secrets-key re-seals sites' TLS keys and tenants' backup keys")
struct SiteSecretsRotationTests {
    @Test("after a rotation both are sealed under the new key and still reach the agent unchanged")
    func rotation() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-rotate-sites")
        defer { TemporaryDirectory.remove(directory) }
        let tls = try FleetCA.create(commonName: "www.rotate.test", now: Date())
        var site = ""
        var backupKey = Data()
        try await TestCoordinator.with(dataDirectory: directory) { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Rotate", operatorToken: coordinator.operatorToken)
            site = organization.siteID
            let client = coordinator.client(token: organization.owner.token)
            _ = try await client.configureSite(
                site, SiteConfigRequest(kind: "static", tlsCertificate: tls.certificatePEM, tlsPrivateKey: tls.privateKeyPEM))
            let backup = try await client.createBackup(site: site)
            backupKey = try await SiteTaskWorld.payload(try #require(backup.taskId), in: coordinator).backup.encryptionKey
        }
        var configuration = CoordinatorConfiguration()
        configuration.dataDirectory = directory.path
        let (keyID, count) = try await Maintenance.rotateSecretsKey(configuration, logger: TestLogging.logger("chom.test"))
        // The TLS key, the backup key, and the two tasks that carry them, waiting sealed at rest for
        // the fixture agent (it has no sealing key).
        #expect(keyID == "k2" && count == 4)
        try await TestCoordinator.with(dataDirectory: directory) { coordinator in
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM sites WHERE tls_key_sealed LIKE 'chomsec:v1:k2:%'",
                dataDirectory: directory) == 1)
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM tenant_backup_keys WHERE sealed_key LIKE 'chomsec:v1:k2:%'",
                dataDirectory: directory) == 1)
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM tasks WHERE position('chomsec:v1:k2:'::bytea IN payload) = 1",
                dataDirectory: directory) == 2)
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM tasks WHERE position('chomsec:v1:k1:'::bytea IN payload) = 1",
                dataDirectory: directory) == 0)
            let backup = try await coordinator.client.createBackup(site: site)
            #expect(try await SiteTaskWorld.payload(try #require(backup.taskId), in: coordinator).backup.encryptionKey == backupKey)
            let configured = try await coordinator.client.configureSite(site, SiteConfigRequest(kind: "static"))
            #expect(try await SiteTaskWorld.payload(configured.task.id, in: coordinator).configure.site.tls.privateKeyPem == tls.privateKeyPEM)
        }
    }
}
