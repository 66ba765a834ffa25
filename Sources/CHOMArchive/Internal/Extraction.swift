#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Applies `TarReader` events to a `DestinationTree` under `SafeExtractor.Limits`.
final class Extraction {
    private struct OpenFile {
        var fd: Int32
        var entry: TarEntry
    }

    private struct PendingDirectory {
        var components: [String]
        var mode: UInt32
        var modificationTime: Int
        var entry: String
    }

    private let tree: DestinationTree
    private let limits: SafeExtractor.Limits
    private var current: OpenFile?
    private var directories: [PendingDirectory] = []
    private var entryCount = 0
    private var files = 0
    private var symlinks = 0
    private var totalBytes = 0

    init(tree: DestinationTree, limits: SafeExtractor.Limits) {
        self.tree = tree
        self.limits = limits
    }

    deinit { closeCurrent() }

    func handle(_ event: TarReader.Event) throws {
        switch event {
        case .entry(let entry):
            try begin(entry)
        case .content(let chunk):
            if let current { try POSIX.writeAll(current.fd, chunk, path: current.entry.path) }
        case .entryEnd:
            guard let current else { return }
            let mode = (current.entry.mode & 0o755) | 0o600
            try DestinationTree.setMetadata(
                current.fd, mode: mode, modificationTime: current.entry.modificationTime, entry: current.entry.path)
            closeCurrent()
            files += 1
        }
    }

    /// Applies directory modes and times, deepest first, once every entry is written.
    func complete() throws -> SafeExtractor.Summary {
        for directory in directories.sorted(by: { $0.components.count > $1.components.count }) {
            try tree.setDirectoryMetadata(
                directory.components, mode: directory.mode, modificationTime: directory.modificationTime,
                entry: directory.entry)
        }
        return SafeExtractor.Summary(
            files: files, directories: tree.createdDirectories, symlinks: symlinks, totalBytes: totalBytes)
    }

    func closeCurrent() {
        if let current { _ = close(current.fd) }
        current = nil
    }

    private func begin(_ entry: TarEntry) throws {
        let path = entry.path
        entryCount += 1
        guard entryCount <= limits.maxEntries else {
            throw ArchiveError.limitExceeded(.entries, max: limits.maxEntries, entry: path)
        }
        switch entry.kind {
        case .file, .directory, .symlink: break
        default: throw ArchiveError.unsupportedEntry(entry: path, type: entry.kind.description)
        }
        guard path.utf8.count <= limits.maxPathLength else {
            throw ArchiveError.limitExceeded(.pathLength, max: limits.maxPathLength, entry: path)
        }
        let components = try EntryPath.components(of: path)

        switch entry.kind {
        case .directory:
            // "./" names the destination itself, which already exists.
            guard !components.isEmpty else { return }
            try tree.makeDirectory(components, entry: path)
            directories.append(
                PendingDirectory(
                    components: components, mode: (entry.mode & 0o755) | 0o700,
                    modificationTime: entry.modificationTime, entry: path))
        case .symlink:
            guard !components.isEmpty else {
                throw ArchiveError.unsafePath(entry: path, reason: "symlink at the destination root")
            }
            guard entry.linkPath.utf8.count <= limits.maxPathLength else {
                throw ArchiveError.limitExceeded(.pathLength, max: limits.maxPathLength, entry: path)
            }
            try EntryPath.checkSymlinkTarget(entry.linkPath, linkParent: Array(components.dropLast()), entry: path)
            try tree.makeSymlink(components, target: entry.linkPath, entry: path)
            symlinks += 1
        default:
            guard !components.isEmpty else {
                throw ArchiveError.unsafePath(entry: path, reason: "regular file at the destination root")
            }
            guard entry.size <= limits.maxTotalBytes - totalBytes else {
                throw ArchiveError.limitExceeded(.totalBytes, max: limits.maxTotalBytes, entry: path)
            }
            totalBytes += entry.size
            current = OpenFile(fd: try tree.createFile(components, entry: path), entry: entry)
        }
    }
}
