import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMSiteFiles
import CHOMTesting
import Crypto
import Foundation
import Glibc
import Testing

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
