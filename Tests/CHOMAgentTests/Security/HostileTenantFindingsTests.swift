import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMSiteFiles
import CHOMTesting
import Foundation
import Glibc
import Testing

/// The findings of a hostile-tenant review, each a test that failed before its fix.
@Suite("Hostile tenant: review findings", .serialized,
       .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostileTenantFindingsTests {
    @Test("a tenant's public directory swapped for a link to another site is not served; a link to its own shared/ is")
    func publicDirectoryLink() async throws {
        let lab = try Lab.make()
        defer { lab.remove() }
        try await HostedSiteWorld.with { world in
            let victim = HostedSiteWorld.config("victim.test")
            #expect(await world.deploy(try world.deployTask(victim, files: ["public/index.html": HostileTenantTests.victimSecret])).outcome == .succeeded)
            let site = try await HostileSite.make(world: world, lab: lab, domain: "linker.test")
            let live = try #require(site.currentRelease.map { site.layout.release($0).path })
            // The tenant replaces its own public/ with a link to the other site's.
            try site.asSiteUser("rm -rf \"$1/public\" && ln -s \"$2\" \"$1/public\"", [live, world.root.path + "/victim.test/current/public"])
            let stolen = try await world.get("linker.test", path: "/index.html")
            #expect(!stolen.body.contains(HostileTenantTests.victimSecret), "\(stolen.status)")
            // A link to its own files (same owner) still serves.
            try site.asSiteUser("mkdir -p \"$2\" && echo own > \"$2/index.html\" && rm -f \"$1/public\" && ln -s \"$2\" \"$1/public\"", [live, site.layout.shared.path + "/www"])
            let own = try await world.get("linker.test", path: "/index.html")
            #expect(own.status == 200 && own.body == "own\n")
        }
    }

    @Test("removing a site ends a tenant process that forks and exits in a loop, and leaves nothing of the site")
    func removeEndsForkHopper() async throws {
        let lab = try Lab.make()
        defer { lab.remove() }
        try await HostedSiteWorld.with { world in
            let site = try await HostileSite.make(world: world, lab: lab, domain: "hopper.test")
            let uid = site.account.uid
            // Detached from the test (setsid, double fork), as a php request's child would be.
            let marker = "hop-\(UInt32.random(in: 0...UInt32.max))"
            // Started through the agent's spawner (default signal dispositions), not Foundation's Process.
            let start = try await CommandRunner().run(CommandRunner.Command(
                "/usr/bin/setpriv",
                ["--reuid=\(uid)", "--regid=\(site.account.gid)", "--clear-groups", "--", "/bin/sh", "-c",
                 "setsid sh -c 'while :; do sh -c \"exec sleep 0.01 \(marker)\" & wait; done' >/dev/null 2>&1 </dev/null &"],
                workingDirectory: "/", timeout: .seconds(10), killLeftovers: false))
            #expect(start.succeeded)
            try await waitUntil { !UserProcesses.pids(of: uid).isEmpty }
            var task = Chom_Agent_V1_RemoveSiteTask()
            task.site = site.config
            task.force = true
            let removed = await world.backups.remove(task) { _, _ in }
            #expect(removed.outcome == .succeeded, "\(removed.message)")
            #expect(UserProcesses.pids(of: uid).isEmpty, "a process of the removed site's user survived")
            #expect(!site.layout.exists(in: world.root), "the site's tree is gone")
            #expect(SiteAccount.lookup(site.account.name) == nil)
        }
    }

    @Test("chownTree refuses a hard link to root's file and another user's file instead of handing it over",
          arguments: [false, true])
    func chownRefusesPlantedHardLinks(unreachable: Bool) throws {
        let base = try TemporaryDirectory.make(prefix: "h-chown")
        defer { TemporaryDirectory.remove(base) }
        let rootFile = base.appendingPathComponent("root-secret")
        try Data("root\n".utf8).write(to: rootFile)
        chmod(rootFile.path, 0o600)
        let tree = base.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        #expect(link(rootFile.path, tree.appendingPathComponent("planted").path) == 0)
        let directory = try SiteDirectory.openTrusted(base.path).openDirectory("tree")
        #expect(throws: CHOMError.self) { try directory.chownTree(uid: 65534, gid: 65534, unreachable: unreachable) }
        var st = stat()
        #expect(stat(rootFile.path, &st) == 0 && st.st_uid == 0, "root's file was handed over")
    }

    @Test("entries made for a tenant in its own directory are its own from birth: made as it, with its permissions")
    func entriesMadeAsTheOwner() throws {
        guard LiveSites.isRoot else { return }
        let base = try TemporaryDirectory.make(prefix: "h-fsuid")
        defer { TemporaryDirectory.remove(base) }
        let owner: (uid: UInt32, gid: UInt32) = (65534, 65534)
        let tenantPath = base.appendingPathComponent("tenant").path
        #expect(mkdir(tenantPath, 0o755) == 0 && chown(tenantPath, owner.uid, owner.gid) == 0)
        let tenant = try SiteDirectory.openTrusted(base.path).openDirectory("tenant")
        _ = try tenant.makeDirectories("a/b", owner: owner)
        let fd = try tenant.createFile("env", mode: 0o640, owner: owner)
        close(fd)
        try tenant.makeSymlink("link", to: "a/b", owner: owner)
        for name in ["a", "a/b", "env", "link"] {
            var st = stat()
            #expect(lstat(tenantPath + "/" + name, &st) == 0 && st.st_uid == owner.uid && st.st_gid == owner.gid, "\(name)")
        }
        // The owner's permissions, not root's: in its own read-only directory it cannot make an entry, so neither can we for it.
        #expect(chmod(tenantPath, 0o555) == 0)
        #expect(throws: CHOMError.self) { try tenant.createFile("denied", owner: owner) }
        #expect(throws: CHOMError.self) { _ = try tenant.makeDirectories("denied", owner: owner) }
        // Root's identity is back afterwards: root still makes (and re-owns) entries in its own directory.
        let rootsOwn = try SiteDirectory.openTrusted(base.path)
        _ = try rootsOwn.makeDirectories("for-tenant", owner: owner)
        var st = stat()
        #expect(stat(base.path + "/for-tenant", &st) == 0 && st.st_uid == owner.uid)
        #expect(mkdir(base.path + "/still-root", 0o700) == 0 && stat(base.path + "/still-root", &st) == 0 && st.st_uid == 0)
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < end else { throw CHOMError(.unavailable, "condition not met in 10 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension SiteLayout {
    /// Whether the site directory is there (tests only; the agent goes through its descriptors).
    func exists(in root: URL) -> Bool {
        var st = stat()
        return lstat(root.appendingPathComponent(domain).path, &st) == 0
    }
}
