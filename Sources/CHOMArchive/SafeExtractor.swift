#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
package import Foundation

/// Extracts an untrusted tar, tar.zst or tar.gz (told apart by magic bytes) into a new or empty
/// directory, writing nothing outside it. Refused, with an error naming the entry:
/// absolute paths and ".." components; symlinks whose target is absolute or climbs out (or has a
/// ".." after a name); any entry whose path goes through an existing symlink or replaces an
/// existing entry; hard links, devices, fifos and every other non file/directory/symlink type;
/// exceeding `Limits` (total file bytes, entries, path length, decoded archive size: a
/// decompression bomb stops at the cap). On any failure the destination is removed (or emptied
/// again when it existed). Directories get `mode & 0o755 | 0o700`, files `mode & 0o755 | 0o600`:
/// never setuid, setgid or sticky. Memory stays bounded whatever the archive's size.
package struct SafeExtractor: Sendable {
    package struct Limits: Sendable, Equatable {
        /// The sum of all regular files' sizes.
        package var maxTotalBytes: Int
        /// Entries of any kind (metadata records excluded).
        package var maxEntries: Int
        /// The longest entry path or symlink target, in UTF-8 bytes.
        package var maxPathLength: Int
        /// The largest decoded tar stream (headers, padding and content); a compressed input that
        /// decodes past it is refused as a decompression bomb.
        package var maxArchiveBytes: Int

        /// `maxArchiveBytes` defaults to the file bytes plus 3 KiB of header and padding per entry
        /// plus 1 MiB.
        package init(maxTotalBytes: Int, maxEntries: Int, maxPathLength: Int = 4096, maxArchiveBytes: Int? = nil) {
            self.maxTotalBytes = maxTotalBytes
            self.maxEntries = maxEntries
            self.maxPathLength = maxPathLength
            let (perEntry, overflow1) = maxEntries.multipliedReportingOverflow(by: 3 * 1024)
            let (withFiles, overflow2) = maxTotalBytes.addingReportingOverflow(perEntry)
            let (derived, overflow3) = withFiles.addingReportingOverflow(1 << 20)
            self.maxArchiveBytes = maxArchiveBytes ?? (overflow1 || overflow2 || overflow3 ? .max : derived)
        }

        /// 1 GiB of files, 100 000 entries, 4096-byte paths.
        package static let standard = Limits(maxTotalBytes: 1 << 30, maxEntries: 100_000)
    }

    package struct Summary: Sendable, Equatable {
        package var files: Int
        /// Directories created, including ones implied by entry paths.
        package var directories: Int
        package var symlinks: Int
        /// The sum of the extracted files' sizes.
        package var totalBytes: Int

        package init(files: Int, directories: Int, symlinks: Int, totalBytes: Int) {
            self.files = files
            self.directories = directories
            self.symlinks = symlinks
            self.totalBytes = totalBytes
        }
    }

    package var limits: Limits
    private static let chunkSize = 256 * 1024

    package init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Extracts the archive file at `archive` into `destination`.
    package func extract(archive: URL, to destination: URL) throws -> Summary {
        let path = archive.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw POSIX.ioError("open", path) }
        defer { close(fd) }
        return try extract(to: destination) { try POSIX.readChunk(fd, upTo: Self.chunkSize, path: path) }
    }

    /// Extracts an in-memory archive into `destination`.
    package func extract(data: Data, to destination: URL) throws -> Summary {
        var offset = data.startIndex
        return try extract(to: destination) {
            let end = min(offset + Self.chunkSize, data.endIndex)
            defer { offset = end }
            return data[offset..<end]
        }
    }

    /// Extracts an archive whose bytes come from `nextChunk`, pulled one piece at a time (pieces
    /// of any size; an empty one means the end). Nothing is buffered beyond the piece in hand, so
    /// a source can stream from a decryptor or a socket without a temporary file.
    ///
    /// `nextChunk` is called until it returns an empty piece, also after the tar's end-of-archive
    /// marker, so a source that checks its own integrity at its end (an encrypted backup's final
    /// frame) has done so before this returns. An error thrown by `nextChunk` is rethrown as it
    /// is, after the destination is removed (or emptied again when it existed), like any other.
    package func extract(to destination: URL, nextChunk: () throws -> Data) throws -> Summary {
        let destinationPath = destination.standardizedFileURL.path
        let existed = try Self.prepare(destinationPath)
        let rootFD = open(destinationPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if rootFD < 0 {
            let error = POSIX.ioError("open", destinationPath)
            if !existed { try? FileManager.default.removeItem(atPath: destinationPath) }
            throw error
        }
        let tree = DestinationTree(rootFD: rootFD)
        let extraction = Extraction(tree: tree, limits: limits)
        do {
            defer {
                extraction.closeCurrent()
                tree.releaseDescriptors()
                close(rootFD)
            }
            var reader = TarReader()
            var first = try nextChunk()
            let decoder = try ArchiveDecoder(format: ArchiveDecoder.detect(first), cap: limits.maxArchiveBytes)
            while !first.isEmpty {
                try decoder.feed(first) { tarBytes in
                    try reader.feed(tarBytes) { event in try extraction.handle(event) }
                }
                first = try nextChunk()
            }
            try decoder.finish()
            try reader.finish()
            return try extraction.complete()
        } catch {
            Self.discard(destinationPath, existed: existed)
            throw error
        }
    }

    /// Creates the destination, or checks that it is an empty real directory. Returns whether it existed.
    private static func prepare(_ path: String) throws -> Bool {
        if let status = try POSIX.lstatus(path) {
            guard status.kind == .directory,
                (try? FileManager.default.contentsOfDirectory(atPath: path).isEmpty) == true
            else { throw ArchiveError.destinationNotEmpty(path: path) }
            return true
        }
        let parent = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw ArchiveError.io(operation: "create directory", path: parent, code: EIO)
        }
        if mkdir(path, 0o755) != 0 { throw POSIX.ioError("create directory", path) }
        return false
    }

    /// Removes a partial extraction: the whole destination if this extraction created it,
    /// otherwise its contents. Symlinks are removed, never followed.
    private static func discard(_ path: String, existed: Bool) {
        let manager = FileManager.default
        guard existed else {
            try? manager.removeItem(atPath: path)
            return
        }
        for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] {
            try? manager.removeItem(atPath: path + "/" + name)
        }
    }
}
