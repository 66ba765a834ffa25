package import CHOMCore
package import CHOMSiteFiles
package import Foundation
import Glibc

/// `SiteHosting` on a Linux host with the real tools: `useradd` for the site user, ownership
/// and modes per `SiteTree`, nginx through `NginxController` (checked before every reload),
/// a php-fpm master per php site in its own cgroup, build hooks through `HookRunner`, app processes through `AppSupervisor`, and
/// the health check as an HTTP GET to nginx with the site's Host header.
package struct LinuxSiteHosting: SiteHosting {
    package let configuration: HostingConfiguration
    package let nginx: NginxController
    package let php: PhpFpmController
    package let apps: AppSupervisor
    package let users: SiteUsers
    /// The include every served site's server block starts with (fencing, ``SiteLeaseKeeper``).
    package let fence: SiteFence
    package let metrics: AgentMetrics?

    package init(configuration: HostingConfiguration, metrics: AgentMetrics? = nil) {
        self.configuration = configuration
        let nginx = NginxController(configuration: configuration.nginx)
        self.nginx = nginx
        fence = SiteFence(
            nginx: nginx, maintenancePage: configuration.maintenancePage.path,
            tokensDirectory: configuration.leaseTokensDirectory.path)
        var php = configuration.php
        php.cgroups = configuration.cgroups
        self.php = PhpFpmController(configuration: php)
        apps = AppSupervisor(cgroups: configuration.cgroups)
        var users = SiteUsers.Configuration()
        users.uids = configuration.siteUIDs
        self.users = SiteUsers(configuration: users)
        self.metrics = metrics
    }

    package func configure(_ site: HostedSite, layout: SiteLayout) async throws {
        let account = try await users.ensure(site.user, home: layout.home.path)
        try SiteTree(layout: layout, account: account, webGroup: configuration.webGroup).prepare()
        let tls = try writeTLS(site)
        try writeMaintenancePage()
        let kind: SiteSpec.Kind
        switch site.kind {
        case .static:
            kind = .static
        case .php:
            let pool = php.pool(for: site.user, siteDirectory: layout.site.path)
            // A suspended php site runs nothing: its master (and whatever php started) stops, and
            // starts again with the configure that resumes it.
            if site.suspended { _ = try await php.remove(site.user) } else { _ = try await php.install(pool) }
            kind = .php(socketPath: pool.socketPath)
        case .app:
            kind = .app(port: site.appPort)
        }
        // A site that is no longer php keeps no master.
        if site.kind != .php, FileManager.default.fileExists(atPath: php.file(for: site.user)) {  // not a tenant path: the agent's php directory
            _ = try await php.remove(site.user)
        }
        let logs = try logDirectory(site.domain)
        var spec = SiteSpec(
            domain: site.domain, aliases: site.aliases, kind: kind,
            root: layout.current.appendingPathComponent(site.publicDirectory, isDirectory: true).path,
            accessLog: logs.appendingPathComponent("access.log").path,
            errorLog: logs.appendingPathComponent("error.log").path,
            tls: tls, suspended: site.suspended, maintenancePage: configuration.maintenancePage.path)
        spec.symlinksCheckedFrom = layout.current.path
        spec.forwardTo = site.forwardTo
        try fence.ensure()
        var siteConfiguration = configuration.site
        // A site that never fails over is never fenced: nothing else would serve it.
        siteConfiguration.fenceInclude = site.fenceExempt ? nil : fence.path
        let text = try NginxSiteConfig.render(spec, configuration: siteConfiguration)
        _ = try await nginx.install(domain: site.domain, config: text)
        if site.kind == .php { await php.retireLegacyPool(site.user) }
        if site.suspended, site.kind == .app { await apps.stop(site: site.domain) }
        metrics?.sites.register(
            site: site.domain, tenant: site.tenantID, tree: layout.site,
            accessLog: logs.appendingPathComponent("access.log"))
    }

    /// `<logs directory>/<domain>/`, root's 0750: nginx's root master opens the logs here, the
    /// agent reads them; no site user can reach it.
    package func logDirectory(_ domain: String) throws(CHOMError) -> URL {
        let logs = try SiteDirectory.makeTrusted(configuration.logsDirectory.path, mode: 0o750)
        let directory = try logs.makeDirectories(domain, mode: 0o750)
        try directory.setOwner(uid: geteuid(), gid: getegid(), mode: 0o750)
        return configuration.logsDirectory.appendingPathComponent(domain, isDirectory: true)
    }

    package func own(_ site: HostedSite, tree: SiteDirectory, unreachable: Bool) async throws {
        let account = try self.account(site)
        try tree.chownTree(uid: account.uid, gid: account.gid, unreachable: unreachable)
    }

    package func run(_ hook: HostedSite.Hook, site: HostedSite, release: URL, releaseID: String) async throws -> String {
        var hookConfiguration = HookRunner.Configuration()
        hookConfiguration.timeout = hook.timeout
        hookConfiguration.cgroups = configuration.cgroups
        // <site>/releases/<id> → <site>/tmp, the site's private temporary directory.
        let siteDirectory = release.deletingLastPathComponent().deletingLastPathComponent()
        let context = HookRunner.Context(
            account: try account(site), site: site.domain, releaseID: releaseID, releaseDirectory: release.path,
            temporaryDirectory: siteDirectory.appendingPathComponent("tmp").path)
        do {
            return try await HookRunner(configuration: hookConfiguration).run(hook.command, in: context).logTail
        } catch {
            throw CHOMError(.unavailable, error.logTail.isEmpty ? error.description : "\(error.description); output:\n\(error.logTail.suffix(2048))")
        }
    }

    package func activate(_ site: HostedSite, layout: SiteLayout) async throws {
        guard site.kind == .app, !site.suspended else { return }
        let account = try self.account(site)
        guard let live = layout.currentRelease() else { throw CHOMError(.notFound, "\(site.domain) has no current release") }
        // releases/<id> is an entry of root's releases/: the path cannot be redirected.
        let directory = layout.release(live)
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": layout.home.path, "LANG": "C.UTF-8",
            "TMPDIR": layout.temporary.path,
            "PORT": "\(site.appPort)", "CHOM_SITE": site.domain, "CHOM_RELEASE_DIR": directory.path,
        ]
        await apps.restart(
            site: site.domain, command: site.appCommand, account: account, directory: directory, environment: environment)
    }

    package func checkHealth(_ site: HostedSite) async throws -> String {
        // A TLS site's HTTP listener only redirects; what answers there is the redirect.
        let expected = site.certificateChainPEM == nil ? site.health.expectedStatus : 301
        let check = HealthCheck(port: configuration.site.httpPort, expectedStatus: expected, timeout: site.health.timeout)
        var lastError: HealthCheckFailure?
        // Retried within the timeout: an app needs a moment to listen after a (re)start, and for
        // a moment after a reload nginx's old workers still answer with the old configuration.
        let deadline = ContinuousClock.now + site.health.timeout
        repeat {
            do {
                let response = try await check.check(host: site.domain, path: site.health.path)
                return "GET \(site.health.path) with Host \(site.domain) answered \(response.status)"
            } catch {
                lastError = error
                if ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            }
        } while ContinuousClock.now < deadline
        throw CHOMError(.unavailable, "health check GET \(site.health.path) with Host \(site.domain): \(lastError.map { "\($0)" } ?? "failed")")
    }

    package func remove(_ site: HostedSite, layout: SiteLayout) async throws {
        await apps.stop(site: site.domain)
        _ = try await nginx.remove(domain: site.domain)
        if site.kind == .php || FileManager.default.fileExists(atPath: php.file(for: site.user)) {  // not a tenant path: the agent's php directory
            _ = try await php.remove(site.user)
        }
        for suffix in ["crt", "key"] {
            try? SiteDirectory.openTrusted(configuration.tlsDirectory.path).removeTree("\(site.domain).\(suffix)")
        }
        try? SiteDirectory.openTrusted(configuration.logsDirectory.path).removeTree(site.domain)
        if let account = SiteAccount.lookup(site.user.rawValue) {
            // Whatever the tenant left running (a daemon, a php request's child) goes too.
            let left = await UserProcesses.killAll(of: account)
            if left > 0 { throw CHOMError(.unavailable, "\(left) processes of \(site.user) would not stop") }
        }
        // The tree goes before the user: a user id is handed out again once free, and nothing of
        // this site may be left owned by (or open through the ACL to) whoever gets it next.
        try layout.removeTree()
        try await users.remove(site.user)
        metrics?.sites.siteRemoved(site: site.domain)
    }

    private func account(_ site: HostedSite) throws(CHOMError) -> SiteAccount {
        guard let account = SiteAccount.lookup(site.user.rawValue) else {
            throw CHOMError(.notFound, "site user \(site.user) does not exist; configure the site first")
        }
        return account
    }

    /// The certificate chain (0644) and key (0600), both root's, under the TLS directory.
    private func writeTLS(_ site: HostedSite) throws -> SiteSpec.TLS? {
        guard let chain = site.certificateChainPEM, let key = site.privateKeyPEM else { return nil }
        let manager = FileManager.default
        try manager.createDirectory(at: configuration.tlsDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])  // not a tenant path: the agent's TLS directory
        let certificate = configuration.tlsDirectory.appendingPathComponent("\(site.domain).crt")
        let keyFile = configuration.tlsDirectory.appendingPathComponent("\(site.domain).key")
        try AtomicFile.write(chain, to: certificate.path, mode: 0o644)  // not a tenant path: the agent's TLS directory
        try AtomicFile.write(key, to: keyFile.path, mode: 0o600)  // not a tenant path: the agent's TLS directory
        return SiteSpec.TLS(certificatePath: certificate.path, keyPath: keyFile.path)
    }

    private func writeMaintenancePage() throws {
        let page = configuration.maintenancePage
        guard !FileManager.default.fileExists(atPath: page.path) else { return }  // not a tenant path: the maintenance page, root's, outside every site tree
        try FileManager.default.createDirectory(  // not a tenant path: the maintenance page, root's, outside every site tree
            at: page.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let html = "<!doctype html><title>Down for maintenance</title><h1>This site is down for maintenance.</h1>\n"
        try AtomicFile.write(html, to: page.path, mode: 0o644)  // not a tenant path: the maintenance page, root's, outside every site tree
    }
}
