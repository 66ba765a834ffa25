import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import CHOMTesting
import Foundation
import Testing

@Suite("Site task routes enqueue typed tasks; their results change what they are about", .serialized)
struct SiteTaskResultTests {
    static let sha = String(repeating: "0f", count: 32)

    @Test("a backup is recorded succeeded only with a stored archive; a failure or an empty report is failed")
    func backupResults() async throws {
        try await SiteTaskWorld.with { world in
            func backup(encrypt: Bool = true) async throws -> (backup: String, task: String) {
                let reply = try await world.send("POST", "/v1/sites/\(world.site)/backups", json: ["encrypt": encrypt])
                #expect(reply.status == 202, "\(reply.text)")
                let json = try reply.json()
                return (try #require(json["id"] as? String), try #require(json["taskId"] as? String))
            }
            let good = try await backup()
            let task = try await world.payload(good.task)
            #expect(task.backup.backupID == good.backup && task.backup.site.siteID == world.site)
            #expect(task.backup.encryptionKey.count == 32 && task.backup.encryptionKeyID.hasPrefix("tk-"))
            #expect(task.backup.destination.local.path == "/var/backups/chom")
            try await world.report(good.task) { result in
                result.backup.objectKey = "sites/\(world.site)/\(good.backup).tar.zst.enc"
                result.backup.sizeBytes = 4096
                result.backup.durationMs = 321
                result.backup.archiveSha256 = Self.sha
                result.backup.fileCount = 12
                result.backup.encrypted = true
            }
            // A final task's payload (which held the key) is erased.
            #expect(try await world.count(
                "SELECT count(*) FROM tasks WHERE id = '\(good.task)' AND length(payload) = 0 AND envelope IS NULL") == 1)
            // The tenant's key is made once: a second backup carries the same one.
            let second = try await backup()
            #expect(try await world.payload(second.task).backup.encryptionKey == task.backup.encryptionKey)
            try await world.report(second.task) { $0.message = "uploaded" }  // success without a report
            let failed = try await backup(encrypt: false)
            #expect(try await world.payload(failed.task).backup.encryptionKey.isEmpty)
            try await world.report(failed.task) { result in
                result.outcome = .failed
                result.message = "upload failed: 503 from the bucket"
            }
            let list = try await world.coordinator.client(token: world.owner).backups(site: world.site)
            let byID = Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
            let stored = try #require(byID[good.backup])
            #expect(stored.state == "succeeded" && stored.sizeBytes == 4096 && stored.durationMs == 321)
            #expect(stored.archiveSha256 == Self.sha && stored.fileCount == 12 && stored.encrypted)
            #expect(stored.objectKey == "sites/\(world.site)/\(good.backup).tar.zst.enc")
            #expect(byID[second.backup]?.state == "failed")
            #expect(byID[failed.backup]?.state == "failed" && byID[failed.backup]?.message?.contains("503") == true)
            #expect(try await world.coordinator.client.task(id: second.task).state == "failed")
            let site = try await world.coordinator.client(token: world.owner).site(world.site)
            #expect(site.lastBackupAt != nil && site.lastVerifiedBackupAt == nil)
        }
    }

    @Test("verify, restore, prune, suspend, rollback and remove enqueue their tasks and record their results")
    func lifecycleResults() async throws {
        try await SiteTaskWorld.with { world in
            let backup = try await IdentityFixtures.addBackup(
                world.coordinator, site: world.site, tenant: world.organization.tenantID)
            // Verify: the backup's object and hash go down; verified_at comes back.
            let verify = try await world.send("POST", "/v1/sites/\(world.site)/backups/\(backup)/verify")
            #expect(verify.status == 202, "\(verify.text)")
            let verifyTask = try #require(try verify.json()["id"] as? String)
            let sent = try await world.payload(verifyTask).verifyBackup
            #expect(sent.backupID == backup && sent.archiveSha256 == String(repeating: "ab", count: 32))
            #expect(sent.objectKey == "sites/\(world.site)/\(backup).tar.zst" && sent.encryptionKey.isEmpty)
            try await world.report(verifyTask) { $0.backup.verifiedAtMs = 1_800_000_000_000 }
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).lastVerifiedBackupAt
                == Date(unixMilliseconds: 1_800_000_000_000))
            // Restore onto another agent: operators only; the site moves when it succeeds.
            let other = try await IdentityFixtures.addAgent(world.coordinator)
            let restorePath = "/v1/sites/\(world.site)/backups/\(backup)/restore"
            #expect(try await world.send("POST", restorePath, json: ["agentId": other]).status == 403)
            let restore = try await world.send(
                "POST", restorePath, json: ["agentId": other], token: world.coordinator.operatorToken)
            #expect(restore.status == 202, "\(restore.text)")
            let restoreTask = try #require(try restore.json()["id"] as? String)
            let restoring = try await world.payload(restoreTask).restore
            #expect(restoring.backupID == backup && ReleaseID(restoring.releaseID) != nil)
            #expect(try await world.count("SELECT count(*) FROM tasks WHERE id = '\(restoreTask)' AND agent_id = '\(other)'") == 1)
            // Suspend, then its result.
            let suspend = try await world.send("POST", "/v1/sites/\(world.site)/suspend")
            let suspendTask = try #require(try suspend.json()["id"] as? String)
            #expect(try await world.payload(suspendTask).suspend.suspended)
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).suspended == false)
            try await world.report(suspendTask) { _ in }
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).suspended)
            // Rollback to a release of the site; a release of nowhere is 404.
            let missing = try await world.send(
                "POST", "/v1/sites/\(world.site)/rollback", json: ["releaseId": UUID().uuidString.lowercased()])
            #expect(missing.status == 404)
            let rollback = try await world.send(
                "POST", "/v1/sites/\(world.site)/rollback", json: ["releaseId": world.organization.releaseID])
            let rollbackTask = try #require(try rollback.json()["id"] as? String)
            #expect(try await world.payload(rollbackTask).rollback.releaseID == world.organization.releaseID)
            try await world.report(rollbackTask) { result in
                result.releaseID = world.organization.releaseID
                result.releasePath = "/srv/sites/www.tasks.test/releases/\(world.organization.releaseID)"
            }
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).currentReleaseId
                == world.organization.releaseID)
            try await world.report(restoreTask) { $0.releaseID = restoring.releaseID }
            let restored = try await world.coordinator.client(token: world.owner).site(world.site)
            #expect(restored.agentId == other && restored.currentReleaseId == restoring.releaseID)
            // Prune results mark only this site's backups deleted.
            let foreign = try await IdentityFixtures.addBackup(
                world.coordinator, site: world.site, tenant: world.organization.tenantID)
            let pruneTask = try await enqueuePrune(world, agent: other)
            try await world.report(pruneTask) { $0.deletedBackupIds = [backup, UUID().uuidString.lowercased()] }
            #expect(try await world.count("SELECT count(*) FROM backups WHERE deleted_at IS NOT NULL") == 1)
            #expect(try await world.count("SELECT count(*) FROM backups WHERE id = '\(foreign)' AND deleted_at IS NULL") == 1)
            // A deleted backup cannot be restored.
            #expect(try await world.send("POST", restorePath, json: [:]).status == 409)
            // Remove (with its backup first): removing, then removed; no more tasks but restore.
            let remove = try await world.send("DELETE", "/v1/sites/\(world.site)")
            #expect(remove.status == 202, "\(remove.text)")
            let removeTask = try #require(try remove.json()["id"] as? String)
            let removing = try await world.payload(removeTask).remove
            #expect(!removing.force && removing.backup.site.siteID == world.site && removing.backup.encryptionKey.count == 32)
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).state == "removing")
            #expect(try await world.send("POST", "/v1/sites/\(world.site)/backups").status == 409)
            try await world.report(removeTask) { result in
                result.backup.objectKey = "sites/\(world.site)/final.tar.zst.enc"
                result.backup.sizeBytes = 10
                result.backup.archiveSha256 = Self.sha
                result.backup.encrypted = true
            }
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).state == "removed")
            #expect(try await world.count(
                "SELECT count(*) FROM backups WHERE id = '\(removing.backup.backupID)' AND state = 'succeeded'") == 1)
            for (query, status) in [("force=maybe", 400), ("force=true", 409)] {
                let url = try #require(URL(string: "\(world.coordinator.apiURL.absoluteString)/v1/sites/\(world.site)?\(query)"))
                #expect(try await TestHTTP.request("DELETE", url, token: world.owner).status == status, "\(query)")
            }
        }
    }

    /// A prune task for the world's site, enqueued as the scheduler does (straight in the queue).
    private func enqueuePrune(_ world: SiteTaskWorld, agent: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        var task = Chom_Agent_V1_Task()
        task.taskID = id
        task.pruneBackups.site.siteID = world.site
        let hex = Data(try task.serializedBytes() as [UInt8]).map { String(format: "%02x", $0) }.joined()
        try await TestDatabase.execute(
            """
            INSERT INTO tasks (id, agent_id, site_id, kind, payload, max_attempts, created_at, updated_at)
            VALUES ('\(id)', '\(agent)', '\(world.site)', 'prune_backups', '\\x\(hex)', 5, now(), now())
            """, dataDirectory: world.coordinator.dataDirectory)
        return id
    }
}
