#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes allocated under a directory tree, walking without
/// following symbolic links (a link counts as itself) or crossing into other file systems, and
/// counting a hard-linked file once, like `du -sx`. The walk is costly, so callers cache its result
/// (`SiteMetrics.refreshDiskUsage`).
package enum DiskUsage {
    package struct Result: Sendable, Equatable {
        package var bytes: UInt64
        package var entries: Int
        /// True when the walk stopped at `maxEntries`: `bytes` is then a lower bound.
        package var truncated: Bool
    }

    private struct HardLink: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// nil when `path` cannot be read at all (missing, no permission).
    package static func measure(_ path: String, maxEntries: Int = 1_000_000) -> Result? {
        var rootStatus = stat()
        guard lstat(path, &rootStatus) == 0 else { return nil }
        var result = Result(bytes: 0, entries: 0, truncated: false)
        var linked: Set<HardLink> = []
        var pending = [path]
        var status = rootStatus
        var first = true
        while let current = pending.popLast() {
            if !first, lstat(current, &status) != 0 { continue }  // Removed since listed.
            first = false
            guard status.st_dev == rootStatus.st_dev else { continue }  // A mount point inside the tree.
            if result.entries >= maxEntries {
                result.truncated = true
                break
            }
            result.entries += 1
            let isDirectory = (status.st_mode & S_IFMT) == S_IFDIR
            let isLinked = !isDirectory && status.st_nlink > 1
            if !isLinked || linked.insert(HardLink(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))).inserted {
                result.bytes += UInt64(max(0, status.st_blocks)) * 512
            }
            if isDirectory { pending.append(contentsOf: children(of: current)) }
        }
        return result
    }

    /// The paths of a directory's entries, `.` and `..` left out; empty if it cannot be opened.
    private static func children(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var paths: [String] = []
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { paths.append(prefix + name) }
        }
        return paths
    }
}
