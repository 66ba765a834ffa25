import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import CHOMTesting
import Foundation
import Testing

@Suite("Backup schedules: due backups are enqueued once, a succeeded one is followed by the coordinator's prune", .serialized)
struct BackupScheduleTests {
    @Test("on a manual clock: nothing before the schedule is due, one backup when it is; the coordinator applies the rule and a prune task names exactly what the agent deletes")
    func scheduleEnqueuesBackupsAndPrunes() async throws {
        let clock = IdentityFixtures.clock()
        try await SiteTaskWorld.with(clock: clock, configure: {
            $0.backups.scheduleIntervalSeconds = 0.1
            $0.auth.sessionTTLSeconds = 30 * 86_400
        }) { world in
            let client = world.coordinator.client(token: world.owner)
            #expect(try await client.backupSchedule(site: world.site).enabled == false)
            let bad = try await world.send(
                "PUT", "/v1/sites/\(world.site)/backup-schedule", json: ["everyHours": 24, "keepLast": -1])
            #expect(bad.status == 400)
            let member = try await world.send(
                "PUT", "/v1/sites/\(world.site)/backup-schedule", json: ["everyHours": 24],
                token: world.organization.member.token)
            #expect(member.status == 403)
            let schedule = try await client.setBackupSchedule(
                site: world.site,
                BackupScheduleRequest(everyHours: 24, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, encrypt: true))
            #expect(schedule.enabled && schedule.nextRunAt == clock.now().addingTimeInterval(24 * 3600))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await world.tasks(kind: "backup").isEmpty, "not due yet")
            clock.advance(by: 25 * 3600)
            try await world.coordinator.eventually("the scheduled backup") { try await !world.tasks(kind: "backup").isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            let backups = try await world.tasks(kind: "backup")
            #expect(backups.count == 1, "enqueued once")
            #expect(try await client.backupSchedule(site: world.site).nextRunAt == clock.now().addingTimeInterval(24 * 3600))
            let sent = try await world.payload(backups[0]).backup
            #expect(sent.encryptionKey.count == 32 && sent.site.siteID == world.site)
            #expect(try await world.tasks(kind: "prune_backups").isEmpty, "no prune before a backup succeeded")
            try await world.report(backups[0]) { result in
                result.backup.objectKey = "sites/\(world.site)/\(sent.backupID).tar.zst.enc"
                result.backup.sizeBytes = 100
                result.backup.archiveSha256 = String(repeating: "1f", count: 32)
                result.backup.encrypted = true
            }
            // One backup and keepLast 1: the rule deletes nothing, so no task; the pass is still claimed and audited.
            try await world.coordinator.eventually("the first prune pass") {
                try await world.count("SELECT count(*) FROM audit_entries WHERE action = 'backup.prune'") == 1
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await world.tasks(kind: "prune_backups").isEmpty, "nothing to delete, no task")
            #expect(try await world.count("SELECT count(*) FROM audit_entries WHERE action = 'backup.prune'") == 1)

            // The next day's backup: now the first one goes, named in the task.
            clock.advance(by: 25 * 3600)
            try await world.coordinator.eventually("the second backup") { try await world.tasks(kind: "backup").count == 2 }
            let second = try await world.tasks(kind: "backup").first { $0 != backups[0] }!
            let secondSent = try await world.payload(second).backup
            try await world.report(second) { result in
                result.backup.objectKey = "sites/\(world.site)/\(secondSent.backupID).tar.zst.enc"
                result.backup.sizeBytes = 100
                result.backup.archiveSha256 = String(repeating: "2f", count: 32)
                result.backup.encrypted = true
            }
            try await world.coordinator.eventually("the prune") { try await !world.tasks(kind: "prune_backups").isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            let prunes = try await world.tasks(kind: "prune_backups")
            #expect(prunes.count == 1, "one prune per new backup")
            let prune = try await world.payload(prunes[0]).pruneBackups
            #expect(prune.delete.map(\.backupID) == [sent.backupID])
            #expect(prune.delete.map(\.objectKey) == ["sites/\(world.site)/\(sent.backupID).tar.zst.enc"])
            #expect(prune.backups.isEmpty && prune.rule.keepLast == 0, "the agent is not asked to choose")
            #expect(prune.destination.local.path == "/var/backups/chom")
            // everyHours 0 removes the schedule.
            #expect(try await client.setBackupSchedule(site: world.site, BackupScheduleRequest(everyHours: 0)).enabled == false)
            #expect(try await world.count("SELECT count(*) FROM backup_schedules") == 0)
        }
    }
}
