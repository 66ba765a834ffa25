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
    @Test("deploy starts the site's master in its cgroup (a stale pid file signals nothing); an agent restart starts it again; suspend and a kind change stop it; removal leaves no process")
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
            let user = SiteUserName(site: id)
            // A stale pid file (a crash, a reboot) naming a live root process that is not this
            // site's master — this test runner: never signalled.
            try FileManager.default.createDirectory(atPath: world.hosting.php.configuration.directory, withIntermediateDirectories: true)
            try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: world.hosting.php.pidFile(for: user)))
            let deployed = await world.deploy(try world.deployTask(config, files: files))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
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
            let again = try await Self.eventually(world, config.domain, "/index.php") { $0.status == 200 }
            #expect(again?.body == "php:\(account.uid)", "\(String(describing: again))")

            // Suspended, the site runs nothing; resumed, its master is back.
            var suspend = Chom_Agent_V1_SuspendSiteTask()
            suspend.site = config
            suspend.suspended = true
            #expect(await world.sites.suspend(suspend) { _, _ in }.outcome == .succeeded)
            #expect(world.hosting.php.masterPID(user) == nil)
            #expect(UserProcesses.pids(of: account.uid).isEmpty)
            suspend.suspended = false
            #expect(await world.sites.suspend(suspend) { _, _ in }.outcome == .succeeded)
            #expect(world.hosting.php.masterPID(user) != nil)

            // nginx's old workers may still answer 503 for a moment after the reload.
            let daemon = try await Self.eventually(world, config.domain, "/daemon.php") { $0.body == "started" }
            #expect(daemon?.body == "started", "\(String(describing: daemon))")
            #expect(await probe.waitForRunning(1).count == 1)
            // No longer php: no master, nothing php started.
            var configure = Chom_Agent_V1_ConfigureSiteTask()
            configure.site = config
            configure.site.kind = .static
            #expect(await world.sites.configure(configure) { _, _ in }.outcome == .succeeded)
            #expect(world.hosting.php.masterPID(user) == nil)
            #expect(!FileManager.default.fileExists(atPath: world.hosting.php.file(for: user)))
            #expect(await probe.allGone(), "\(probe.survivors)")
            var remove = Chom_Agent_V1_RemoveSiteTask()
            remove.site = config
            remove.force = true
            let removed = await world.backups.remove(remove) { _, _ in }
            #expect(removed.outcome == .succeeded, "\(removed.message)")
            #expect(UserProcesses.pids(of: account.uid).isEmpty)
            #expect(await ContainmentProbe.noCgroups(of: user.rawValue))
        }
    }

    /// GETs `path` until `done` holds (at most 10 s); the last answer.
    private static func eventually(
        _ world: HostedSiteWorld, _ domain: String, _ path: String, _ done: (HealthCheck.Response) -> Bool
    ) async throws -> HealthCheck.Response? {
        let end = ContinuousClock.now + .seconds(10)
        var last = try? await world.get(domain, path: path)
        while last.map(done) != true, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(50))
            last = try? await world.get(domain, path: path)
        }
        return last
    }
}
