#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
package import Foundation

/// One site on disk: `<sitesRoot>/<domain>/` with `releases/<release id>/`, `current` (a relative
/// symlink to `releases/<id>`) and `.incoming/` for downloads and extractions in progress.
/// `domain` must already be validated (`DomainName.isValid`), `releaseID` be a lowercase UUID.
package struct SiteLayout: Sendable {
    package let site: URL

    package init(sitesRoot: URL, domain: String) {
        site = sitesRoot.appendingPathComponent(domain, isDirectory: true)
    }

    package var releases: URL { site.appendingPathComponent("releases", isDirectory: true) }
    package var incoming: URL { site.appendingPathComponent(".incoming", isDirectory: true) }
    package var current: URL { site.appendingPathComponent("current", isDirectory: false) }

    package func release(_ releaseID: String) -> URL {
        releases.appendingPathComponent(releaseID, isDirectory: true)
    }

    /// Creates the site, `releases/` (0755: the web server reads them) and `.incoming/` (0700),
    /// and clears what an interrupted deploy left in `.incoming/` (deploys run one at a time).
    package func prepare() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: releases, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try manager.createDirectory(at: incoming, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in try manager.contentsOfDirectory(atPath: incoming.path) {
            try manager.removeItem(at: incoming.appendingPathComponent(name))
        }
    }

    /// The release id `current` points at, if it is a symlink into `releases/`.
    package func currentRelease() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(current.path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let prefix = "releases/"
        guard target.hasPrefix(prefix) else { return nil }
        return String(target.dropFirst(prefix.count))
    }

    /// Points `current` at `releases/<id>` atomically: a new symlink `current.tmp-<random>`
    /// renamed over `current`, so readers see the old or the new release, never neither.
    package func switchCurrent(to releaseID: String) throws {
        let temporary = site.appendingPathComponent("current.tmp-" + UUID().uuidString.lowercased()).path
        guard symlink("releases/" + releaseID, temporary) == 0 else {
            throw DeployFailure(step: .switch, reason: "cannot create symlink \(temporary): \(errorText())")
        }
        guard rename(temporary, current.path) == 0 else {
            let reason = "cannot rename \(temporary) over \(current.path): \(errorText())"
            unlink(temporary)
            throw DeployFailure(step: .switch, reason: reason)
        }
        syncDirectory(site.path)
    }

    /// Keeps `keep` releases, the current one included, and removes the rest: the current release
    /// is never removed, the others go oldest first by creation order (the time the directory was
    /// renamed into `releases/`). Returns the removed ids.
    package func prune(keep: Int) throws -> [String] {
        let ordered = try releasesNewestFirst()
        // `keep` counts the current release (normally the newest) plus the newest others.
        let current = currentRelease()
        let others = ordered.filter { $0 != current }
        let keepOthers = max(1, keep) - (ordered.count == others.count ? 0 : 1)
        var removed: [String] = []
        for name in others.dropFirst(keepOthers) {
            try FileManager.default.removeItem(at: release(name))
            removed.append(name)
        }
        return removed
    }

    private func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private func errorText() -> String {
        String(cString: strerror(errno))
    }
}
