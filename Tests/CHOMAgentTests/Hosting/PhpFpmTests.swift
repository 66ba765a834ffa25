import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("php-fpm pools per site")
struct PhpFpmTests {
    static let user = SiteUserName(rawValue: "chom_0123456789ab")!

    @Test("the pool file: the site user, a socket for the web server group, ondemand, open_basedir")
    func render() throws {
        let text = try PhpFpmPool(user: Self.user, siteDirectory: "/srv/chom/sites/example.com").render()
        #expect(text == """
            ; Managed by CHOM for chom_0123456789ab. Rewritten on every change: do not edit.
            [chom_0123456789ab]
            user = chom_0123456789ab
            group = chom_0123456789ab
            listen = /run/php/chom_0123456789ab.sock
            listen.owner = www-data
            listen.group = www-data
            listen.mode = 0660
            pm = ondemand
            pm.max_children = 5
            pm.process_idle_timeout = 10s
            pm.max_requests = 500
            chdir = /
            clear_env = yes
            security.limit_extensions = .php
            php_admin_value[open_basedir] = /srv/chom/sites/example.com/
            php_admin_value[upload_tmp_dir] = /srv/chom/sites/example.com/tmp
            php_admin_value[sys_temp_dir] = /srv/chom/sites/example.com/tmp
            php_admin_value[session.save_path] = /srv/chom/sites/example.com/tmp
            env[TMPDIR] = /srv/chom/sites/example.com/tmp

            """)
    }

    @Test("a value that could add a line is refused before rendering",
          arguments: ["/srv/a\nphp_admin_value[x] = y", "relative/dir", "/srv/a b", "/srv/../etc"])
    func refusesInjection(siteDirectory: String) {
        #expect(throws: CHOMError.self) { try PhpFpmPool(user: Self.user, siteDirectory: siteDirectory).render() }
    }

    @Test("without php-fpm: a clear error")
    func notInstalled() async {
        var configuration = PhpFpmController.Configuration()
        configuration.binary = "/nonexistent/php-fpm"
        let pool = PhpFpmPool(user: Self.user, siteDirectory: "/srv/x")
        let error = await #expect(throws: CHOMError.self) {
            try await PhpFpmController(configuration: configuration).install(pool)
        }
        #expect(error?.message == "php-fpm is not installed on this agent")
    }

    @Test("the master's configuration: its own pid file and log, in the foreground, then the pool")
    func renderMaster() throws {
        let pool = PhpFpmPool(user: Self.user, siteDirectory: "/srv/chom/sites/example.com")
        let text = try pool.renderMaster(pidFile: "/var/lib/chom-agent/php/chom_0123456789ab.pid", errorLog: "/var/lib/chom-agent/php/chom_0123456789ab.log")
        #expect(text.hasPrefix("""
            ; Managed by CHOM: the php-fpm master of chom_0123456789ab alone. Rewritten on every change: do not edit.
            [global]
            pid = /var/lib/chom-agent/php/chom_0123456789ab.pid
            error_log = /var/lib/chom-agent/php/chom_0123456789ab.log
            daemonize = no

            """))
        #expect(text.hasSuffix(try pool.render()))
        #expect(throws: CHOMError.self) { try pool.renderMaster(pidFile: "/x\ninclude = /etc/evil", errorLog: "/x.log") }
    }

    @Test("a php site is served by a master of its own, in its own cgroup, with workers as the site user; removal kills what php started",
          .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)),
          .enabled(if: TestPhpFpm.binary != nil, "php-fpm is not installed"),
          .enabled(if: TestNginx.binary != nil, "nginx is not installed"))
    func servesPHP() async throws {
        let probe = ContainmentProbe()
        try await LiveSites.with(["php.test"]) { sites in
            let site = sites[0]
            try site.publish("r1", files: [
                "index.php": #"<?php echo "ok"; ?>"#,
                "whoami.php": #"<?php echo function_exists('posix_geteuid') ? posix_geteuid() : getmyuid(); ?>"#,
                "escape.php": #"<?php echo @file_get_contents('/etc/hostname') === false ? 'confined' : 'escaped'; ?>"#,
                // A request that leaves a detached process behind, as a tenant's php might.
                "daemon.php": "<?php shell_exec('setsid sleep \(probe.marker) > /dev/null 2>&1 < /dev/null &'); echo 'started'; ?>",
            ])
            let fpm = try TestPhpFpm()
            let controller = PhpFpmController(configuration: fpm.controllerConfiguration)
            defer {
                probe.killSurvivors()
                ContainmentProbe.removeCgroups(of: site.account.name)
                fpm.stop()
            }
            do {
                let pool = controller.pool(for: site.user, siteDirectory: site.layout.site.path)
                #expect(try await controller.install(pool) == .started)

                // A pool php-fpm refuses (its user does not exist): rolled back, php-fpm's words kept.
                let ghost = controller.pool(for: SiteUserName(site: SiteID()), siteDirectory: site.layout.site.path)
                let refused = await #expect(throws: CHOMError.self) { try await controller.install(ghost) }
                #expect(refused?.message.contains("php-fpm rejected the pool") == true)
                #expect(refused?.message.contains(ghost.user.rawValue) == true, "\(String(describing: refused))")
                #expect(!FileManager.default.fileExists(atPath: controller.file(for: ghost.user)))

                try await TestNginx.with { nginx in
                    let nginxController = NginxController(configuration: nginx.controllerConfiguration)
                    let config = try site.staticConfig(on: nginx, kind: .php(socketPath: pool.socketPath))
                    _ = try await nginxController.install(domain: site.domain, config: config)
                    let check = HealthCheck(port: nginx.port)
                    let index = try await LiveSites.eventually(check, host: site.domain, path: "/index.php", contains: "ok", nginx: nginx)
                    #expect(index.status == 200 && index.body == "ok")
                    let whoami = try await check.check(host: site.domain, path: "/whoami.php")
                    #expect(whoami.body == "\(site.account.uid)", "\(whoami)")
                    #expect(try await check.check(host: site.domain, path: "/escape.php").body == "confined")

                    // The master runs in a cgroup of the site's own, and so does everything below it.
                    let master = try #require(PidFile.runningProcess(controller.pidFile(for: site.user)))
                    #expect(Self.cgroupLines(master).contains { $0.contains("/php-\(site.account.name)-") }, "\(Self.cgroupLines(master))")
                    // The same configuration again: the running master is left alone.
                    #expect(try await controller.install(pool) == .unchanged)
                    #expect(PidFile.runningProcess(controller.pidFile(for: site.user)) == master)
                    // A changed one: checked, then the master reloads (it re-executes: wait until it answers).
                    var busier = pool
                    busier.maxChildren = 6
                    #expect(try await controller.install(busier) == .reloaded)
                    // The re-executed master answers a harmless request first: /daemon.php is not one to
                    // retry, but a request cut by the re-exec may still have run it, so there may be two.
                    _ = try await LiveSites.eventually(check, host: site.domain, path: "/index.php", contains: "ok", nginx: nginx)
                    let daemon = try await LiveSites.eventually(check, host: site.domain, path: "/daemon.php", contains: "started", nginx: nginx)
                    #expect(daemon.body == "started")
                    let daemons = await probe.waitForRunning(1)
                    #expect(!daemons.isEmpty)
                    for pid in daemons {
                        #expect(Self.cgroupLines(pid).contains { $0.contains("/php-\(site.account.name)-") }, "\(Self.cgroupLines(pid))")
                    }
                }
                // Removal stops the master and its whole cgroup: the detached process goes too.
                #expect(try await controller.remove(site.user) == .stopped)
                #expect(!FileManager.default.fileExists(atPath: controller.file(for: site.user)))
                #expect(await probe.allGone(), "a process php started survived the site's php-fpm: \(probe.survivors)")
                #expect(UserProcesses.pids(of: site.account.uid).isEmpty)
                #expect(await ContainmentProbe.noCgroups(of: site.account.name), "\(ContainmentProbe.cgroups(of: site.account.name))")
                #expect(try await controller.remove(site.user) == .unchanged)
            } catch {
                await controller.stopAll()
                throw error
            }
        }
    }

    private static func cgroupLines(_ pid: pid_t) -> [String] {
        ((try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
