import CHOMAgent
import CHOMCore
import CHOMSiteFiles
import CHOMTesting
import Foundation
import Glibc
import Testing

/// Real users (useradd), real nginx workers (www-data), real permission checks.
@Suite("Site users keep sites apart while nginx serves them all",
       .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
struct SiteIsolationTests {
    @Test("two sites get two users; B's user cannot read A's files, nginx serves A")
    func isolation() async throws {
        try await LiveSites.with(["a.test", "b.test"]) { sites in
            let (a, b) = (sites[0], sites[1])
            #expect(a.account.uid != b.account.uid && a.account.gid != b.account.gid)
            #expect(a.account.uid != 0 && a.account.shell == "/usr/sbin/nologin" && a.account.home == a.layout.home.path)
            try a.publish("r1", files: ["index.html": "site a\n"])
            let releaseB = try b.publish("r1", files: ["index.html": "site b\n"])

            var status = stat()
            #expect(stat(a.layout.site.path, &status) == 0)
            // The gate is root's: root:www-data 0750, and the site user passes through an ACL entry.
            #expect(status.st_uid == 0 && status.st_gid == SiteAccount.groupID("www-data"))
            #expect(status.st_mode & 0o777 == 0o750)
            #expect(try a.layout.openSite().aclUsers() == [a.account.uid])
            for name in ["releases", ".incoming"] {
                #expect(stat(a.layout.site.appendingPathComponent(name).path, &status) == 0 && status.st_uid == 0, "\(name)")
            }
            for name in ["shared", "tmp", "home"] {
                #expect(stat(a.layout.site.appendingPathComponent(name).path, &status) == 0 && status.st_uid == a.account.uid, "\(name)")
            }

            let secret = a.layout.current.appendingPathComponent("public/index.html").path
            let hooks = HookRunner()
            let context = HookRunner.Context(account: b.account, site: b.domain, releaseID: "r1", releaseDirectory: releaseB.path)
            let failure = await #expect(throws: HookFailure.self) { try await hooks.run("cat \(secret)", in: context) }
            #expect(failure?.reason == .exited(1))
            #expect(failure?.logTail.contains("Permission denied") == true, "\(String(describing: failure))")
            // B reads its own.
            let own = try await hooks.run("cat \(b.layout.current.path)/public/index.html", in: context)
            #expect(own.logTail == "site b\n")

            try await TestNginx.with { nginx in
                let controller = NginxController(configuration: nginx.controllerConfiguration)
                _ = try await controller.install(domain: a.domain, config: try a.staticConfig(on: nginx))
                let served = try await LiveSites.eventually(HealthCheck(port: nginx.port), host: a.domain, contains: "site a", nginx: nginx)
                #expect(served.status == 200 && served.body == "site a\n")
            }
        }
    }

    @Test("ensure is idempotent and remove leaves neither user nor group")
    func usersLifecycle() async throws {
        let users = SiteUsers()
        let name = SiteUserName(site: SiteID())
        let first = try await users.ensure(name, home: "/srv/chom/sites/x.test")
        let again = try await users.ensure(name, home: "/srv/chom/sites/x.test")
        #expect(first == again)
        #expect(SiteAccount.groupID(name.rawValue) == first.gid)
        #expect(first.uid < 1000, "a system user")
        try await users.remove(name)
        #expect(SiteAccount.lookup(name.rawValue) == nil && SiteAccount.groupID(name.rawValue) == nil)
        try await users.remove(name)
    }

    @Test("chownTree re-owns links themselves and never follows one out of the tree", arguments: [false, true])
    func chownTreeDoesNotFollowLinks(unreachable: Bool) async throws {
        try await LiveSites.with(["c.test"]) { sites in
            let site = sites[0]
            let outside = try TemporaryDirectory.make(prefix: "h-out")
            defer { TemporaryDirectory.remove(outside) }
            let victim = outside.appendingPathComponent("victim")
            try Data("root's\n".utf8).write(to: victim)
            let release = site.layout.release("r2")
            try FileManager.default.createDirectory(at: release.appendingPathComponent("deep/er"), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: release.appendingPathComponent("deep/er/file"))
            #expect(symlink(victim.path, release.appendingPathComponent("link").path) == 0)
            #expect(symlink(outside.path, release.appendingPathComponent("deep/dirlink").path) == 0)

            try SiteTree.chownTree(release.path, uid: site.account.uid, gid: site.account.gid, unreachable: unreachable)

            func owner(_ path: String) -> (UInt32, UInt32) {
                var status = stat()
                lstat(path, &status)
                return (status.st_uid, status.st_gid)
            }
            let expected = (site.account.uid, site.account.gid)
            for path in ["", "/deep", "/deep/er", "/deep/er/file", "/link", "/deep/dirlink"] {
                #expect(owner(release.path + path) == expected, "\(path)")
            }
            #expect(owner(victim.path) == (0, 0))
            #expect(owner(outside.path) == (0, 0))
        }
    }
}
