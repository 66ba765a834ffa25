import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("A php site hosted end to end: its own php-fpm master, started by the deploy, gone with the site",
       .enabled(if: LiveSites.isRoot && TestNginx.binary != nil && TestPhpFpm.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedPhpSiteTests {
    @Test("deploy starts the site's master in its cgroup; an agent restart starts it again; removal leaves no process")
    func deployServeRemove() async throws {
        let probe = ContainmentProbe()
        defer { probe.killSurvivors() }
        try await HostedSiteWorld.with { world in
            let id = SiteID()
            let config = HostedSiteWorld.config("php-hosted.test", id: id) { $0.kind = .php }
            let files = [
                "public/index.php": "<?php echo 'php:' . posix_geteuid();",
                "public/daemon.php": "<?php shell_exec('setsid sleep \(probe.marker) > /dev/null 2>&1 < /dev/null &'); echo 'started';",
            ]
            let deployed = await world.deploy(try world.deployTask(config, files: files))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            let user = SiteUserName(site: id)
            let account = try #require(SiteAccount.lookup(user.rawValue))
            let page = try await world.get(config.domain, path: "/index.php")
            #expect(page.status == 200 && page.body == "php:\(account.uid)", "\(page.status) \(page.body)")
            let master = try #require(PidFile.runningProcess(world.hosting.php.pidFile(for: user)))
            let lines = (try? String(contentsOfFile: "/proc/\(master)/cgroup", encoding: .utf8)) ?? ""
            #expect(lines.contains("/php-\(user.rawValue)-"), "\(lines)")

            // The masters stop with the agent and start again with it.
            await world.hosting.php.stopAll()
            #expect(PidFile.runningProcess(world.hosting.php.pidFile(for: user)) == nil)
            #expect(await world.hosting.php.resumeAll() == 1)
            var again = try? await world.get(config.domain, path: "/index.php")
            let end = ContinuousClock.now + .seconds(10)
            while again?.status != 200, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(50))
                again = try? await world.get(config.domain, path: "/index.php")
            }
            #expect(again?.body == "php:\(account.uid)", "\(String(describing: again))")

            #expect(try await world.get(config.domain, path: "/daemon.php").body == "started")
            #expect(await probe.waitForRunning(1).count == 1)
            var remove = Chom_Agent_V1_RemoveSiteTask()
            remove.site = config
            remove.force = true
            let removed = await world.backups.remove(remove) { _, _ in }
            #expect(removed.outcome == .succeeded, "\(removed.message)")
            #expect(await probe.allGone(), "a process php started outlived the site: \(probe.survivors)")
            #expect(!FileManager.default.fileExists(atPath: world.hosting.php.file(for: user)))
            #expect(await ContainmentProbe.noCgroups(of: user.rawValue))
        }
    }
}
