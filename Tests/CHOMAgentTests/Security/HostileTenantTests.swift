import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMSiteFiles
import CHOMTesting
import Crypto
import Foundation
import Glibc
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
            table += "  \(kind)  \(attack)  \(String(row.places).padding(toLength: 3, withPad: " ", startingAt: 0)) places  \(row.problems.isEmpty ? "SAFE" : "BROKEN")  \(row.outcome.prefix(90))\n"
            for problem in row.problems { table += "      ✗ \(problem)\n" }
        }
        print(table)
        #expect(rows.count == Kind.allCases.count * Attack.allCases.count)
        #expect(rows.allSatisfy { $0.places >= 6 }, "the enumeration found too few tenant-writable places")
        #expect(rows.allSatisfy { $0.problems.isEmpty }, "\(table)")
    }

    private func run(_ kind: Kind, _ attack: Attack, site: HostileSite, world: HostedSiteWorld, lab: Lab) async throws -> Row {
        let before = try lab.snapshot()
        let places = try site.plant(attack, lab: lab)
        let flipper = try site.startFlipper(lab: lab)
        let (outcome, message, backupArchive) = await perform(kind, site: site, world: world, lab: lab)
        flipper.stop()
        var problems: [String] = []
        let survivors = UserProcesses.pids(of: site.account.uid)
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
        return Row(kind: kind, attack: attack, places: places, outcome: "\(outcome): \(message)", problems: problems)
    }

    private func perform(_ kind: Kind, site: HostileSite, world: HostedSiteWorld, lab: Lab) async -> (ExecutionResult.Outcome, String, URL?) {
        let ignore: ProgressReporter = { _, _ in }
        switch kind {
        case .configure:
            var task = Chom_Agent_V1_ConfigureSiteTask()
            task.site = site.config
            let result = await world.sites.configure(task, progress: ignore)
            return (result.outcome, result.message, nil)
        case .deployUpload:
            guard let task = try? world.deployTask(site.config, files: site.files) else { return (.failed, "no task", nil) }
            let result = await world.deploy(task)
            return (result.outcome, result.message, nil)
        case .deployGit:
            var task = Chom_Agent_V1_DeployTask()
            task.siteID = site.config.siteID
            task.domain = site.config.domain
            task.releaseID = UUID().uuidString.lowercased()
            task.git.url = lab.gitRepository.path
            task.git.ref = "hostile-v1"
            task.site = site.config
            let result = await world.deploy(task)
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
            var task = Chom_Agent_V1_PruneBackupsTask()
            task.site = site.config
            task.destination = HostedBackupTests.local(lab.storage)
            task.rule.keepLast = 1
            var entry = Chom_Agent_V1_BackupEntry()
            entry.backupID = site.backup.backupID
            entry.objectKey = site.backup.objectKey
            entry.createdAtMs = 1_790_000_000_000
            task.backups = [entry]
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

/// Sentinels outside every site (root's), a git repository and backup storage.
struct Lab: Sendable {
    let directory: URL
    let sentinelDirectory: URL
    let sentinelFile: URL
    let storage: URL
    let gitRepository: URL

    static func make() throws -> Lab {
        let directory = try TemporaryDirectory.make(prefix: "h-hostile")
        chmod(directory.path, 0o755)
        let sentinels = directory.appendingPathComponent("sentinel-dir")
        try FileManager.default.createDirectory(at: sentinels, withIntermediateDirectories: true)
        chmod(sentinels.path, 0o755)
        try Data("\(HostileTenantTests.sentinelText) a\n".utf8).write(to: sentinels.appendingPathComponent("a"))
        chmod(sentinels.appendingPathComponent("a").path, 0o644)
        try Data("\(HostileTenantTests.sentinelText) b\n".utf8).write(to: sentinels.appendingPathComponent("b"))
        chmod(sentinels.appendingPathComponent("b").path, 0o600)
        let file = directory.appendingPathComponent("sentinel-file")
        try Data("\(HostileTenantTests.sentinelText) file\n".utf8).write(to: file)
        chmod(file.path, 0o644)
        let storage = directory.appendingPathComponent("storage")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        let repository = try GitFixture.bareRepository(files: [
            "public/index.html": HostileTenantTests.goodText, "storage/.keep": "", ".env": "A=1\n",
        ], tag: "hostile-v1")
        // The site user clones it: its directories must be open to others.
        try Lab.run("/bin/chmod", ["-R", "a+rX", repository.deletingLastPathComponent().path])
        return Lab(directory: directory, sentinelDirectory: sentinels, sentinelFile: file, storage: storage, gitRepository: repository)
    }

    func remove() { TemporaryDirectory.remove(directory) }

    struct Entry: Hashable, Sendable {
        var name: String
        var uid: UInt32
        var mode: UInt32
        var size: Int
        var digest: String
    }

    /// Every entry of the sentinel directory and the sentinel file: names, owners, modes, contents.
    func snapshot() throws -> Set<Entry> {
        var entries: Set<Entry> = []
        let names = try FileManager.default.contentsOfDirectory(atPath: sentinelDirectory.path)
        for path in names.map({ sentinelDirectory.appendingPathComponent($0).path }) + [sentinelDirectory.path, sentinelFile.path] {
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            let data = (st.st_mode & S_IFMT) == S_IFREG ? (FileManager.default.contents(atPath: path) ?? Data()) : Data()
            entries.insert(Entry(
                name: path, uid: st.st_uid, mode: UInt32(st.st_mode), size: Int(st.st_size),
                digest: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()))
        }
        return entries
    }

    static func difference(_ a: Set<Entry>, _ b: Set<Entry>) -> String {
        "gone \(a.subtracting(b).map(\.name)), new or changed \(b.subtracting(a).map(\.name))"
    }

    /// The archive's bytes after zstd (local backups are unencrypted here).
    static func decompressed(_ archive: URL) throws -> String {
        let output = try run("/usr/bin/zstd", ["-dc", archive.path])
        return String(decoding: output, as: UTF8.self)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}

/// A tenant's site with two releases and a backup, and what its user planted.
final class HostileSite: @unchecked Sendable {
    let world: HostedSiteWorld
    let domain: String
    let config: Chom_Agent_V1_SiteConfig
    let layout: SiteLayout
    let account: SiteAccount
    let files: [String: String]
    var backup = Chom_Agent_V1_BackupReport()
    var currentRelease: String?
    private var places: [(directory: String, name: String)] = []
    var plantedHardLinks: Set<String> = []
    var servedProbeNames: [String] = []

    init(world: HostedSiteWorld, domain: String, config: Chom_Agent_V1_SiteConfig, account: SiteAccount, files: [String: String]) {
        self.world = world
        self.domain = domain
        self.config = config
        layout = SiteLayout(sitesRoot: world.root, domain: domain)
        self.account = account
        self.files = files
    }

    static func make(world: HostedSiteWorld, lab: Lab, domain: String) async throws -> HostileSite {
        let config = HostedSiteWorld.config(domain) { config in
            config.sharedPaths = ["storage/", ".env"]
            // A hook that leaves a setsid sleeper and a double-forked one behind: neither may survive it.
            var hook = Chom_Agent_V1_BuildHook()
            hook.name = "leave sleepers"
            hook.command = "setsid sleep 300 >/dev/null 2>&1 < /dev/null & (sleep 301 >/dev/null 2>&1 < /dev/null &) ; true"
            config.hooks = [hook]
        }
        let files = ["public/index.html": HostileTenantTests.goodText, "public/page.html": "page", "storage/app/x": "x", ".env": "A=1\n"]
        for _ in 0..<2 {
            let result = await world.deploy(try world.deployTask(config, files: files))
            try #require(result.outcome == .succeeded, "\(result.message)")
        }
        let account = try #require(SiteAccount.lookup(try HostedSite(config).user.rawValue))
        let site = HostileSite(world: world, domain: domain, config: config, account: account, files: files)
        let backup = await world.backups.backup(HostedBackupTests.backupTask(config, to: HostedBackupTests.local(lab.storage))) { _, _ in }
        try #require(backup.outcome == .succeeded, "\(backup.message)")
        site.backup = backup.report.backup
        site.currentRelease = site.layout.currentRelease()
        return site
    }

    /// Runs a shell script as the site user (the harness, too, never acts as root through the
    /// tenant's paths); returns its output.
    @discardableResult
    func asSiteUser(_ script: String, _ arguments: [String] = []) throws -> String {
        let output = try Lab.run("/usr/bin/setpriv", [
            "--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", "/bin/sh", "-c", script, "sh",
        ] + arguments)
        return String(decoding: output, as: UTF8.self)
    }

    /// Plants `attack` in every writable directory, under a new name and in place of each entry
    /// (the live release's `public/index.html` and `public/` stay, so the last good release
    /// serves). Symlinks and FIFOs are planted by the site user; the hard link by root through a
    /// descriptor (`fs.protected_hardlinks=1` stops the site user). Returns how many places.
    func plant(_ attack: HostileTenantTests.Attack, lab: Lab) throws -> Int {
        let live = currentRelease.map { layout.release($0).path } ?? "/nonexistent"
        servedProbeNames = []
        let target: String
        switch attack {
        case .linkToSentinelDirectory: target = lab.sentinelDirectory.path
        case .linkToSentinelFile: target = lab.sentinelFile.path
        case .linkToOtherSite: target = world.root.appendingPathComponent("victim.test").path
        case .hardLinkToRootFile, .fifo: target = ""
        }
        // Lists "directory<TAB>name" of every place, as the site user: each writable directory's
        // entries and one new name, less the live page.
        let places = try asSiteUser("""
            find "$1" -xdev -type d -writable -print 2>/dev/null | while IFS= read -r d; do
              printf '%s\thostile-planted\n' "$d"
              for p in "$d"/* "$d"/.[!.]*; do
                [ -e "$p" ] || [ -L "$p" ] || continue
                n=${p##*/}
                case "$n" in .hostile-orig-*) continue;; esac
                [ "$d" = "$2" ] && [ "$n" = public ] && continue
                [ "$d" = "$2/public" ] && [ "$n" = index.html ] && continue
                printf '%s\t%s\n' "$d" "$n"
              done
            done
            """, [layout.site.path, live]).split(separator: "\n").map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
            .filter { $0.count == 2 }
        var count = 0
        for place in places {
            let (directory, name) = (place[0], place[1])
            let planted: Bool
            if attack == .hardLinkToRootFile {
                planted = hardLink(lab.sentinelDirectory.appendingPathComponent("b").path, in: directory, as: name)
            } else {
                let make = attack == .fifo ? "mkfifo \"$1/$2\"" : "ln -s \"$3\" \"$1/$2\""
                let out = try asSiteUser("""
                    if [ -e "$1/$2" ] || [ -L "$1/$2" ]; then mv -T "$1/$2" "$1/.hostile-orig-$2" || exit 0; fi
                    \(make) && echo planted
                    """, [directory, name, target])
                planted = out.contains("planted")
            }
            if planted {
                count += 1
                if directory == live + "/public" { servedProbeNames.append(name) }
            }
            self.places.append((directory, name))
        }
        return count
    }

    private func hardLink(_ file: String, in directory: String, as name: String) -> Bool {
        guard directory.hasPrefix(layout.site.path + "/"),
            let site = try? layout.openSite(),
            let parent = try? site.openDirectory(String(directory.dropFirst(layout.site.path.count + 1)))
        else { return false }
        if (try? parent.status(name)) != nil {
            guard renameat(parent.descriptor, name, parent.descriptor, ".hostile-orig-" + name) == 0 else { return false }
        }
        guard linkat(AT_FDCWD, file, parent.descriptor, name, 0) == 0 else { return false }
        plantedHardLinks.insert(directory + "/" + name)
        return true
    }

    /// Takes the plants away and puts the originals back, as the site user; then `shared/`'s
    /// paths as the flipper may have left them.
    func unplant() {
        for (directory, name) in places.reversed() {
            _ = try? asSiteUser("""
                if [ -e "$1/.hostile-orig-$2" ] || [ -L "$1/.hostile-orig-$2" ]; then rm -rf "$1/$2"; mv -T "$1/.hostile-orig-$2" "$1/$2"
                else rm -rf "$1/hostile-planted"; fi
                """, [directory, name])
        }
        _ = try? asSiteUser("cd \"$1\" && rm -rf flip && { [ -d storage ] && [ ! -L storage ] || { rm -rf storage; mkdir -p storage/app; }; } && { [ -f .env ] && [ ! -L .env ] || { rm -rf .env; : > .env; }; }", [layout.shared.path])
        places = []
        plantedHardLinks = []
    }

    /// Entries owned by root anywhere the site user can write, other than `excluding`, found by
    /// the site user (`find -P` never follows a link).
    func rootOwnedEntries(excluding: Set<String>) throws -> [String] {
        let output = try asSiteUser("""
            find "$1" -xdev -type d -writable -print 2>/dev/null | while IFS= read -r d; do
              find "$d" -mindepth 1 -maxdepth 1 -user 0 -print 2>/dev/null
            done
            """, [layout.site.path])
        return output.split(separator: "\n").map(String.init).filter { !excluding.contains($0) }
    }

    /// A process of the site user that swaps `shared/storage` and a link to the sentinel
    /// directory (and another site) in a tight loop, until stopped.
    func startFlipper(lab: Lab) throws -> Flipper {
        let shared = layout.shared.path
        let script = """
            cd \(shared) || exit 0
            while :; do
              ln -sfn \(lab.sentinelDirectory.path) flip 2>/dev/null; mv -Tf flip storage 2>/dev/null
              ln -sfn \(world.root.path)/victim.test flip 2>/dev/null; mv -Tf flip .env 2>/dev/null
              rm -rf storage .env 2>/dev/null; mkdir -p storage/app 2>/dev/null; : > .env
            done
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", "/bin/sh", "-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return Flipper(process: process)
    }

    struct Flipper {
        let process: Process
        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// An agent upgraded in the field finds trees of the older layout, which the site user owned
/// and may already have booby-trapped: configure converges them without following anything.
@Suite("Hostile tenant: older site trees converge safely",
       .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct OlderTreeConvergenceTests {
    @Test("a booby-trapped tree of the older layout is taken back: links removed as links, sentinels untouched")
    func convergeOlderTree() async throws {
        let lab = try Lab.make()
        defer { lab.remove() }
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("old.test")
            let first = await world.deploy(try world.deployTask(config, files: ["public/index.html": HostileTenantTests.goodText]))
            try #require(first.outcome == .succeeded, "\(first.message)")
            let layout = SiteLayout(sitesRoot: world.root, domain: "old.test")
            let account = try #require(SiteAccount.lookup(try HostedSite(config).user.rawValue))
            let site = layout.site.path
            // The older layout: everything the site user's, logs inside; then the traps.
            try Lab.run("/bin/chown", ["-R", "-h", "\(account.uid):\(account.gid)", site])
            for name in [".incoming", "tmp", "home"] { try FileManager.default.removeItem(atPath: site + "/" + name) }
            #expect(symlink(lab.sentinelDirectory.path, site + "/.incoming") == 0)
            #expect(symlink(lab.sentinelDirectory.path, site + "/logs") == 0)
            #expect(symlink(lab.sentinelDirectory.path, site + "/tmp") == 0)
            #expect(symlink(lab.sentinelFile.path, layout.releases.path + "/not-a-release") == 0)
            #expect(mkfifo(site + "/home", 0o644) == 0)
            for path in [site + "/.incoming", site + "/logs", site + "/tmp", layout.releases.path + "/not-a-release", site + "/home"] {
                lchown(path, account.uid, account.gid)
            }
            let before = try lab.snapshot()

            var task = Chom_Agent_V1_ConfigureSiteTask()
            task.site = config
            let result = await world.sites.configure(task) { _, _ in }
            #expect(result.outcome == .succeeded, "\(result.message)")

            #expect(try lab.snapshot() == before, "a sentinel changed")
            var st = stat()
            for (path, owner) in [(site, UInt32(0)), (layout.releases.path, 0), (site + "/.incoming", 0),
                                  (site + "/shared", account.uid), (site + "/tmp", account.uid), (site + "/home", account.uid)] {
                #expect(lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == owner, "\(path)")
            }
            #expect(lstat(site + "/logs", &st) != 0, "the old in-tree logs are gone")
            #expect(lstat(layout.releases.path + "/not-a-release", &st) != 0)
            #expect(lstat(layout.current.path, &st) == 0 && st.st_uid == 0, "current is root's")
            let served = try await world.get("old.test")
            #expect(served.status == 200 && served.body == HostileTenantTests.goodText)
        }
    }
}
