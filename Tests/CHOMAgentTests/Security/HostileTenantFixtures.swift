import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMSiteFiles
import CHOMTesting
import Crypto
import Foundation
import Glibc
import Testing

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
    /// "directory<TAB>name" of every place planted since the last `unplant`: a plant at a later
    /// step plants only where nothing was planted yet (new directories, such as a new release).
    private var plantedKeys: Set<String> = []
    /// Plants made at the tasks' steps (after the first plant), for the table.
    var stepPlants = 0
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
                # The flipper's own churn (its `flip` and coreutils' `ln -sf` temporaries, Cu + 6
                # letters) is not a place: a name that vanishes between listing and planting could
                # leave a root-planted hard link behind under it.
                case "$n" in .hostile-orig-*|flip|Cu??????) continue;; esac
                # Every release's public/index.html stays, so the last good release serves and a
                # deploy planted into mid-way can still pass its health check and reach its last steps.
                case "$d/$n" in "$1"/releases/*/public|"$1"/releases/*/public/index.html) continue;; esac
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
            guard plantedKeys.insert(directory + "\t" + name).inserted else { continue }
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
                else rm -rf "$1/$2"; fi
                """, [directory, name])
        }
        _ = try? asSiteUser("cd \"$1\" && rm -rf flip && { [ -d storage ] && [ ! -L storage ] || { rm -rf storage; mkdir -p storage/app; }; } && { [ -f .env ] && [ ! -L .env ] || { rm -rf .env; : > .env; }; }", [layout.shared.path])
        places = []
        plantedHardLinks = []
        plantedKeys = []
        servedProbeNames = []
        stepPlants = 0
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
