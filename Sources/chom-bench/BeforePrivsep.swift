import CHOMAgent
import CHOMCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The agent's steps as they were before the hostile-tenant work (aea673b) and the per-run hook
/// cgroups (17c2a6c), kept here only as `chom-bench privsep`'s baseline; the agent never runs
/// them. Each is the old code with the agent's types it used, by path as root, following what it
/// met: that is why the agent no longer does it this way (SECURITY.md). The steps both sides share
/// (SafeExtractor, BackupReader, BackupWriter's walk) are not repeated here.
enum BeforePrivsep {
    /// `BackupExecutor+Restore.install` at aea673b^ for `files/current`: re-own by path
    /// (`SiteTree.chownTree`, see `HandOverBefore`), chmod and rename by path into `releases/`.
    static func installRestored(_ files: URL, release: URL, uid: UInt32, gid: UInt32) throws {
        guard !FileManager.default.fileExists(atPath: release.path) else {
            throw ChildFailure(description: "release \(release.lastPathComponent) already exists")
        }
        try HandOverBefore.chownTree(files.path, uid: uid, gid: gid)
        guard chmod(files.path, 0o755) == 0, rename(files.path, release.path) == 0 else {
            throw ChildFailure(description: "cannot move the restored files to \(release.path): \(String(cString: strerror(errno)))")
        }
    }

    /// `DeployExecutor.build`'s hand-over at aea673b^: re-own by path, chmod, rename by path.
    static func handOver(_ staging: URL, release: URL, uid: UInt32, gid: UInt32) throws {
        try HandOverBefore.chownTree(staging.path, uid: uid, gid: gid)
        guard chmod(staging.path, 0o755) == 0, rename(staging.path, release.path) == 0 else {
            throw ChildFailure(description: "cannot move the release to \(release.path): \(String(cString: strerror(errno)))")
        }
    }

    /// `SharedPaths.link` at aea673b^: FileManager by path, parents checked with lstat first.
    static func linkShared(_ paths: [String], release: URL, shared: URL) throws -> [String] {
        let manager = FileManager.default
        var linked: [String] = []
        for raw in paths {
            let isDirectory = raw.hasSuffix("/")
            let path = isDirectory ? String(raw.dropLast()) : raw
            let inRelease = release.appendingPathComponent(path)
            let inShared = shared.appendingPathComponent(path)
            try refuseSymlinkedParents(of: path, under: release)
            try refuseSymlinkedParents(of: path, under: shared)
            try manager.createDirectory(at: inShared.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createDirectory(at: inRelease.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !manager.fileExists(atPath: inShared.path) {
                if exists(inRelease.path), !isSymlink(inRelease.path) {
                    try manager.moveItem(at: inRelease, to: inShared)
                } else if isDirectory {
                    try manager.createDirectory(at: inShared, withIntermediateDirectories: true)
                } else {
                    guard manager.createFile(atPath: inShared.path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                        throw ChildFailure(description: "cannot create \(inShared.path)")
                    }
                }
            }
            if exists(inRelease.path) { try manager.removeItem(at: inRelease) }
            let depth = path.split(separator: "/").count
            let target = String(repeating: "../", count: depth + 1) + "shared/" + path
            try manager.createSymbolicLink(atPath: inRelease.path, withDestinationPath: target)
            linked.append(raw)
        }
        return linked
    }

    private static func refuseSymlinkedParents(of path: String, under root: URL) throws {
        var current = root
        for component in path.split(separator: "/").dropLast() {
            current.appendPathComponent(String(component))
            if isSymlink(current.path) { throw ChildFailure(description: "\(current.path) is a symlink") }
        }
    }

    /// `FileStatus.exists` / `isSymlink` at aea673b^ (lstat).
    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }

    /// `HookRunner.run` at aea673b (before 17c2a6c): the same setpriv command through the same
    /// `CommandRunner`, with no cgroup to make, join, kill and remove.
    static func runHook(_ hook: String, account: SiteAccount, site: String, releaseID: String, release: URL) async throws {
        let configuration = HookRunner.Configuration()
        let environment = [
            "PATH": configuration.path, "HOME": account.home, "LANG": "C.UTF-8", "PWD": release.path,
            "CHOM_SITE": site, "CHOM_RELEASE": releaseID, "CHOM_RELEASE_DIR": release.path,
        ]
        let command = CommandRunner.Command(
            configuration.setpriv,
            [
                "--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--",
                configuration.shell, "-c", hook,
            ],
            environment: environment, workingDirectory: release.path, timeout: configuration.timeout,
            killGrace: configuration.killGrace, outputLimit: configuration.logTailBytes)
        let outcome = try await CommandRunner().run(command)
        guard outcome.succeeded else { throw ChildFailure(description: "hook \(hook): \(outcome.termination) \(outcome.outputText)") }
    }

    /// `SiteLayout.switchCurrent` at aea673b^: symlink and rename by path, fsync of the site directory.
    static func switchCurrent(site: URL, to releaseID: String) throws {
        let temporary = site.appendingPathComponent("current.tmp-" + UUID().uuidString.lowercased()).path
        guard symlink("releases/" + releaseID, temporary) == 0 else {
            throw ChildFailure(description: "cannot create symlink \(temporary)")
        }
        guard rename(temporary, site.appendingPathComponent("current").path) == 0 else {
            unlink(temporary)
            throw ChildFailure(description: "cannot rename \(temporary) over current")
        }
        let fd = open(site.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// `SiteLayout.prune` and `releasesNewestFirst` at aea673b^: listed, dated and removed by path.
    static func prune(site: URL, keep: Int) throws {
        let releases = site.appendingPathComponent("releases")
        var dated: [(name: String, created: Int128)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: releases.path) where !name.hasPrefix(".") {
            var st = stat()
            guard stat(releases.appendingPathComponent(name).path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            dated.append((name, Int128(st.st_ctim.tv_sec) * 1_000_000_000 + Int128(st.st_ctim.tv_nsec)))
        }
        dated.sort { a, b in a.created != b.created ? a.created > b.created : a.name > b.name }
        let ordered = dated.map(\.name)
        var target = [CChar](repeating: 0, count: 4097)
        let count = readlink(site.appendingPathComponent("current").path, &target, 4096)
        let link = count > 0 ? String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let current = link.hasPrefix("releases/") ? String(link.dropFirst("releases/".count)) : nil
        let others = ordered.filter { $0 != current }
        let keepOthers = max(1, keep) - (ordered.count == others.count ? 0 : 1)
        for name in others.dropFirst(keepOthers) {
            try FileManager.default.removeItem(at: releases.appendingPathComponent(name))
        }
    }
}
