import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import CHOMTesting
import Foundation
import Testing

@Suite("Backup schedules: due backups are enqueued once, a succeeded one is followed by a prune", .serialized)
struct BackupScheduleTests {
    @Test("on a manual clock: nothing before the schedule is due, one backup when it is, then one prune with the rule and the list")
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
                BackupScheduleRequest(everyHours: 24, keepLast: 2, keepDaily: 3, keepWeekly: 1, keepMonthly: 0, encrypt: true))
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
            try await world.coordinator.eventually("the prune") { try await !world.tasks(kind: "prune_backups").isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            let prunes = try await world.tasks(kind: "prune_backups")
            #expect(prunes.count == 1, "one prune per new backup")
            let prune = try await world.payload(prunes[0]).pruneBackups
            #expect(prune.rule.keepLast == 2 && prune.rule.keepDaily == 3 && prune.rule.keepWeekly == 1)
            #expect(prune.backups.map(\.backupID) == [sent.backupID] && prune.backups[0].verified == false)
            #expect(prune.destination.local.path == "/var/backups/chom")
            // everyHours 0 removes the schedule.
            #expect(try await client.setBackupSchedule(site: world.site, BackupScheduleRequest(everyHours: 0)).enabled == false)
            #expect(try await world.count("SELECT count(*) FROM backup_schedules") == 0)
        }
    }
}
