package import CHOMCore
import Foundation

/// The agent's fence: one root-owned file beside the site configurations (`chom-fence.inc`, not
/// matched by their `*.conf`) that every server block serving a site's content includes first.
///
/// Unfenced it holds a comment. Fenced it answers every request with 503 and the maintenance page,
/// before any location is chosen, so a fenced agent serves no site's content, whatever the site.
/// One file for every site: fencing is one `nginx -t` and one reload, and it survives a reboot
/// (nginx starts with the file as it was left).
package struct SiteFence: Sendable {
    /// The include's path.
    package let path: String
    /// The 503 page (root's, outside every site tree).
    package let maintenancePage: String
    let nginx: NginxController

    package init(nginx: NginxController, maintenancePage: String) {
        self.nginx = nginx
        self.maintenancePage = maintenancePage
        path = nginx.configuration.sitesDirectory + "/chom-fence.inc"
    }

    static let openMarker = "# Unfenced: this agent holds its site lease."
    static let fencedMarker = "# Fenced: this agent has lost its site lease; every site answers 503."

    /// The file's text for a state.
    package func text(fenced: Bool) -> String {
        guard fenced else { return Self.openMarker + "\n" }
        // The page was validated by SiteSpec.checkPath when the site configurations were rendered.
        return ([Self.fencedMarker, "error_page 503 @chom_fenced;"]
            + NginxSiteConfig.maintenanceLocation("@chom_fenced", page: maintenancePage) + ["return 503;"])
            .joined(separator: "\n") + "\n"
    }

    /// What the file on disk says: nil when there is no file yet.
    package func isFenced() throws(CHOMError) -> Bool? {
        guard let text = try AtomicFile.read(path) else { return nil }
        return text.hasPrefix(Self.fencedMarker)
    }

    /// Creates the unfenced file when there is none, so that site configurations including it pass
    /// `nginx -t`; an existing file is kept as it is (a fence left by a previous run holds).
    package func ensure() throws(CHOMError) {
        guard try AtomicFile.read(path) == nil else { return }
        do {
            try FileManager.default.createDirectory(  // not a tenant path: nginx's configuration directory
                atPath: nginx.configuration.sitesDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        } catch {
            throw CHOMError(.unavailable, "cannot create \(nginx.configuration.sitesDirectory)", underlying: error)
        }
        try AtomicFile.write(text(fenced: false), to: path)  // not a tenant path: nginx's configuration directory
    }

    /// Fences or unfences every site: the file, `nginx -t`, reload (also when the file already
    /// says so: a reload that failed before must not pass for a fence nginx runs).
    @discardableResult
    package func set(fenced: Bool) async throws(CHOMError) -> ReloadOutcome {
        try await nginx.installShared(
            path: path, text: text(fenced: fenced), change: fenced ? "the site fence" : "the removal of the site fence",
            reloadUnchanged: true)
    }
}
