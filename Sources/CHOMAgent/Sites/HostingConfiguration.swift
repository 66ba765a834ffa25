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
    /// The 503 page served while a site is suspended; nginx's workers must be able to read it,
    /// so it lives under the sites root (`<sites root>/.maintenance/503.html`), not the state
    /// directory (0700).
    package var maintenancePage: URL

    package init(stateDirectory: URL, sitesRoot: URL) {
        tlsDirectory = stateDirectory.appendingPathComponent("tls", isDirectory: true)
        maintenancePage = sitesRoot.appendingPathComponent(".maintenance/503.html")
    }
}
