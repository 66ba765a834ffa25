import CHOMBackup
package import CHOMCore
package import CHOMProtocol
package import Foundation
package import Logging
import NIOPosix

/// Backups of a site: its current release (`files/current`), `shared/` (`files/shared`) and
/// its database dump in one archive (tar → zstd → optional AES-256-GCM under the tenant's key),
/// stored on the task's target and reported with size, duration and SHA-256. A failed upload is
/// a failed backup. Restores, verify drills and retention prunes are in extensions.
package struct BackupExecutor: Sendable {
    package var sitesRoot: URL
    /// Archives are built here before upload and fetched here before restore (0700).
    package var workDirectory: URL
    package var hosting: (any SiteHosting)?
    package var databases = DatabaseDumps()
    package var metrics: AgentMetrics?
    /// Presigns object storage requests (the coordinator); nil refuses presigned destinations.
    package var storage: (any StoragePresigner)?
    /// The task being run, named when asking for presigned URLs.
    package var taskID = ""
    package var clock: any WallClock
    package var logger: Logger

    package init(
        sitesRoot: URL, workDirectory: URL, hosting: (any SiteHosting)?, metrics: AgentMetrics? = nil,
        clock: any WallClock, logger: Logger
    ) {
        self.sitesRoot = sitesRoot
        self.workDirectory = workDirectory
        self.hosting = hosting
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    package func backup(_ task: Chom_Agent_V1_BackupTask, progress: ProgressReporter) async -> ExecutionResult {
        let site: HostedSite
        do {
            site = try HostedSite(task.site)
            guard UUID(uuidString: task.backupID) != nil else { throw CHOMError(.invalidInput, "backup id is not a UUID") }
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        do {
            let report = try await makeBackup(task, site: site, progress: progress)
            var result = Chom_Agent_V1_TaskResult()
            result.backup = report
            return ExecutionResult(
                outcome: .succeeded,
                message: "backup \(report.backupID) of \(site.domain): \(report.sizeBytes) bytes in \(report.durationMs) ms",
                report: result)
        } catch {
            logger.warning("backup failed", metadata: [LogKey.error: "\(error)", LogKey.siteID: "\(site.siteID)"])
            return ExecutionResult(outcome: .failed, message: "backup of \(site.domain) failed: \(error)")
        }
    }

    func makeBackup(
        _ task: Chom_Agent_V1_BackupTask, site: HostedSite, progress: ProgressReporter
    ) async throws -> Chom_Agent_V1_BackupReport {
        let started = ContinuousClock.now
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: site.domain)
        let key = try encryptionKey(task.encryptionKey, id: task.encryptionKeyID)
        let target = try storageTarget(task.destination)
        let work = try scratch("backup-\(task.backupID)")
        defer { try? FileManager.default.removeItem(at: work) }  // not a tenant path: the agent's work directory (root, 0700)
        // Root reads the tenant's tree through descriptors only (every level O_NOFOLLOW, files
        // O_NONBLOCK and fstat-checked, links archived as links, FIFOs and devices skipped), from
        // directories named in root's own releases/ and site directory, and refuses a file that
        // is not the site user's, so nothing the tenant could not read itself gets in.
        let owner = hosting == nil ? nil : SiteAccount.lookup(site.user.rawValue)?.uid
        var sources: [BackupSource] = []
        if let live = layout.currentRelease(), layout.hasRelease(live) {
            sources.append(BackupSource(prefix: "files/current", directory: layout.release(live), owner: owner))
        }
        if layout.hasShared() {
            sources.append(BackupSource(prefix: "files/shared", directory: layout.shared, owner: owner))
        }
        guard !sources.isEmpty else { throw CHOMError(.conflict, "\(site.domain) has nothing on this agent to back up") }
        var database: BackupDatabaseDump?
        if task.hasDatabase, task.database.engine != .none {
            let dump = work.appendingPathComponent("dump.sql")
            try await databases.dump(task.database, to: dump)
            database = BackupDatabaseDump(kind: task.database.engine == .mysql ? .mysql : .postgresql, file: dump)
            await progress("dump", "database dumped (\(Self.size(of: dump)) bytes)")
        }
        let archive = work.appendingPathComponent("archive")
        let (allSources, dump) = (sources, database)
        let summary = try await NIOThreadPool.singleton.runIfActive {
            try BackupWriter().write(sources: allSources, database: dump, to: archive, encryptionKey: key)
        }
        await progress("archive", "\(summary.fileCount) files, \(summary.uncompressedBytes) bytes → \(summary.archiveBytes) bytes")
        let objectKey = task.destination.presigned.objectKey.isEmpty
            ? BackupDestinations.objectKey(site: site, backupID: task.backupID, encrypted: key != nil)
            : task.destination.presigned.objectKey
        try await target.put(file: archive, key: objectKey)
        await progress("upload", "stored as \(objectKey)")
        let duration = ContinuousClock.now - started
        var report = Chom_Agent_V1_BackupReport()
        report.backupID = task.backupID
        report.objectKey = objectKey
        report.sizeBytes = summary.archiveBytes
        report.durationMs = UInt64(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        report.archiveSha256 = summary.archiveSHA256
        report.fileCount = UInt64(summary.fileCount)
        report.encrypted = key != nil
        metrics?.sites.backupSucceeded(site: site.domain, tenant: site.tenantID, at: clock.now(), bytes: summary.archiveBytes, duration: duration)
        return report
    }

    /// The task's destination, with presigned URLs asked for under this task's id.
    func storageTarget(_ destination: Chom_Agent_V1_BackupDestination) throws(CHOMError) -> any BackupTarget {
        let presign: PresignedS3Target.Presign? = storage.map { storage in
            let taskID = self.taskID
            return { operation in try await storage.presign(taskID: taskID, operation) }
        }
        return try BackupDestinations.target(destination, presign: presign, logger: logger)
    }

    func encryptionKey(_ bytes: Data, id: String) throws(CHOMError) -> BackupEncryptionKey? {
        guard !bytes.isEmpty else { return nil }
        return try BackupEncryptionKey(id: id.isEmpty ? "tenant" : id, bytes: bytes)
    }

    /// A new private directory under the work directory.
    func scratch(_ name: String) throws -> URL {
        let url = workDirectory.appendingPathComponent(name + "-" + UUID().uuidString.lowercased().prefix(8), isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])  // not a tenant path: the agent's work directory (root, 0700)
        return url
    }

    static func size(of file: URL) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: file.path)[.size]) as? NSNumber)?.uint64Value ?? 0  // not a tenant path: the agent's work directory (root, 0700)
    }
}
