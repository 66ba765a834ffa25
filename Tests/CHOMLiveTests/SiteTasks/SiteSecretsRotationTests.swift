import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Foundation
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("rotate-secrets-key re-seals sites' TLS keys, tenants' backup keys and webhooks' sealed settings")
struct SiteSecretsRotationTests {
    @Test("after a rotation all are sealed under the new key; keys reach the agent unchanged, a webhook's URL and secret open")
    func rotation() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-rotate-sites")
        defer { TemporaryDirectory.remove(directory) }
        let tls = try FleetCA.create(commonName: "www.rotate.test", now: Date())
        var site = ""
        var backupKey = Data()
        var channel = (UUID(), "")
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
            let webhook = try await client.createNotificationChannel(
                organizationID: organization.id,
                CreateNotificationChannelRequest(kind: "webhook", url: "https://hooks.rotate.example/in/s3cret"))
            channel = (try #require(UUID(uuidString: webhook.channel.id)), try #require(webhook.secret))
        }
        var configuration = CoordinatorConfiguration()
        configuration.dataDirectory = directory.path
        let (keyID, count) = try await Maintenance.rotateSecretsKey(configuration, logger: TestLogging.logger("chom.test"))
        // The TLS key, the backup key, the webhook's settings, and the two tasks that carry the keys,
        // waiting sealed at rest for the fixture agent (it has no sealing key).
        #expect(keyID == "k2" && count == 5)
        try await TestCoordinator.with(dataDirectory: directory) { coordinator in
            let sealed = try await TestDatabase.withClient(dataDirectory: directory) { client in
                var text = ""
                for try await value in try await client.query(
                    "SELECT secret_sealed FROM notification_channels WHERE id = \(channel.0)"
                ).decode(String.self) { text = value }
                return text
            }
            #expect(sealed.hasPrefix("chomsec:v1:k2:"))
            let opened = try WebhookDelivery.Sealed.open(
                sealed, with: SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false)), channel: channel.0)
            #expect(opened == WebhookDelivery.Sealed(url: "https://hooks.rotate.example/in/s3cret", secret: channel.1))
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
