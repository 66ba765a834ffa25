import CHOMBackup
import CHOMCore
import CHOMSiteFiles
package import CHOMProtocol
import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

extension BackupExecutor {
    /// Fetch → verify checksum and manifest → decrypt → extract safely into a new release →
    /// restore `shared/` and the database dump → switch atomically (→ health check, back on
    /// failure). Works on any agent: the site is configured here first if it is new to it.
    package func restore(_ task: Chom_Agent_V1_RestoreTask, progress: ProgressReporter) async -> ExecutionResult {
        let site: HostedSite
        let releaseID: String
        do {
            site = try HostedSite(task.site)
            guard let release = UUID(uuidString: task.releaseID) else { throw CHOMError(.invalidInput, "release id is not a UUID") }
            guard task.archiveSha256.utf8.count == 64 else { throw CHOMError(.invalidInput, "archive_sha256 must be 64 hex digits") }
            try BackupTargetKey.validate(task.objectKey)
            releaseID = release.uuidString.lowercased()
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: site.domain)
        do {
            let work = try scratch("restore-\(task.backupID)")
            defer { try? FileManager.default.removeItem(at: work) }  // not a tenant path: the agent's work directory (root, 0700)
            let restored = try await fetchAndUnpack(
                source: task.source, objectKey: task.objectKey, sha256: task.archiveSha256, keyBytes: task.encryptionKey,
                keyID: task.encryptionKeyID, into: work, progress: progress)
            try layout.prepare()
            try await hosting?.configure(site, layout: layout)
            try await install(restored, site: site, releaseID: releaseID, layout: layout, progress: progress)
            if let dump = restored.database, task.hasDatabase, task.database.engine != .none {
                try await databases.restore(task.database, from: dump.file)
                await progress("database", "dump restored")
            }
            do {
                try await layout.goLive(releaseID, site: site, hosting: hosting, progress: progress)
            } catch let failure as GoLiveFailure {
                throw CHOMError(.unavailable, "the restored release failed its \(failure.step.rawValue) step (\(failure))")
            }
            var report = Chom_Agent_V1_TaskResult()
            report.releaseID = releaseID
            return ExecutionResult(
                outcome: .succeeded, message: "backup \(task.backupID) restored as release \(releaseID) of \(site.domain)",
                releasePath: layout.release(releaseID).path, report: report)
        } catch {
            logger.warning("restore failed", metadata: [LogKey.error: "\(error)", LogKey.siteID: "\(site.siteID)"])
            var report = Chom_Agent_V1_TaskResult()
            report.releaseID = layout.currentRelease() ?? ""
            return ExecutionResult(outcome: .failed, message: "restore of \(site.domain) failed: \(error)", report: report)
        }
    }

    /// Downloads the archive and restores it (checksum, decryption, safe extraction, manifest)
    /// under `work`.
    func fetchAndUnpack(
        source: Chom_Agent_V1_BackupDestination, objectKey: String, sha256: String, keyBytes: Data, keyID: String,
        into work: URL,
        progress: ProgressReporter
    ) async throws -> BackupRestore {
        let target = try storageTarget(source)
        let archive = work.appendingPathComponent("archive")
        try await target.get(key: objectKey, to: archive)
        let expected = BackupManifest.Archive(sha256: sha256.lowercased(), byteCount: Self.size(of: archive))
        await progress("fetch", "\(expected.byteCount) bytes from \(objectKey)")
        let key = try encryptionKey(keyBytes, id: keyID)
        let destination = work.appendingPathComponent("restored")
        let restored = try await NIOThreadPool.singleton.runIfActive {
            try BackupReader().restore(archive: archive, expected: expected, key: key, into: destination)
        }
        await progress("verify", "checksum and \(restored.manifest.entries.count) manifest entries match")
        return restored
    }

    /// `files/current` becomes `releases/<id>`, `files/shared` replaces `shared/`; both are
    /// extracted by root into its private work directory (a hostile archive is refused by the
    /// safe extractor there, where no tenant process can reach), given to the site user without
    /// following links, then renamed into root's site directory. The old `shared/` is moved
    /// aside by name in root's site directory and removed through descriptors.
    private func install(
        _ restored: BackupRestore, site: HostedSite, releaseID: String, layout: SiteLayout, progress: ProgressReporter
    ) async throws {
        guard !layout.hasRelease(releaseID) else {
            throw CHOMError(.conflict, "release \(releaseID) already exists on this agent")
        }
        let siteDirectory = try layout.openSite()
        let releases = try siteDirectory.openDirectory("releases")
        let incoming = try siteDirectory.openDirectory(".incoming")
        if let files = restored.directory(for: "files/current") {
            let parent = try SiteDirectory.openTrusted(files.deletingLastPathComponent().path)
            let tree = try parent.openDirectory(files.lastPathComponent)
            // In root's work directory (under the state directory, 0700): no site user reaches it.
            try await hosting?.own(site, tree: tree, unreachable: true)
            try tree.setMode(0o755)
            try parent.rename(files.lastPathComponent, to: releaseID, in: releases)
        } else {
            let empty = try incoming.makeDirectories("empty-" + UUID().uuidString.lowercased(), mode: 0o755)
            try await hosting?.own(site, tree: empty)
            try incoming.rename(URL(fileURLWithPath: empty.path).lastPathComponent, to: releaseID, in: releases)
        }
        await progress("extract", "files restored into releases/\(releaseID)")
        guard let shared = restored.directory(for: "files/shared") else { return }
        let parent = try SiteDirectory.openTrusted(shared.deletingLastPathComponent().path)
        let tree = try parent.openDirectory(shared.lastPathComponent)
        try await hosting?.own(site, tree: tree, unreachable: true)
        let old = "shared-old-" + UUID().uuidString.lowercased()
        if try siteDirectory.status("shared") != nil {
            try siteDirectory.rename("shared", to: old, in: incoming)
        }
        try parent.rename(shared.lastPathComponent, to: "shared", in: siteDirectory)
        try? incoming.removeTree(old)
        await progress("shared", "shared/ restored")
    }
}
