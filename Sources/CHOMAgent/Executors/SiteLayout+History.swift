package import Foundation

extension SiteLayout {
    /// `<site>/shared/`: paths that outlive releases.
    package var shared: URL { site.appendingPathComponent("shared", isDirectory: true) }
    /// `<site>/logs/`: nginx's access and error log for the site.
    package var logs: URL { site.appendingPathComponent("logs", isDirectory: true) }

    /// Release ids on disk, newest first (by the time each was renamed into `releases/`).
    package func releasesNewestFirst() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: releases.path).filter { !$0.hasPrefix(".") }
        var dated: [(name: String, created: Int128)] = []
        for name in names {
            guard let created = FileStatus.directoryChangeTime(release(name).path) else { continue }
            dated.append((name, created))
        }
        dated.sort { a, b in a.created != b.created ? a.created > b.created : a.name > b.name }
        return dated.map(\.name)
    }

    /// The release deployed before the current one: the newest release older than `current`.
    package func previousRelease() throws -> String? {
        let ordered = try releasesNewestFirst()
        guard let current = currentRelease(), let index = ordered.firstIndex(of: current) else {
            return ordered.first
        }
        return ordered.dropFirst(index + 1).first
    }
}
