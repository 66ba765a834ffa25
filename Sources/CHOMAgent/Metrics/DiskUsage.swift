package import CHOMSiteFiles
import Foundation

/// The bytes allocated under a site's tree, like `du -sx`, measured through ``SiteDirectory``:
/// the tree is opened from its root-owned parent with `O_NOFOLLOW` and walked by descriptors, so
/// a symlink counts as itself and is never followed (not even one swapped in during the walk),
/// a FIFO is never opened, other file systems are not entered and a hard link counts once. The
/// walk is costly, so callers cache its result (`SiteMetrics.refreshDiskUsage`).
package enum DiskUsage {
    package typealias Result = DiskUsageResult

    /// nil when `path` cannot be read at all (missing, no permission, or not a directory).
    /// `path`'s parent must be root's (the sites root).
    package static func measure(_ path: String, maxEntries: Int = 1_000_000) -> Result? {
        let url = URL(fileURLWithPath: path)
        guard let parent = try? SiteDirectory.openTrusted(url.deletingLastPathComponent().path),
            let tree = try? parent.openDirectory(url.lastPathComponent)
        else { return nil }
        return tree.diskUsage(maxEntries: maxEntries)
    }
}
