package import Foundation

/// Writes a POSIX ustar archive to a sink, streaming. Paths or link targets longer than 100 bytes,
/// and sizes or times that do not fit the octal fields, go in a PAX ('x') record before the entry.
/// Owners are always uid/gid 0 with empty user/group names. Entry paths are relative: the writer
/// refuses absolute paths, ".." components and NUL bytes.
package final class TarWriter {
    private let sink: (Data) throws -> Void
    private var buffer = Data()
    private var finished = false
    private static let flushThreshold = 64 * 1024
    /// GNU tar's record size: the archive is padded to a multiple of it.
    private static let recordSize = 10 * 1024
    private var bytesWritten = 0

    /// `sink` receives the archive in pieces of roughly 64 KiB, in order.
    package init(sink: @escaping (Data) throws -> Void) {
        self.sink = sink
    }

    package func appendDirectory(path: String, mode: UInt32 = 0o755, modificationTime: Int = 0) throws {
        var name = try Self.validated(path)
        if !name.hasSuffix("/") { name += "/" }
        try writeHeader(kind: .directory, path: name, linkPath: "", mode: mode, size: 0, mtime: modificationTime)
    }

    package func appendSymlink(path: String, target: String, modificationTime: Int = 0) throws {
        let name = try Self.validated(path)
        guard !target.isEmpty, !target.utf8.contains(0) else {
            throw ArchiveError.unsafePath(entry: path, reason: "symlink target is empty or contains NUL")
        }
        try writeHeader(kind: .symlink, path: name, linkPath: target, mode: 0o777, size: 0, mtime: modificationTime)
    }

    package func appendFile(path: String, contents: Data, mode: UInt32 = 0o644, modificationTime: Int = 0) throws {
        try appendFile(path: path, size: contents.count, mode: mode, modificationTime: modificationTime) { write in
            try write(contents)
        }
    }

    /// Appends a regular file of exactly `size` bytes whose content `produce` writes in chunks
    /// through the closure it is given; writing more or fewer bytes throws.
    package func appendFile(
        path: String, size: Int, mode: UInt32 = 0o644, modificationTime: Int = 0,
        contents produce: ((Data) throws -> Void) throws -> Void
    ) throws {
        let name = try Self.validated(path)
        guard size >= 0 else { throw ArchiveError.invalidArgument("file size must not be negative") }
        try writeHeader(kind: .file, path: name, linkPath: "", mode: mode, size: size, mtime: modificationTime)
        var written = 0
        try produce { chunk in
            written += chunk.count
            guard written <= size else {
                throw ArchiveError.invalidArgument("content of \(ArchiveError.quote(path)) exceeds its size \(size)")
            }
            try self.emit(chunk)
        }
        guard written == size else {
            throw ArchiveError.invalidArgument("content of \(ArchiveError.quote(path)) is \(written) bytes, not \(size)")
        }
        try emit(Data(count: Self.padding(size)))
    }

    /// Appends everything under `directory` (not the directory itself), depth-first with names in
    /// byte order, so the same tree always gives the same archive. Regular files, directories and
    /// symlinks keep their permission bits (0o777 mask) and, unless `modificationTime` is given,
    /// their modification times; any other file type throws.
    package func appendTree(at directory: URL, modificationTime: Int? = nil) throws {
        try TreeWalker.walk(directory) { item in
            let mtime = modificationTime ?? item.status.mtime
            let mode = item.status.mode & 0o777
            switch item.status.kind {
            case .directory:
                try appendDirectory(path: item.relativePath, mode: mode, modificationTime: mtime)
            case .symlink:
                try appendSymlink(
                    path: item.relativePath, target: try POSIX.readLink(item.absolutePath), modificationTime: mtime)
            case .regular:
                try TreeWalker.readFile(item.absolutePath, expectedSize: item.status.size) { produce in
                    try appendFile(
                        path: item.relativePath, size: item.status.size, mode: mode, modificationTime: mtime,
                        contents: produce)
                }
            case .other:
                throw ArchiveError.unsupportedEntry(entry: item.relativePath, type: "special file")
            }
        }
    }

    /// Writes the end-of-archive marker (two zero blocks, padded to a 10 KiB record) and flushes.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        let end = bytesWritten + buffer.count + 2 * TarHeader.blockSize
        let padded = (end + Self.recordSize - 1) / Self.recordSize * Self.recordSize
        buffer.append(Data(count: padded - bytesWritten - buffer.count))
        try flush()
    }

    /// Archives a directory tree (see `appendTree`) into memory.
    package static func archive(directory: URL, modificationTime: Int? = nil) throws -> Data {
        var output = Data()
        let writer = TarWriter { output.append($0) }
        try writer.appendTree(at: directory, modificationTime: modificationTime)
        try writer.finish()
        return output
    }

    // MARK: - Internals

    private func writeHeader(kind: TarEntry.Kind, path: String, linkPath: String, mode: UInt32, size: Int, mtime: Int)
        throws
    {
        guard !finished else { throw ArchiveError.invalidArgument("the archive is already finished") }
        var name = Array(path.utf8)
        var link = Array(linkPath.utf8)
        var pax: [(key: String, value: String)] = []
        if name.count > 100 {
            pax.append(("path", path))
            name = Self.truncated(name)
        }
        if link.count > 100 {
            pax.append(("linkpath", linkPath))
            link = Self.truncated(link)
        }
        var fieldSize = size
        if size > TarHeader.maxOctal11 {
            pax.append(("size", String(size)))
            fieldSize = 0
        }
        var fieldTime = mtime
        if mtime < 0 || mtime > TarHeader.maxOctal11 {
            pax.append(("mtime", String(mtime)))
            fieldTime = min(max(mtime, 0), TarHeader.maxOctal11)
        }
        if !pax.isEmpty {
            let records = PaxRecords.encode(pax)
            let base = path.split(separator: "/").last.map(String.init) ?? "entry"
            let paxName = Self.truncated(Array("PaxHeaders/\(base)".utf8))
            try emit(
                Data(
                    TarHeader.encode(
                        typeFlag: UInt8(ascii: "x"), name: paxName, linkName: [], mode: 0o644, size: records.count,
                        mtime: fieldTime)))
            try emit(Data(records) + Data(count: Self.padding(records.count)))
        }
        try emit(
            Data(
                TarHeader.encode(
                    typeFlag: kind.typeFlag, name: name, linkName: link, mode: mode, size: fieldSize, mtime: fieldTime)))
    }

    private func emit(_ data: Data) throws {
        buffer.append(data)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer = Data()
        bytesWritten += chunk.count
        try sink(chunk)
    }

    private static func padding(_ size: Int) -> Int {
        (TarHeader.blockSize - size % TarHeader.blockSize) % TarHeader.blockSize
    }

    /// The first 100 bytes, cut back to a UTF-8 character boundary.
    private static func truncated(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 100 else { return bytes }
        var end = 100
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[0..<end])
    }

    /// Refuses empty, absolute, NUL-containing paths and ".." components.
    private static func validated(_ path: String) throws -> String {
        guard !path.isEmpty else { throw ArchiveError.unsafePath(entry: path, reason: "empty path") }
        guard !path.utf8.contains(0) else { throw ArchiveError.unsafePath(entry: path, reason: "path contains NUL") }
        guard !path.hasPrefix("/") else { throw ArchiveError.unsafePath(entry: path, reason: "absolute path") }
        guard !path.split(separator: "/").contains("..") else {
            throw ArchiveError.unsafePath(entry: path, reason: "path has a '..' component")
        }
        return path
    }
}
