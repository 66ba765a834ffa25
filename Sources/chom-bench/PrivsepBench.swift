import CHOMAgent
import CHOMSiteFiles
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `chom-bench privsep [--size-mb 1024] [--rounds 3] [--deploys 20] [--dir /var/tmp/chom-bench-privsep] [--keep-tree]`
///
/// The cost of privilege separation (issue 8, "Measure and report"): in one run, round by round
/// on the same work and the same trees, the agent's protected path (`protected`: the code as it
/// is) against the path before the hostile-tenant work (`before`: `BeforePrivsep`) for
///
/// - a deploy of the demo's site (`scripts/demo.sh`: a tar.zst of `public/index.html`, no shared
///   path, no hook), and the same site with one shared path (`storage/`) and one hook (`true`),
///   the steps where the two paths differ (shared paths, hand-over, hooks with or without their
///   cgroup, switch, prune); `--deploys` deploys per process, the figure is per deploy;
/// - the backup of the generated tree (`BenchTree`, owned by the site user as a release is),
///   against `tar | zstd -3` of the same tree;
/// - the restore of that backup into a site's `releases/`, against `zstd -d | tar`.
///
/// Needs root (a throwaway site user is made and removed), `tar`, `zstd`, `setpriv`, GNU `time`
/// and a cgroup hierarchy the agent can use for hooks. Each side is a fresh child process
/// (`privsep-worker`) after `sync()`; the sides alternate, reversed in even rounds. Prints best and
/// median seconds, peak RSS and the ratios. Figures, not assertions.
enum PrivsepBench {
    struct Configuration {
        var sizeMB = 1024
        var directory = URL(fileURLWithPath: "/var/tmp/chom-bench-privsep")
        var rounds = 3
        var deploys = 20
        var keepTree = false
    }

    struct Row: Hashable {
        var step: String
        var side: String
    }

    struct Figures {
        var seconds: [Double] = []
        var peakRSSKiB = 0
        /// Deploys: seconds per deploy of each step, one per round, in the steps' order.
        var steps: [String: [Double]] = [:]
        var stepOrder: [String] { ["extract", "shared", "hand-over", "hooks", "switch", "prune"].filter { steps[$0] != nil } }

        mutating func add(_ seconds: Double, rss: Int) {
            self.seconds.append(seconds)
            peakRSSKiB = max(peakRSSKiB, rss)
        }

        var best: Double { seconds.min() ?? .nan }
        var median: Double { Self.median(seconds) }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return .nan }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
    }

    static let before = "before"
    static let protected = "protected"
    static let demoDeploy = "deploy: demo site"
    static let hookDeploy = "deploy: + shared path, hook"
    static let backup = "backup"
    static let restore = "restore"
    static let tarPeer = "tar | zstd -3"
    static let untarPeer = "zstd -d | tar"

    static func main(_ arguments: [String]) throws {
        var options = Options(arguments)
        var configuration = Configuration()
        if let size = try options.optionalValue("--size-mb") {
            guard let value = Int(size), value >= 16 else { throw ChildFailure(description: "--size-mb: at least 16") }
            configuration.sizeMB = value
        }
        if let rounds = try options.optionalValue("--rounds") {
            guard let value = Int(rounds), value >= 1 else { throw ChildFailure(description: "--rounds: at least 1") }
            configuration.rounds = value
        }
        if let deploys = try options.optionalValue("--deploys") {
            guard let value = Int(deploys), value >= 1 else { throw ChildFailure(description: "--deploys: at least 1") }
            configuration.deploys = value
        }
        if let directory = try options.optionalValue("--dir") { configuration.directory = URL(fileURLWithPath: directory) }
        configuration.keepTree = options.flag("--keep-tree")
        try options.finish()
        guard geteuid() == 0 else { throw ChildFailure(description: "privsep: run as root (it makes a site user and re-owns trees)") }
        for tool in ["tar", "zstd", "setpriv", "useradd", "userdel", "groupadd", "groupdel"] where ChildProcess.which(tool) == nil {
            throw ChildFailure(description: "\(tool) is not on PATH")
        }
        guard access(ChildProcess.timeProgram, X_OK) == 0 else {
            throw ChildFailure(description: "\(ChildProcess.timeProgram) is missing (apt-get install -y time)")
        }
        try run(configuration)
    }

    static func run(_ configuration: Configuration) throws {
        let base = configuration.directory
        let work = base.appendingPathComponent("run")
        let logs = base.appendingPathComponent("logs")
        for directory in [work, logs] {
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let setupLog = logs.appendingPathComponent("setup.log").path
        let tree = BenchTree(root: base.appendingPathComponent("tree-\(configuration.sizeMB)mb"), sizeMB: configuration.sizeMB)
        let user = try BenchSiteUser.create(log: setupLog)
        print("site user: \(user.name) (uid and gid \(user.uid), removed at the end)")
        defer {
            // Whatever happened: the tree back to root (or gone), the user and the work gone.
            if configuration.keepTree {
                _ = try? ChildProcess.run([Command(argv: ["chown", "-R", "-h", "0:0", tree.root.path], log: setupLog)])
            } else {
                try? FileManager.default.removeItem(at: tree.root)
                try? FileManager.default.removeItem(at: tree.marker)
            }
            try? FileManager.default.removeItem(at: work)
            user.remove(log: setupLog)
            try? FileManager.default.removeItem(at: logs)
            rmdir(base.path)  // when nothing else is left in it
            print("cleaned up: \(user.name) removed, \(work.path) and the logs removed" + (configuration.keepTree ? ", tree kept" : ", tree removed"))
        }
        do {
            try measure(configuration, tree: tree, user: user, work: work, logs: logs, setupLog: setupLog)
        } catch {
            // The logs go with the rest: show what they hold first.
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? []).sorted() {
                guard let text = try? String(contentsOfFile: logs.appendingPathComponent(name).path, encoding: .utf8), !text.isEmpty else { continue }
                FileHandle.standardError.write(Data("--- \(name) (last lines)\n\(text.split(separator: "\n").suffix(15).joined(separator: "\n"))\n".utf8))
            }
            throw error
        }
    }

    static func measure(_ configuration: Configuration, tree: BenchTree, user: BenchSiteUser, work: URL, logs: URL, setupLog: String) throws {
        let stats: BenchTree.Stats
        if let existing = tree.existing() {
            stats = existing
        } else {
            print("tree: generating \(tree.root.path) …")
            stats = try tree.generate()
        }
        print("tree: \(stats.files) files (\(BackupBench.format(Double(stats.bytes) / 1e6, 1)) MB), \(stats.directories) directories, \(stats.symlinks) symlinks")
        // A release is the site user's: so is the tree the backups read.
        _ = try ChildProcess.run([Command(argv: ["chown", "-R", "-h", "\(user.uid):\(user.gid)", tree.root.path], log: setupLog)])
        print("machine: \(BackupBench.machine()) (at the start)")

        let setup = try PrivsepSetup(work: work, tree: tree.root, user: user, log: setupLog)
        var figures: [Row: Figures] = [:]
        var checks: [String] = []
        for round in 1...configuration.rounds {
            print("round \(round) of \(configuration.rounds) …")
            let sides = round % 2 == 0 ? [protected, before] : [before, protected]
            try deployRound(setup, round: round, sides: sides, count: configuration.deploys, logs: logs, figures: &figures)
            try backupRound(setup, round: round, logs: logs, figures: &figures)
            try restoreRound(setup, round: round, logs: logs, figures: &figures, checks: &checks)
        }
        PrivsepReport.print(figures, rounds: configuration.rounds, deploys: configuration.deploys, treeBytes: Double(stats.bytes))
        for check in checks { print(check) }
        print("load average at the end: \(BackupBench.loadAverage())")
    }

    static func log(_ logs: URL, _ name: String, _ round: Int) -> String {
        let safe = name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        return logs.appendingPathComponent(String(safe) + "-r\(round).log").path
    }

    static func deployRound(_ setup: PrivsepSetup, round: Int, sides: [String], count: Int, logs: URL, figures: inout [Row: Figures]) throws {
        let worker = ChildProcess.selfExecutable()
        for (step, domain, extra) in [(demoDeploy, PrivsepSetup.demoDomain, [String]()), (hookDeploy, PrivsepSetup.hookDomain, ["--shared", "storage/", "--hook", "true"])] {
            for side in sides {
                let report = setup.work.appendingPathComponent("deploy-report").path
                let argv = [
                    worker, "privsep-worker", "deploy", "--side", side, "--artifact", setup.artifact.path, "--sites-root", setup.sitesRoot.path,
                    "--domain", domain, "--user", setup.user.name, "--count", "\(count)", "--report", report,
                ] + extra
                sync()
                let run = try ChildProcess.run([Command(argv: argv, log: log(logs, "\(step)-\(side)", round))])
                // "total <s>" then "<step> <s>", summed over the deploys.
                let lines = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: " ") }
                unlink(report)
                let sums = lines.compactMap { $0.count == 2 ? (String($0[0]), Double($0[1])) : nil }
                guard let total = sums.first(where: { $0.0 == "total" })?.1 else {
                    throw ChildFailure(description: "no report from the \(side) deploy worker")
                }
                let row = Row(step: step, side: side)
                figures[row, default: Figures()].add(total / Double(count), rss: run.maxRSSKiB)
                var parts: [String] = []
                for case let (name, seconds?) in sums where name != "total" {
                    figures[row, default: Figures()].steps[name, default: []].append(seconds / Double(count))
                    parts.append("\(name) \(BackupBench.format(seconds / Double(count) * 1000, 2))")
                }
                print("  \(step), \(side): \(BackupBench.format(total / Double(count) * 1000, 2)) ms per deploy (\(parts.joined(separator: ", ")))")
            }
        }
    }

    static func backupRound(_ setup: PrivsepSetup, round: Int, logs: URL, figures: inout [Row: Figures]) throws {
        let worker = ChildProcess.selfExecutable()
        var runs: [(String, [Command])] = [
            (before, [Command(argv: [worker, "privsep-worker", "backup", "--side", before, "--tree", setup.currentLink.path, "--out", setup.archive(before).path, "--user", setup.user.name], log: log(logs, "backup-before", round))]),
            (protected, [Command(argv: [worker, "privsep-worker", "backup", "--side", protected, "--tree", setup.tree.path, "--out", setup.archive(protected).path, "--user", setup.user.name], log: log(logs, "backup-protected", round))]),
            (tarPeer, [
                Command(argv: ["tar", "-cf", "-", "-C", setup.tree.path, "."], log: log(logs, "backup-tar", round)),
                Command(argv: ["zstd", "-3", "-q", "-f", "-o", setup.peerArchive.path], log: log(logs, "backup-tar", round)),
            ]),
        ]
        // Rotated like the restores: each side once first, once second, once last over three rounds.
        runs = (0..<runs.count).map { runs[($0 + round - 1) % runs.count] }
        for (side, commands) in runs {
            unlink(side == tarPeer ? setup.peerArchive.path : setup.archive(side).path)
            sync()
            let run = try ChildProcess.run(commands)
            figures[Row(step: backup, side: side), default: Figures()].add(BackupBench.seconds(run.wall), rss: run.maxRSSKiB)
            print("  backup, \(side): \(BackupBench.format(BackupBench.seconds(run.wall), 2)) s")
        }
    }

    static func restoreRound(_ setup: PrivsepSetup, round: Int, logs: URL, figures: inout [Row: Figures], checks: inout [String]) throws {
        let worker = ChildProcess.selfExecutable()
        let peerInto = setup.work.appendingPathComponent("peer-restore")
        // Rotated, so that over three rounds each side runs once first, once second and once last:
        // a restore that follows another one meets the writeback and the removal of the 1 GB tree
        // before it (always in the middle, a side ran 2–3× slower at 1 GB with the same code).
        let order = [before, protected, untarPeer]
        let sides = (0..<order.count).map { order[($0 + round - 1) % order.count] }
        for side in sides {
            let releaseID = "restored-\(side == untarPeer ? "peer" : side)-r\(round)"
            let commands: [Command]
            if side == untarPeer {
                try FileManager.default.createDirectory(at: peerInto, withIntermediateDirectories: true)
                commands = [
                    Command(argv: ["zstd", "-d", "-c", setup.peerArchive.path], log: log(logs, "restore-peer", round)),
                    Command(argv: ["tar", "-xf", "-", "-C", peerInto.path], log: log(logs, "restore-peer", round)),
                ]
            } else {
                // Both restore the protected side's archive of this round (the same files).
                commands = [Command(argv: [
                    worker, "privsep-worker", "restore", "--side", side, "--archive", setup.archive(protected).path,
                    "--work", setup.restoreWork.path, "--sites-root", setup.sitesRoot.path, "--domain", PrivsepSetup.restoreDomain,
                    "--release-id", releaseID, "--user", setup.user.name, "--report", setup.work.appendingPathComponent("restore-report").path,
                ], log: log(logs, "restore-\(side)", round))]
                try FileManager.default.createDirectory(at: setup.restoreWork, withIntermediateDirectories: true)
            }
            sync()
            let run = try ChildProcess.run(commands)
            let row = Row(step: restore, side: side)
            figures[row, default: Figures()].add(BackupBench.seconds(run.wall), rss: run.maxRSSKiB)
            var parts: [String] = []
            if side != untarPeer {
                // "extract <s>", "hand-over <s>": the worker's own split of its restore.
                let report = setup.work.appendingPathComponent("restore-report").path
                let lines = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: " ") }
                unlink(report)
                for line in lines where line.count == 2 {
                    guard let seconds = Double(line[1]) else { continue }
                    figures[row, default: Figures()].steps[String(line[0]), default: []].append(seconds)
                    parts.append("\(line[0]) \(BackupBench.format(seconds, 3))")
                }
            }
            print("  restore, \(side): \(BackupBench.format(BackupBench.seconds(run.wall), 2)) s" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"))
            let restored = side == untarPeer ? peerInto : setup.restoreLayout.release(releaseID)
            if round == 1 {
                let difference = TreeComparison.firstDifference(setup.tree.path, restored.path)
                var st = stat()
                let owner = lstat(restored.path, &st) == 0 ? st.st_uid : UInt32.max
                checks.append("restore \(side), round 1: tree identical \(difference.map { "NO: \($0)" } ?? "yes")"
                    + (side == untarPeer ? "" : ", release owned by the site user \(owner == setup.user.uid ? "yes" : "NO (\(owner))")"))
            }
            try? FileManager.default.removeItem(at: restored)
            try? FileManager.default.removeItem(at: setup.restoreWork)
        }
    }
}

/// The run's fixed material: the demo's artifact, the sites (prepared by the agent's own
/// `SiteLayout.prepare()`), the `current` link the old backup resolved, the archives' paths.
struct PrivsepSetup {
    static let demoDomain = "demo.privsep.test"
    static let hookDomain = "hooks.privsep.test"
    static let restoreDomain = "restore.privsep.test"

    let work: URL
    let tree: URL
    let user: BenchSiteUser
    let artifact: URL
    let sitesRoot: URL
    let currentLink: URL
    var peerArchive: URL { work.appendingPathComponent("peer.tar.zst") }
    var restoreWork: URL { work.appendingPathComponent("restore-work") }
    var restoreLayout: SiteLayout { SiteLayout(sitesRoot: sitesRoot, domain: Self.restoreDomain) }

    func archive(_ side: String) -> URL { work.appendingPathComponent("chom-\(side).tar.zst") }

    init(work: URL, tree: URL, user: BenchSiteUser, log: String) throws {
        self.work = work
        self.tree = tree
        self.user = user
        // scripts/demo.sh: one public/index.html, deployed with `chom sites deploy --dir` (tar.zst).
        let source = work.appendingPathComponent("demo-src")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("public"), withIntermediateDirectories: true)
        try Data("<h1>Hello from \(Self.demoDomain)</h1>\n".utf8).write(to: source.appendingPathComponent("public/index.html"))
        artifact = work.appendingPathComponent("demo.tar.zst")
        _ = try ChildProcess.run([
            Command(argv: ["tar", "-cf", "-", "-C", source.path, "."], log: log),
            Command(argv: ["zstd", "-3", "-q", "-o", artifact.path], log: log),
        ])
        sitesRoot = work.appendingPathComponent("sites")
        for domain in [Self.demoDomain, Self.hookDomain, Self.restoreDomain] {
            let layout = SiteLayout(sitesRoot: sitesRoot, domain: domain)
            try layout.prepare()
            // The agent grants the site user r-x on its site directory by ACL (SiteTree.prepare);
            // the group does the same here, whatever the file system's ACL support.
            let site = try layout.openSite()
            try site.setOwner(uid: 0, gid: user.gid, mode: 0o750)
            let owner = (uid: user.uid, gid: user.gid)
            for (name, mode) in [("shared", mode_t(0o755)), ("tmp", mode_t(0o700)), ("home", mode_t(0o700))] {
                try site.makeDirectories(name, mode: mode, owner: owner).setOwner(uid: user.uid, gid: user.gid, mode: mode)
            }
        }
        // The backup's site: `current` → the release (the tree), as the old agent resolved it.
        currentLink = work.appendingPathComponent("backup-site-current")
        try FileManager.default.createSymbolicLink(atPath: currentLink.path, withDestinationPath: tree.path)
    }
}
