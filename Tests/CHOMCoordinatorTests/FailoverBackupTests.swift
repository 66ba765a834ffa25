import CHOMCore
@testable import CHOMCoordinator
import CHOMStore
import Foundation
import Testing

@Suite("Failover backup choice")
struct FailoverBackupTests {
    static let site = SiteID()
    static let tenant = TenantID()

    static func backup(
        _ minutesAgo: Double, state: BackupRecord.State = .succeeded, verified: Bool = false, deleted: Bool = false,
        purpose: BackupRecord.Purpose = .regular
    ) -> BackupRecord {
        let finished = Date(timeIntervalSince1970: 1_800_000_000 - minutesAgo * 60)
        var record = BackupRecord(
            id: BackupID(), siteID: site, tenantID: tenant, agentID: AgentID(), taskID: TaskID(), state: state,
            objectKey: "k", encrypted: true, createdAt: finished.addingTimeInterval(-30), finishedAt: finished,
            verifiedAt: verified ? finished.addingTimeInterval(60) : nil, deletedAt: deleted ? finished : nil)
        record.purpose = purpose
        return record
    }

    @Test("the latest verified backup wins over a newer unverified one")
    func verifiedFirst() {
        let old = Self.backup(120, verified: true)
        let newer = Self.backup(10)
        let oldest = Self.backup(600, verified: true)
        #expect(FailoverBackup.choose(from: [newer, oldest, old])?.id == old.id)
    }

    @Test("with no verified backup, the latest succeeded one")
    func latestSucceeded() {
        let a = Self.backup(300)
        let b = Self.backup(5)
        #expect(FailoverBackup.choose(from: [a, b])?.id == b.id)
    }

    @Test("failed, deleted and stale-copy backups never count; none left means no failover")
    func unusable() {
        let failed = Self.backup(1, state: .failed, verified: true)
        let deleted = Self.backup(2, verified: true, deleted: true)
        let stale = Self.backup(3, verified: true, purpose: .staleCopy)
        #expect(FailoverBackup.choose(from: [failed, deleted, stale]) == nil)
        let good = Self.backup(500)
        #expect(FailoverBackup.choose(from: [failed, deleted, stale, good])?.id == good.id)
        #expect(FailoverBackup.choose(from: []) == nil)
    }
}
