import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMSiteFiles
import CHOMTesting
import Crypto
import Foundation
import Glibc
import Synchronization
import Testing

/// The hostile-tenant suite (issue 8, SECURITY.md). For every task kind and root's periodic work,
/// every attack is planted in every place the site user can write — found by walking the site's
/// tree *as the site user* (`find -writable`), not from a list — under a new name and in place of
/// every existing entry, then the task runs, with a process of the site user flipping links in a
/// tight loop meanwhile. After each case: no sentinel changed, appeared or disappeared; no
/// root-owned file appeared where the tenant writes; nothing of another site or of a sentinel
/// is served or backed up; the task succeeded, or failed with a message; the site still serves
/// its last good release. The table of cases is printed.
/// `CHOM_HOSTILE_EXHAUSTIVE=1` runs every attack against every task kind with a fresh site each.
@Suite("Hostile tenant: root never acts through a tenant's path", .serialized,
       .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostileTenantTests {
    enum Attack: String, CaseIterable, Sendable {
        case linkToSentinelDirectory = "symlink → root's directory"
        case linkToSentinelFile = "symlink → root's file"
        case linkToOtherSite = "symlink → another site"
        case hardLinkToRootFile = "hard link → root's file"
        case fifo = "FIFO"
    }

    enum Kind: String, CaseIterable, Sendable {
        case configure, deployUpload = "deploy (upload)", deployGit = "deploy (git)", rollback, suspendResume = "suspend/resume"
        case backup, restore, verify, prune, remove, diskUsage = "disk usage walk", logTail = "access-log tail"
    }

    struct Row: Sendable {
        var kind: Kind
        var attack: Attack
        var places: Int
        /// The steps the task reported (each one a pause where the attack was planted again).
        var steps: [String]
        var stepPlants: Int
        var outcome: String
        var problems: [String]
    }

    static let victimSecret = "VICTIM-SECRET-7f3a91"
    static let sentinelText = "ROOT-SENTINEL-c0ffee"
    static let goodText = "hostile site, last good release"

    @Test("every attack in every tenant-writable place, at every task kind: nothing escapes")
    func suite() async throws {
        let exhaustive = ProcessInfo.processInfo.environment["CHOM_HOSTILE_EXHAUSTIVE"] == "1"
        let lab = try Lab.make()
        defer { lab.remove() }
        var rows: [Row] = []
        try await HostedSiteWorld.with { world in
            let victim = HostedSiteWorld.config("victim.test")
            let deployed = await world.deploy(try world.deployTask(victim, files: ["public/index.html": Self.victimSecret]))
            try #require(deployed.outcome == .succeeded, "\(deployed.message)")
            var made = 0
            func newSite() async throws -> HostileSite {
                made += 1
                return try await HostileSite.make(world: world, lab: lab, domain: "h-\(made).test")
            }
            for kind in Kind.allCases {
                // One site per task kind (a fresh one per attack in the exhaustive mode, and for remove).
                var site = try await newSite()
                for (index, attack) in Attack.allCases.enumerated() {
                    if index > 0, exhaustive || kind == .remove { site = try await newSite() }
                    rows.append(try await run(kind, attack, site: site, world: world, lab: lab))
                    site.unplant()
                }
            }
        }
        let width = rows.map(\.kind.rawValue.count).max() ?? 10
        var table = "\nhostile-tenant cases (\(rows.count)):\n"
        for row in rows {
            let kind = row.kind.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            let attack = row.attack.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)
            table += "  \(kind)  \(attack)  \(String(row.places).padding(toLength: 3, withPad: " ", startingAt: 0)) places"
                + "  \(row.steps.count) steps (+\(row.stepPlants) plants)  \(row.problems.isEmpty ? "SAFE" : "BROKEN")  \(row.outcome.prefix(90))\n"
            for problem in row.problems { table += "      ✗ \(problem)\n" }
        }
        print(table)
        #expect(rows.count == Kind.allCases.count * Attack.allCases.count)
        #expect(rows.allSatisfy { $0.places >= 6 }, "the enumeration found too few tenant-writable places")
        #expect(rows.allSatisfy { $0.problems.isEmpty }, "\(table)")
    }

    private func run(_ kind: Kind, _ attack: Attack, site: HostileSite, world: HostedSiteWorld, lab: Lab) async throws -> Row {
        let before = try lab.snapshot()
        // The live release may have changed in the case before (a deploy, a rollback, a restore).
        site.currentRelease = site.layout.currentRelease()
        let places = try site.plant(attack, lab: lab)
        let flipper = try site.startFlipper(lab: lab)
        // The test hook that pauses each step: whenever the task reports a step, the attack is planted
        // again in every place that appeared since (a new release, a new directory), before it goes on.
        let steps = StepLog()
        let atEachStep: ProgressReporter = { step, _ in
            steps.append(step)
            if let planted = try? site.plant(attack, lab: lab) { site.stepPlants += planted }
        }
        let (outcome, message, backupArchive) = await perform(kind, site: site, world: world, lab: lab, progress: atEachStep)
        flipper.stop()
        var problems: [String] = []
        // The flipper's last `ln`/`mv` may still be exiting: a moment's grace (the hook's sleepers
        // would sleep for minutes, so they still show).
        var survivors = UserProcesses.pids(of: site.account.uid)
        let graceEnd = ContinuousClock.now + .seconds(2)
        while !survivors.isEmpty, ContinuousClock.now < graceEnd {
            try await Task.sleep(for: .milliseconds(20))
            survivors = UserProcesses.pids(of: site.account.uid)
        }
        if !survivors.isEmpty { problems.append("processes of the site user survived: \(survivors)") }
        let after = try lab.snapshot()
        if before != after { problems.append("a sentinel changed: \(Lab.difference(before, after))") }
        for path in try site.rootOwnedEntries(excluding: site.plantedHardLinks) { problems.append("root-owned entry appeared: \(path)") }
        if outcome == .failed || outcome == .refused, message.isEmpty { problems.append("failed without a message") }
        if let backupArchive {
            let contents = try Lab.decompressed(backupArchive)
            if contents.contains(Self.victimSecret) { problems.append("another site's file is in the backup") }
            if contents.contains(Self.sentinelText) { problems.append("a root sentinel is in the backup") }
        }
        if kind != .remove {
            // The plant itself, a file in the sentinel directory through it, another site's page through it.
            for name in site.servedProbeNames.flatMap({ [$0, $0 + "/a", $0 + "/current/public/index.html"] }) {
                if let response = try? await world.get(site.domain, path: "/" + name),
                    response.body.contains(Self.victimSecret) || response.body.contains(Self.sentinelText)
                {
                    problems.append("GET /\(name) served another site's or root's file")
                }
            }
            let served = try? await world.get(site.domain)
            if served?.status != 200 || served?.body != Self.goodText {
                problems.append("the site no longer serves its last good release (\(served.map { "\($0.status) \($0.body.prefix(60))" } ?? "no answer"))")
            }
        }
        return Row(
            kind: kind, attack: attack, places: places, steps: steps.names, stepPlants: site.stepPlants,
            outcome: "\(outcome): \(message)", problems: problems)
    }

    private func perform(
        _ kind: Kind, site: HostileSite, world: HostedSiteWorld, lab: Lab, progress ignore: @escaping ProgressReporter
    ) async -> (ExecutionResult.Outcome, String, URL?) {
        switch kind {
        case .configure:
            var task = Chom_Agent_V1_ConfigureSiteTask()
            task.site = site.config
            let result = await world.sites.configure(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .deployUpload:
            guard let task = try? world.deployTask(site.config, files: site.files) else { return (.failed, "no task", nil) }
            let result = await world.deploy(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .deployGit:
            var task = Chom_Agent_V1_DeployTask()
            task.siteID = site.config.siteID
            task.domain = site.config.domain
            task.releaseID = UUID().uuidString.lowercased()
            task.git.url = lab.gitRepository.path
            task.git.ref = "hostile-v1"
            task.site = site.config
            let result = await world.deploy(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .rollback:
            var task = Chom_Agent_V1_RollbackTask()
            task.site = site.config
            task.releaseID = site.currentRelease ?? ""
            let result = await world.sites.rollback(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .suspendResume:
            var task = Chom_Agent_V1_SuspendSiteTask()
            task.site = site.config
            task.suspended = true
            let suspended = await world.sites.suspend(task, progress: ignore)
            task.suspended = false
            let resumed = await world.sites.suspend(task, progress: ignore)
            return (suspended.outcome == .succeeded ? resumed.outcome : suspended.outcome, "\(suspended.message); \(resumed.message)", nil)
        case .backup:
            let result = await world.backups.backup(HostedBackupTests.backupTask(site.config, to: HostedBackupTests.local(lab.storage)), progress: ignore)
            let archive = result.outcome == .succeeded ? lab.storage.appendingPathComponent(result.report.backup.objectKey) : nil
            return (result.outcome, result.message, archive)
        case .restore:
            let result = await world.backups.restore(
                HostedBackupTests.restoreTask(site.config, from: site.backup, source: HostedBackupTests.local(lab.storage)), progress: ignore)
            return (result.outcome, result.message, nil)
        case .verify:
            var task = Chom_Agent_V1_VerifyBackupTask()
            task.site = site.config
            task.backupID = site.backup.backupID
            task.source = HostedBackupTests.local(lab.storage)
            task.objectKey = site.backup.objectKey
            task.archiveSha256 = site.backup.archiveSha256
            let result = await world.backups.verify(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .prune:
            // The coordinator names what goes; the agent deletes exactly that, in the site's folder.
            var task = Chom_Agent_V1_PruneBackupsTask()
            task.site = site.config
            task.destination = HostedBackupTests.local(lab.storage)
            var entry = Chom_Agent_V1_BackupEntry()
            entry.backupID = site.backup.backupID
            entry.objectKey = site.backup.objectKey
            entry.createdAtMs = 1_790_000_000_000
            task.delete = [entry]
            let result = await world.backups.prune(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .remove:
            var task = Chom_Agent_V1_RemoveSiteTask()
            task.site = site.config
            task.backup = HostedBackupTests.backupTask(site.config, to: HostedBackupTests.local(lab.storage))
            let result = await world.backups.remove(task, progress: ignore)
            let archive = result.outcome == .succeeded ? lab.storage.appendingPathComponent(result.report.backup.objectKey) : nil
            return (result.outcome, result.message, archive)
        case .diskUsage:
            let usage = DiskUsage.measure(site.layout.site.path)
            return (usage == nil ? .failed : .succeeded, usage.map { "\($0.bytes) bytes, \($0.entries) entries" } ?? "unreadable", nil)
        case .logTail:
            _ = try? await world.get(site.domain)
            var tail = AccessLogTail(path: world.hosting.configuration.logsDirectory.appendingPathComponent(site.domain + "/access.log").path)
            let batch = tail.poll()
            return (.succeeded, "\(batch.counts.values.reduce(0, +)) requests counted", nil)
        }
    }
}

/// The steps a task reported, in order.
final class StepLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ step: String) { storage.withLock { $0.append(step) } }
    var names: [String] { storage.withLock { $0 } }
}
