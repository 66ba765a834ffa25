import CHOMAgent
import CHOMBackup
import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTesting
import Crypto
import Foundation
import Testing

@Suite("Backups and restores of hosted sites", .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedBackupTests {
    static func local(_ directory: URL) -> Chom_Agent_V1_BackupDestination {
        var destination = Chom_Agent_V1_BackupDestination()
        destination.local.path = directory.path
        return destination
    }

    static func backupTask(_ config: Chom_Agent_V1_SiteConfig, to destination: Chom_Agent_V1_BackupDestination, key: Data = Data())
        -> Chom_Agent_V1_BackupTask
    {
        var task = Chom_Agent_V1_BackupTask()
        task.site = config
        task.backupID = UUID().uuidString.lowercased()
        task.destination = destination
        task.encryptionKey = key
        task.encryptionKeyID = key.isEmpty ? "" : "tenant-key-1"
        return task
    }

    static func restoreTask(_ config: Chom_Agent_V1_SiteConfig, from backup: Chom_Agent_V1_BackupReport, source: Chom_Agent_V1_BackupDestination, key: Data = Data())
        -> Chom_Agent_V1_RestoreTask
    {
        var task = Chom_Agent_V1_RestoreTask()
        task.site = config
        task.backupID = backup.backupID
        task.source = source
        task.objectKey = backup.objectKey
        task.archiveSha256 = backup.archiveSha256
        task.encryptionKey = key
        task.encryptionKeyID = key.isEmpty ? "" : "tenant-key-1"
        task.releaseID = UUID().uuidString.lowercased()
        return task
    }

    @Test("backup → restore onto another agent is byte-identical, database dump included, and is served there")
    func roundTripOntoAnotherAgent() async throws {
        let storage = try TemporaryDirectory.make(prefix: "h-backups")
        defer { TemporaryDirectory.remove(storage) }
        let postgres = EmbeddedPostgres(
            directory: try TemporaryDirectory.make(prefix: "h-pg"), options: { var o = EmbeddedPostgres.Options(); o.disableFsync = true; return o }(),
            logger: Fixtures.logger)
        try await postgres.startOffPool()
        defer { postgres.stop(immediate: true) }
        var database = Chom_Agent_V1_SiteDatabase()
        database.engine = .postgresql
        database.connection = "host=\(postgres.socketDirectory) user=\(postgres.username) dbname=\(postgres.database)"
        try await Self.psql(database, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'ünïcode');")

        var config = HostedSiteWorld.config("moving.test")
        config.sharedPaths = ["uploads/"]
        let files = ["public/index.html": "<h1>moving</h1>", "public/app.js": String(repeating: "x", count: 100_000),
                     "uploads/photo.txt": "a photo"]
        let report = try await HostedSiteWorld.with { world in
            let deployed = await world.deploy(try world.deployTask(config, files: files))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            var task = Self.backupTask(config, to: Self.local(storage))
            task.database = database
            let result = await world.backups.backup(task) { _, _ in }
            #expect(result.outcome == .succeeded, "\(result.message)")
            #expect(result.report.backup.sizeBytes > 0 && result.report.backup.fileCount >= 3)
            #expect(result.report.backup.archiveSha256.count == 64)
            return result.report.backup
        }
        try await Self.psql(database, "DROP TABLE orders;")
        try await HostedSiteWorld.with { (other: HostedSiteWorld) async throws in
            var task = Self.restoreTask(config, from: report, source: Self.local(storage))
            task.database = database
            let restored = await other.backups.restore(task) { _, _ in }
            #expect(restored.outcome == .succeeded, "\(restored.message)")
            #expect(try await other.get("moving.test").body == "<h1>moving</h1>")
            let current = SiteLayout(sitesRoot: other.root, domain: "moving.test").current
            #expect(try String(contentsOf: current.appendingPathComponent("public/app.js"), encoding: .utf8) == files["public/app.js"])
            #expect(try String(contentsOf: current.appendingPathComponent("uploads/photo.txt"), encoding: .utf8) == "a photo")
        }
        #expect(try await Self.psql(database, "SELECT item FROM orders ORDER BY id;") == "tea\nünïcode\n")
    }

    @Test("an encrypted backup restores with the tenant's key and not without it; a verify drill passes")
    func encrypted() async throws {
        let storage = try TemporaryDirectory.make(prefix: "h-backups")
        defer { TemporaryDirectory.remove(storage) }
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("secret.test")
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "classified"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            let backup = await world.backups.backup(Self.backupTask(config, to: Self.local(storage), key: key)) { _, _ in }
            #expect(backup.outcome == .succeeded, "\(backup.message)")
            #expect(backup.report.backup.encrypted)
            #expect(backup.report.backup.objectKey.hasSuffix(".enc"))
            let stored = try Data(contentsOf: storage.appendingPathComponent(backup.report.backup.objectKey))
            #expect(stored.range(of: Data("classified".utf8)) == nil)
            let withoutKey = await world.backups.restore(Self.restoreTask(config, from: backup.report.backup, source: Self.local(storage))) { _, _ in }
            #expect(withoutKey.outcome == .failed)
            #expect(withoutKey.message.contains("key"), "\(withoutKey.message)")
            let wrongKey = Data(repeating: 7, count: 32)
            let wrong = await world.backups.restore(Self.restoreTask(config, from: backup.report.backup, source: Self.local(storage), key: wrongKey)) { _, _ in }
            #expect(wrong.outcome == .failed)
            #expect(try await world.get("secret.test").body == "classified")
            var verify = Chom_Agent_V1_VerifyBackupTask()
            verify.site = config
            verify.backupID = backup.report.backup.backupID
            verify.source = Self.local(storage)
            verify.objectKey = backup.report.backup.objectKey
            verify.archiveSha256 = backup.report.backup.archiveSha256
            verify.encryptionKey = key
            verify.encryptionKeyID = "tenant-key-1"
            let drill = await world.backups.verify(verify) { _, _ in }
            #expect(drill.outcome == .succeeded, "\(drill.message)")
            #expect(drill.report.backup.verifiedAtMs > 0)
        }
    }

    @Test("backups go to S3 (moto) through presigned URLs and come back; a refused presign or a task with credentials fails cleanly")
    func s3() async throws {
        try await MotoServer.with(bucket: "site-backups", checkSignatures: false) { moto in
            try await HostedSiteWorld.with { world in
                let config = HostedSiteWorld.config("cloud.test")
                _ = await world.deploy(try world.deployTask(config, files: ["public/index.html": "in the cloud"]))
                let bucket = try S3Target(configuration: moto.configuration(bucket: "site-backups"), logger: Fixtures.logger)
                let key = "t/cloud.test/\(UUID().uuidString.lowercased()).tar.zst"
                var destination = Chom_Agent_V1_BackupDestination()
                destination.presigned.objectKey = key
                let presigner = DirectStoragePresigner(target: bucket, objectKey: key)
                var backups = world.backups
                backups.storage = presigner
                let backup = await backups.backup(Self.backupTask(config, to: destination)) { _, _ in }
                #expect(backup.outcome == .succeeded, "\(backup.message)")
                #expect(backup.report.backup.objectKey == key)
                #expect(presigner.asked == ["PutObject"])
                #expect(try await bucket.list(prefix: "t/").map(\.key) == [key])
                let restored = await backups.restore(Self.restoreTask(config, from: backup.report.backup, source: destination)) { _, _ in }
                #expect(restored.outcome == .succeeded, "\(restored.message)")
                #expect(presigner.asked == ["PutObject", "GetObject"])
                #expect(try await world.get("cloud.test").body == "in the cloud")

                // The coordinator says no: the backup fails with its words and stores nothing.
                let otherKey = "t/cloud.test/\(UUID().uuidString.lowercased()).tar.zst"
                destination.presigned.objectKey = otherKey
                backups.storage = DirectStoragePresigner(target: bucket, objectKey: otherKey, refuse: "the task is failed, not running")
                let refused = await backups.backup(Self.backupTask(config, to: destination)) { _, _ in }
                #expect(refused.outcome == .failed)
                #expect(refused.message.contains("not running"), "\(refused.message)")
                #expect(try await bucket.list(prefix: "t/").map(\.key) == [key])

                // Credentials in a task are refused before anything is read or sent.
                var withKeys = Chom_Agent_V1_BackupDestination()
                withKeys.s3.endpoint = moto.endpoint.absoluteString
                withKeys.s3.bucket = "site-backups"
                withKeys.s3.accessKeyID = moto.accessKeyID
                withKeys.s3.secretAccessKey = moto.secretAccessKey
                let old = await backups.backup(Self.backupTask(config, to: withKeys)) { _, _ in }
                #expect(old.outcome == .failed)
                #expect(old.message.contains("presigned"), "\(old.message)")
                #expect(!old.message.contains(moto.secretAccessKey))
                #expect(try await bucket.list(prefix: "t/").map(\.key) == [key])
            }
        }
    }

    @Test("a prune deletes exactly the backups the coordinator names, in this site's folder only; remove takes a backup first")
    func pruneAndRemove() async throws {
        let storage = try TemporaryDirectory.make(prefix: "h-backups")
        defer { TemporaryDirectory.remove(storage) }
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("prune.test")
            _ = await world.deploy(try world.deployTask(config, files: ["public/index.html": "p"]))
            var entries: [Chom_Agent_V1_BackupEntry] = []
            let day: Int64 = 86_400_000
            let base: Int64 = 1_790_000_000_000
            for index in 0..<6 {
                let backup = await world.backups.backup(Self.backupTask(config, to: Self.local(storage))) { _, _ in }
                #expect(backup.outcome == .succeeded, "\(backup.message)")
                var entry = Chom_Agent_V1_BackupEntry()
                entry.backupID = backup.report.backup.backupID
                entry.objectKey = backup.report.backup.objectKey
                entry.createdAtMs = base + Int64(index) * day  // one per day, oldest first
                entry.verified = index == 1
                entries.append(entry)
            }
            // The coordinator applied the rule and names what goes: exactly those are deleted.
            var prune = Chom_Agent_V1_PruneBackupsTask()
            prune.site = config
            prune.destination = Self.local(storage)
            prune.delete = [0, 2, 3].map { entries[$0] }
            let pruned = await world.backups.prune(prune) { _, _ in }
            #expect(pruned.outcome == .succeeded, "\(pruned.message)")
            #expect(Set(pruned.report.deletedBackupIds) == Set([0, 2, 3].map { entries[$0].backupID }))
            let left = try await LocalDirectoryTarget(root: storage).list(prefix: "")
            #expect(Set(left.map(\.key)) == Set([1, 4, 5].map { entries[$0].objectKey }))

            // An object outside this site's folder, or the older form where the agent chose, is refused
            // and deletes nothing.
            var foreign = prune
            var stranger = entries[4]
            stranger.objectKey = "other-tenant/other.test/x.tar.zst"
            foreign.delete = [entries[5], stranger]
            let refused = await world.backups.prune(foreign) { _, _ in }
            #expect(refused.outcome == .refused)
            #expect(refused.message.contains("not in this site's folder"), "\(refused.message)")
            var older = Chom_Agent_V1_PruneBackupsTask()
            older.site = config
            older.destination = Self.local(storage)
            older.rule.keepLast = 1
            older.backups = [entries[4], entries[5]]
            let olderOutcome = await world.backups.prune(older) { _, _ in }
            #expect(olderOutcome.outcome == .refused)
            #expect(Set(try await LocalDirectoryTarget(root: storage).list(prefix: "").map(\.key))
                == Set([1, 4, 5].map { entries[$0].objectKey }))

            var remove = Chom_Agent_V1_RemoveSiteTask()
            remove.site = config
            remove.backup = Self.backupTask(config, to: Self.local(storage))
            let removed = await world.backups.remove(remove) { _, _ in }
            #expect(removed.outcome == .succeeded, "\(removed.message)")
            #expect(removed.report.backup.sizeBytes > 0)
            #expect(!FileManager.default.fileExists(atPath: world.root.appendingPathComponent("prune.test").path))
            #expect(SiteAccount.lookup(try HostedSite(config).user.rawValue) == nil)
            #expect(try await world.get("prune.test").status == 404)
        }
    }

    /// Runs SQL with psql as the cluster's user; returns the unaligned output.
    @discardableResult
    static func psql(_ database: Chom_Agent_V1_SiteDatabase, _ sql: String) async throws -> String {
        let outcome = try await CommandRunner().run(CommandRunner.Command(
            "/usr/bin/psql", ["--no-psqlrc", "-qAt", "-v", "ON_ERROR_STOP=1", "--dbname=\(database.connection)", "-c", sql]))
        guard outcome.succeeded else { throw CHOMError(.internal, "psql failed: \(outcome.outputText)") }
        return outcome.outputText
    }
}
