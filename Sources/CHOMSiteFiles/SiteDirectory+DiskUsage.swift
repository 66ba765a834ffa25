#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CHOMCore

/// Bytes allocated under a directory, like `du -sx`.
package struct DiskUsageResult: Sendable, Equatable {
    package var bytes: UInt64
    package var entries: Int
    /// True when the walk stopped at `maxEntries`: `bytes` is then a lower bound.
    package var truncated: Bool

    package init(bytes: UInt64, entries: Int, truncated: Bool) {
        self.bytes = bytes
        self.entries = entries
        self.truncated = truncated
    }
}

extension SiteDirectory {
    private struct HardLink: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The bytes allocated under this directory, walking descriptors: entries are `fstatat`ed
    /// without following, directories entered with `O_NOFOLLOW` (a symlink counts as itself and
    /// is never followed, even one swapped in during the walk), nothing is ever opened that is
    /// not a directory (a FIFO cannot block the walk), other file systems are not entered, and a
    /// hard-linked file counts once.
    package func diskUsage(maxEntries: Int = 1_000_000) -> DiskUsageResult {
        var result = DiskUsageResult(bytes: 0, entries: 0, truncated: false)
        guard let root = try? selfStatus() else { return result }
        var linked: Set<HardLink> = []
        result.entries = 1
        result.bytes = UInt64(max(0, root.st_blocks)) * 512
        walkUsage(device: root.st_dev, result: &result, linked: &linked, maxEntries: maxEntries, depth: 0)
        return result
    }

    private func walkUsage(device: dev_t, result: inout DiskUsageResult, linked: inout Set<HardLink>, maxEntries: Int, depth: Int) {
        guard depth < Self.maximumDepth else { return }
        // Streamed in bounded batches; a huge directory costs time up to `maxEntries`, never memory.
        try? forEachBatch { (names: [String]) throws(CHOMError) in
            for name in names where !result.truncated {
                visitUsage(name, device: device, result: &result, linked: &linked, maxEntries: maxEntries, depth: depth)
            }
            if result.truncated { throw CHOMError(.refused, "enough") }
        }
    }

    private func visitUsage(
        _ name: String, device: dev_t, result: inout DiskUsageResult, linked: inout Set<HardLink>, maxEntries: Int, depth: Int
    ) {
        if result.entries >= maxEntries {
            result.truncated = true
            return
        }
        var st = stat()
        guard fstatat(descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_dev == device else { return }
        result.entries += 1
        let isDirectory = FileKind(st) == .directory
        if isDirectory || st.st_nlink <= 1 || linked.insert(HardLink(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted {
            result.bytes += UInt64(max(0, st.st_blocks)) * 512
        }
        guard isDirectory else { return }
        let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }
        let child = SiteDirectory.adopt(fd, path: child(name))
        child.walkUsage(device: device, result: &result, linked: &linked, maxEntries: maxEntries, depth: depth + 1)
    }
}
