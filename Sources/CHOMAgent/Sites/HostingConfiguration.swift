import Crypto
package import Foundation

/// How an agent hosts sites on its machine: which nginx it drives, the ports sites listen on,
/// the web server's group, php-fpm, and where TLS files and the maintenance page live.
package struct HostingConfiguration: Sendable {
    package var nginx = NginxController.Configuration()
    package var site = NginxSiteConfig.Configuration()
    /// nginx workers' group: site directories are group-readable by it and nobody else.
    package var webGroup = "www-data"
    package var php = PhpFpmController.Configuration()
    /// `<dir>/<domain>.crt` and `.key` (0600, root only; nginx's master reads them).
    package var tlsDirectory: URL
    /// `<dir>/<domain>/access.log` and `error.log`: nginx's logs for each site, root's (0750),
    /// outside every site tree so that nginx's root master never opens a tenant's path, and per
    /// agent (under its state directory) so two agents on one host never share one.
    package var logsDirectory: URL
    /// The 503 page served while a site is suspended; nginx's workers must be able to read it,
    /// so it lives under the sites root (`<sites root>/.maintenance/503.html`), not the state
    /// directory (0700).
    package var maintenancePage: URL
    /// The site fence's lease tokens (``SiteFence``): nginx's workers look whether one exists, so
    /// it must be root's and traversable (0755), never under the state directory (0700). Here
    /// `<sites root>/.lease`; `chom-agent run` uses ``runtimeLeaseDirectory(stateDirectory:)``, on
    /// /run: a tmpfs, so a tenant who fills the sites' file system (blocks or inodes) cannot stop
    /// the tokens being written, and gone at a reboot, which fences until the first answer.
    package var leaseTokensDirectory: URL
    /// When set, the agent runs its own nginx master under this directory on `site.httpPort`
    /// (``ManagedNginx``) instead of driving the system's: for several agents on one machine.
    package var managedNginxDirectory: URL?
    /// The cgroup of each build hook run, app process and php site's php-fpm master, and their limits.
    package var cgroups = CgroupConfiguration()
    /// When and how the per-site logs under `logsDirectory` are rotated (``SiteLogRotator``).
    package var logRotation = SiteLogRotator.Configuration()
    /// Site user ids, never handed out twice (`<state dir>/site-uids.next`, ``SiteUIDs``).
    package var siteUIDs: SiteUIDs

    package init(stateDirectory: URL, sitesRoot: URL) {
        tlsDirectory = stateDirectory.appendingPathComponent("tls", isDirectory: true)
        logsDirectory = stateDirectory.appendingPathComponent("logs", isDirectory: true)
        maintenancePage = sitesRoot.appendingPathComponent(".maintenance/503.html")
        leaseTokensDirectory = sitesRoot.appendingPathComponent(".lease", isDirectory: true)
        siteUIDs = SiteUIDs(file: stateDirectory.appendingPathComponent("site-uids.next"))
        php.directory = stateDirectory.appendingPathComponent("php", isDirectory: true).path
    }

    /// Points `nginx` at a managed nginx under `directory` listening on `httpPort`.
    package mutating func manageNginx(in directory: URL, httpPort: Int, httpsPort: Int) {
        let managed = ManagedNginx(directory: directory, port: httpPort, httpsPort: httpsPort)
        managedNginxDirectory = directory
        nginx = managed.controllerConfiguration
        site = managed.siteConfiguration
    }
}

extension HostingConfiguration {
    /// `/run/chom-agent/<12 hex digits of the state directory's path>/lease`: one per agent, several
    /// agents on one machine (the namespace harness) never share one.
    package static func runtimeLeaseDirectory(stateDirectory: URL) -> URL {
        let digest = SHA256.hash(data: Data(stateDirectory.standardizedFileURL.path.utf8))
        let name = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
        return URL(fileURLWithPath: "/run/chom-agent/\(name)/lease", isDirectory: true)
    }
}
