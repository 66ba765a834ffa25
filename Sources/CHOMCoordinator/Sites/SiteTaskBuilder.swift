import CHOMBackup
import CHOMCore
import CHOMProtocol
import CHOMStore
import Crypto
import Foundation
import Logging
import SwiftProtobuf

/// Builds the typed tasks sent about a site. Every one carries the whole `SiteConfig` (the TLS key
/// opened from its sealed form here, and only here); backup tasks carry the destination and, when
/// encrypted, the tenant's key.
struct SiteTaskBuilder: Sendable {
    let secretBox: SecretBox
    let backups: CoordinatorConfiguration.Backups
    let maxAttempts: Int

    /// Sealing contexts: a sealed value copied to another site or tenant does not open.
    static func tlsKeyContext(_ site: SiteID) -> String { "tls-key:\(site)" }
    static func backupKeyContext(_ tenant: TenantID) -> String { "backup-key:\(tenant)" }

    func sealTLSKey(_ pem: String, site: SiteID) -> String {
        secretBox.seal(plaintext: Data(pem.utf8), context: Self.tlsKeyContext(site))
    }

    /// A fresh 32-byte key for a tenant, sealed: (key id, sealed key).
    func makeTenantKey(_ tenant: TenantID) -> (keyID: String, sealedKey: String) {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let keyID = "tk-" + Hex.encode(Array(SHA256.hash(data: key))).prefix(16)
        return (keyID, secretBox.seal(plaintext: key, context: Self.backupKeyContext(tenant)))
    }

    func openTenantKey(_ record: TenantBackupKeyRecord) throws -> Data {
        do {
            return try secretBox.open(record.sealedKey, context: Self.backupKeyContext(record.tenantID))
        } catch {
            throw CHOMError(.integrity, "the backup key of tenant \(record.tenantID) cannot be opened")
        }
    }

    func siteConfig(_ site: SiteRecord) throws -> Chom_Agent_V1_SiteConfig {
        var config = Chom_Agent_V1_SiteConfig()
        config.siteID = site.id.description
        config.tenantID = site.tenantID.description
        config.domain = site.domain
        config.aliases = site.spec.aliases
        config.kind = switch site.spec.kind {
        case .static: .static
        case .php: .php
        case .app: .app
        }
        config.appPort = UInt32(site.spec.appPort ?? 0)
        config.appCommand = site.spec.appCommand ?? ""
        config.sharedPaths = site.spec.sharedPaths
        config.hooks = site.spec.hooks.map { hook in
            var built = Chom_Agent_V1_BuildHook()
            built.name = hook.name
            built.command = hook.command
            built.timeoutSeconds = UInt32(hook.timeoutSeconds)
            return built
        }
        if let check = site.spec.healthCheck {
            config.healthCheck.path = check.path
            config.healthCheck.expectedStatus = UInt32(check.expectedStatus)
            config.healthCheck.timeoutMs = UInt32(check.timeoutMs)
        }
        if let certificate = site.tlsCertificate, let sealed = site.tlsKeySealed {
            let key: Data
            do {
                key = try secretBox.open(sealed, context: Self.tlsKeyContext(site.id))
            } catch {
                throw CHOMError(.integrity, "the TLS key of site \(site.domain) cannot be opened")
            }
            config.tls.certificateChainPem = certificate
            config.tls.privateKeyPem = String(decoding: key, as: UTF8.self)
        }
        config.publicDirectory = site.spec.publicDirectory ?? ""
        config.keepReleases = UInt32(site.spec.keepReleases ?? 0)
        // The suspension the site should have (its reasons), not the one last applied: a task queued
        // while a suspend task is on its way must not undo it.
        config.suspended = site.lifecycle.isSuspended
        config.configVersion = UInt64(max(0, site.configVersion))
        config.fenceExempt = !site.failoverEnabled
        return config
    }

    /// The fleet's backup destination (presigned object storage or agents' local directories).
    var storage: BackupStorage { BackupStorage(configuration: backups, logger: Logger(label: "chom.coordinator.storage")) }

    func backup(_ site: SiteRecord, id: BackupID, key: TenantBackupKeyRecord?) throws -> Chom_Agent_V1_BackupTask {
        var task = Chom_Agent_V1_BackupTask()
        task.site = try siteConfig(site)
        task.backupID = id.description
        task.destination = storage.destination(objectKey: BackupObjectKey.make(
            tenantID: site.tenantID.description, domain: site.domain, backupID: id.description, encrypted: key != nil))
        if let key {
            task.encryptionKey = try openTenantKey(key)
            task.encryptionKeyID = key.keyID
        }
        return task
    }

    /// A restore of `backup` onto `agent` making release `release` (named again in its result): the
    /// restore route's and a migration's.
    func restore(
        id: TaskID = TaskID(), _ site: SiteRecord, onto agent: AgentID, backup: BackupRecord,
        key: (bytes: Data, id: String), release: ReleaseID
    ) throws -> NewTask {
        try task(id: id, .restore, site: site, agent: agent, backupID: backup.id) { message in
            var restore = Chom_Agent_V1_RestoreTask()
            restore.site = try siteConfig(site)
            restore.backupID = backup.id.description
            restore.source = storage.destination(objectKey: backup.objectKey ?? "")
            restore.objectKey = backup.objectKey ?? ""
            restore.archiveSha256 = backup.archiveSHA256 ?? ""
            restore.encryptionKey = key.bytes
            restore.encryptionKeyID = key.id
            restore.releaseID = release.description
            message.restore = restore
        }
    }

    /// A queued task row for `site` with `fill` setting the task's kind.
    func task(
        id: TaskID = TaskID(), _ kind: TaskKindName, site: SiteRecord, agent: AgentID, releaseID: ReleaseID? = nil,
        backupID: BackupID? = nil, suspended: Bool? = nil, _ fill: (inout Chom_Agent_V1_Task) throws -> Void
    ) throws -> NewTask {
        var message = Chom_Agent_V1_Task()
        message.taskID = id.description
        try fill(&message)
        var task = NewTask(
            id: id, agentID: agent, siteID: site.id, releaseID: releaseID, kind: kind,
            payload: try message.serializedBytes(), maxAttempts: maxAttempts, backupID: backupID, suspended: suspended,
            carriesSecret: site.tlsKeySealed != nil || backupID != nil)
        let built = message
        task.sealPayload = { raw in
            guard let key = SecretSealing.publicKey(raw: raw) else {
                throw CHOMError(.integrity, "the sealing key of agent \(agent) is not an X25519 key")
            }
            var sealed = built
            try TaskSecrets.seal(&sealed, to: key, audience: agent.description)
            return try sealed.serializedBytes()
        }
        let box = secretBox
        task.sealAtRest = { payload in QueuedTaskPayload.seal(payload, box: box, task: id) }
        return task
    }
}
