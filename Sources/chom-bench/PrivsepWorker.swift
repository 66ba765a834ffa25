import CHOMAgent
import CHOMArchive
import CHOMBackup
import CHOMCore
import CHOMSiteFiles
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `chom-bench privsep-worker backup|restore|deploy --side before|protected …`: one measured
/// side of `chom-bench privsep`, a child process of its own (its peak RSS its own). `protected`
/// calls the agent's code as it is (CHOMBackup with the owner check, CHOMSiteFiles' descriptor
/// walks, SharedPaths, HookRunner with its cgroup, SiteLayout); `before` runs the same work the
/// way the agent did before the hostile-tenant work (`BeforePrivsep`, `HandOverBefore`). Not
/// meant to be run by hand.
///
///     privsep-worker backup --side S --tree DIR --out ARCHIVE --user NAME
///         DIR is the site's `current` symlink (before: resolved, as the old agent did) or its
///         release directory (protected: owner = NAME's uid); writes ARCHIVE and ARCHIVE.summary.
///     privsep-worker restore --side S --archive ARCHIVE --work DIR --sites-root R --domain D
///             --release-id ID --user NAME --report FILE
///         BackupReader.restore into DIR (root's work directory), then the hand-over into
///         R/D/releases/ID; writes the seconds of each ("extract", "hand-over") to FILE.
///     privsep-worker deploy --side S --artifact A --sites-root R --domain D --user NAME
///             --count N --report FILE [--shared PATH] [--hook COMMAND]
///         N deploys of the artifact; writes the seconds the N took to FILE.
enum PrivsepWorker {
    enum Side: String { case before, protected }

    static let keepReleases = 5

    static func main(_ arguments: [String]) async throws {
        guard let mode = arguments.first else { throw ChildFailure(description: "privsep-worker: backup, restore or deploy") }
        var options = Options(Array(arguments.dropFirst()))
        guard let side = Side(rawValue: try options.value("--side")) else {
            throw ChildFailure(description: "privsep-worker: --side before|protected")
        }
        let user = try options.value("--user")
        guard let account = SiteAccount.lookup(user) else { throw ChildFailure(description: "no user \(user)") }
        switch mode {
        case "backup":
            let tree = URL(fileURLWithPath: try options.value("--tree"))
            let out = URL(fileURLWithPath: try options.value("--out"))
            try options.finish()
            try backup(side, tree: tree, out: out, account: account)
        case "restore":
            let archive = URL(fileURLWithPath: try options.value("--archive"))
            let work = URL(fileURLWithPath: try options.value("--work"))
            let layout = SiteLayout(
                sitesRoot: URL(fileURLWithPath: try options.value("--sites-root")), domain: try options.value("--domain"))
            let releaseID = try options.value("--release-id")
            let report = try options.value("--report")
            try options.finish()
            var laps = Laps()
            try restore(side, archive: archive, work: work, layout: layout, releaseID: releaseID, account: account, laps: &laps)
            let lines = laps.order.map { "\($0) \(BackupBench.seconds(laps.sums[$0] ?? .zero))" }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: report))
        case "deploy":
            let artifact = URL(fileURLWithPath: try options.value("--artifact"))
            let layout = SiteLayout(
                sitesRoot: URL(fileURLWithPath: try options.value("--sites-root")), domain: try options.value("--domain"))
            guard let count = Int(try options.value("--count")), count >= 1 else { throw ChildFailure(description: "--count: at least 1") }
            let report = try options.value("--report")
            let shared = try options.optionalValue("--shared").map { [$0] } ?? []
            let hooks = try options.optionalValue("--hook").map { [$0] } ?? []
            try options.finish()
            var laps = Laps()
            let start = ContinuousClock.now
            for index in 0..<count {
                let releaseID = "\(side.rawValue)-\(UUID().uuidString.lowercased().prefix(8))-\(index)"
                laps.start()
                try await deploy(
                    side, artifact: artifact, layout: layout, releaseID: releaseID, shared: shared, hooks: hooks, account: account,
                    laps: &laps)
            }
            let elapsed = BackupBench.seconds(ContinuousClock.now - start)
            // "total <s>", then "<step> <s>" summed over the deploys.
            let lines = ["total \(elapsed)"] + laps.order.map { "\($0) \(BackupBench.seconds(laps.sums[$0] ?? .zero))" }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: report))
        default:
            throw ChildFailure(description: "privsep-worker: unknown mode \(mode)")
        }
    }

    /// `BackupExecutor`'s file sources: before, `current` resolved and no owner; protected, the
    /// release directory and the site user's uid (a file of anyone else's fails the backup).
    static func backup(_ side: Side, tree: URL, out: URL, account: SiteAccount) throws {
        let source: BackupSource
        switch side {
        case .before: source = BackupSource(prefix: BackupWorker.sourcePrefix, directory: tree.resolvingSymlinksInPath())
        case .protected:
            let owner = SiteAccount.lookup(account.name)?.uid
            source = BackupSource(prefix: BackupWorker.sourcePrefix, directory: tree, owner: owner)
        }
        let summary = try BackupWriter(configuration: .init(compressionLevel: 3)).write(sources: [source], to: out, encryptionKey: nil)
        try Data("\(summary.archive.sha256) \(summary.archive.byteCount)\n".utf8)
            .write(to: URL(fileURLWithPath: out.path + BackupWorker.summarySuffix))
    }

    /// `BackupExecutor`'s restore: the same extraction into root's work directory on both sides,
    /// then `install` as it is (protected) or as it was (before) for `files/current`.
    static func restore(
        _ side: Side, archive: URL, work: URL, layout: SiteLayout, releaseID: String, account: SiteAccount, laps: inout Laps
    ) throws {
        laps.start()
        let fields = try String(contentsOfFile: archive.path + BackupWorker.summarySuffix, encoding: .utf8)
            .split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let bytes = UInt64(fields[1]) else {
            throw ChildFailure(description: "unreadable \(archive.path + BackupWorker.summarySuffix)")
        }
        let restored = try BackupReader().restore(
            archive: archive, expected: .init(sha256: String(fields[0]), byteCount: bytes), key: nil,
            into: work.appendingPathComponent("restored"))
        guard let files = restored.directory(for: BackupWorker.sourcePrefix) else {
            throw ChildFailure(description: "the archive has no \(BackupWorker.sourcePrefix)")
        }
        laps.lap("extract")
        switch side {
        case .before:
            try BeforePrivsep.installRestored(files, release: layout.release(releaseID), uid: account.uid, gid: account.gid)
        case .protected:
            guard !layout.hasRelease(releaseID) else { throw ChildFailure(description: "release \(releaseID) exists") }
            let siteDirectory = try layout.openSite()
            let releases = try siteDirectory.openDirectory("releases")
            _ = try siteDirectory.openDirectory(".incoming")
            let parent = try SiteDirectory.openTrusted(files.deletingLastPathComponent().path)
            let tree = try parent.openDirectory(files.lastPathComponent)
            try tree.chownTree(uid: account.uid, gid: account.gid, unreachable: true)  // LinuxSiteHosting.own, as BackupExecutor calls it
            try tree.setMode(0o755)
            try parent.rename(files.lastPathComponent, to: releaseID, in: releases)
        }
        laps.lap("hand-over")
    }

    /// One deploy of an artifact already fetched and verified (the same on both sides, so left
    /// out): extract into `.incoming/`, link shared paths, hand over, rename into `releases/`,
    /// run the hooks, switch `current`, prune (`DeployExecutor.stage`, `build`, `goLive`, `prune`).
    static func deploy(
        _ side: Side, artifact: URL, layout: SiteLayout, releaseID: String, shared: [String], hooks: [String],
        account: SiteAccount, laps: inout Laps
    ) async throws {
        let name = releaseID + ".stage-" + UUID().uuidString.lowercased()
        let staging = layout.incoming.appendingPathComponent(name)
        let release = layout.release(releaseID)
        switch side {
        case .before:
            guard !FileManager.default.fileExists(atPath: release.path) else { throw ChildFailure(description: "\(releaseID) exists") }
            _ = try SafeExtractor().extract(archive: artifact, to: staging)
            laps.lap("extract")
            if !shared.isEmpty { _ = try BeforePrivsep.linkShared(shared, release: staging, shared: layout.shared) }
            laps.lap("shared")
            try BeforePrivsep.handOver(staging, release: release, uid: account.uid, gid: account.gid)
            laps.lap("hand-over")
            for hook in hooks {
                try await BeforePrivsep.runHook(hook, account: account, site: layout.domain, releaseID: releaseID, release: release)
            }
            laps.lap("hooks")
            try BeforePrivsep.switchCurrent(site: layout.site, to: releaseID)
            laps.lap("switch")
            try BeforePrivsep.prune(site: layout.site, keep: keepReleases)
            laps.lap("prune")
        case .protected:
            guard !layout.hasRelease(releaseID) else { throw ChildFailure(description: "\(releaseID) exists") }
            let incoming = try layout.openIncoming()
            _ = try SafeExtractor().extract(archive: artifact, to: staging)
            laps.lap("extract")
            let tree = try incoming.openDirectory(name)
            let owner = (uid: account.uid, gid: account.gid)
            if !shared.isEmpty {
                let sharedDirectory = try layout.openSite().makeDirectories("shared", owner: owner)
                _ = try SharedPaths.link(shared, release: tree, shared: sharedDirectory, owner: owner)
            }
            laps.lap("shared")
            try tree.chownTree(uid: account.uid, gid: account.gid)  // LinuxSiteHosting.own
            try tree.setMode(0o755)
            try incoming.rename(name, to: releaseID, in: layout.openReleases())
            laps.lap("hand-over")
            for hook in hooks {
                // LinuxSiteHosting.run: the agent's HookRunner, a cgroup per run.
                let context = HookRunner.Context(
                    account: account, site: layout.domain, releaseID: releaseID, releaseDirectory: release.path,
                    temporaryDirectory: layout.temporary.path)
                _ = try await HookRunner().run(hook, in: context)
            }
            laps.lap("hooks")
            try layout.switchCurrent(to: releaseID)
            laps.lap("switch")
            _ = try layout.prune(keep: keepReleases)
            laps.lap("prune")
        }
    }
}

/// Time per deploy step, summed over a worker's deploys.
struct Laps {
    private(set) var order: [String] = []
    private(set) var sums: [String: Duration] = [:]
    private var mark = ContinuousClock.now

    mutating func start() { mark = ContinuousClock.now }

    mutating func lap(_ step: String) {
        let now = ContinuousClock.now
        if sums[step] == nil { order.append(step) }
        sums[step, default: .zero] += now - mark
        mark = now
    }
}
