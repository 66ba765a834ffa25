#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMArchive


import CHOMCore
import Crypto
import Foundation

/// Appends a backup's entries to a `TarWriter` and builds the manifest from the same bytes:
/// every file is read once, in 1 MiB chunks that go both to the archive and to its SHA-256.
/// Symlinks are archived as symlinks and never followed.
final class BackupArchiveBuilder {
    private let tar: TarWriter
    /// Stamped on entries that have no file of their own (parent directories of prefixes, records).
    private let syntheticTime: Int
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: BackupFileIO.chunkSize, alignment: 16)
    private var directories: Set<String> = []
    private(set) var entries: [BackupManifest.Entry] = []
    private(set) var fileCount = 0
    private(set) var fileBytes: UInt64 = 0
    private(set) var skippedPaths: [String] = []

    init(tar: TarWriter, syntheticTime: Int) {
        self.tar = tar
        self.syntheticTime = syntheticTime
    }

    deinit { buffer.deallocate() }

    /// Archives the tree of `source` under its prefix, the prefix's directories included.
    func addTree(_ source: BackupSource) throws {
        let root = source.directory.path
        var st = Glibc.stat()
        guard stat(root, &st) == 0 else { throw BackupFileIO.failure(errno, "stat", root) }
        try addDirectories(source.prefix, leafMode: UInt32(st.st_mode) & 0o7777, leafTime: Self.mtime(st))
        try ManifestTreeWalker.walk(source.directory) { node throws(CHOMError) in
            do {
                try self.visit(node, prefix: source.prefix, owner: source.owner)
            } catch {
                throw BackupErrors.wrap(error, "archiving \(BackupManifest.quote(source.prefix + "/" + node.displayPath))")
            }
        }
    }

    /// Archives one regular file (e.g. the database dump) at `path`, its parents included.
    func addFile(at url: URL, as path: String, mode: UInt32 = 0o600) throws {
        if let slash = path.lastIndex(of: "/") { try addDirectories(String(path[..<slash]), leafMode: 0o700) }
        let (fd, st) = try BackupFileIO.openRegularFile(url.path)
        defer { close(fd) }
        try appendContent(fd, path: path, size: Int(st.st_size), mode: mode, mtime: Self.mtime(st))
    }

    /// Archives a record that is not part of the manifest (the layout and the manifest themselves).
    func addRecord(_ contents: Data, as path: String) throws {
        try tar.appendFile(path: path, contents: contents, mode: 0o600, modificationTime: syntheticTime)
    }

    private func visit(_ node: ManifestTreeWalker.Node, prefix: String, owner: UInt32?) throws {
        guard let relative = node.path else {
            throw CHOMError(.refused, "\(BackupManifest.quote(node.displayPath)) has a name that is not UTF-8")
        }
        let path = prefix + "/" + relative
        switch node.kind {
        case .directory:
            let st = try Self.lstat(node)
            try tar.appendDirectory(path: path, mode: node.mode, modificationTime: Self.mtime(st))
            directories.insert(path)
            entries.append(.directory(path, mode: node.mode))
        case .symlink:
            let st = try Self.lstat(node)
            guard let target = String(validating: try ManifestTreeWalker.linkTarget(of: node), as: UTF8.self) else {
                throw CHOMError(.refused, "\(BackupManifest.quote(path)) is a symlink whose target is not UTF-8")
            }
            try tar.appendSymlink(path: path, target: target, modificationTime: Self.mtime(st))
            entries.append(.symlink(path, target: target, mode: node.mode))
        case .file:
            let fd = Self.withCString(node.name) { openat(node.directory, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
            guard fd >= 0 else { throw BackupFileIO.failure(errno, "open", path) }
            defer { close(fd) }
            var st = Glibc.stat()
            guard fstat(fd, &st) == 0 else { throw BackupFileIO.failure(errno, "fstat", path) }
            guard UInt32(st.st_mode) & UInt32(Glibc.S_IFMT) == UInt32(Glibc.S_IFREG) else {
                throw CHOMError(.conflict, "\(BackupManifest.quote(path)) was replaced while being backed up")
            }
            if let owner, st.st_uid != owner {
                // Only a hard link to someone else's file gets here: never read it into a tenant's backup.
                throw CHOMError(.refused, "\(BackupManifest.quote(path)) belongs to uid \(st.st_uid), not to the site's user (a hard link?)")
            }
            try appendContent(fd, path: path, size: Int(st.st_size), mode: node.mode, mtime: Self.mtime(st))
        case nil:
            skippedPaths.append(path)
        }
    }

    /// Streams `size` bytes of `fd` into the archive and the file's digest. A file that grows
    /// meanwhile is archived up to `size`; one that shrinks fails the backup.
    private func appendContent(_ fd: Int32, path: String, size: Int, mode: UInt32, mtime: Int) throws {
        var hasher = SHA256()
        try tar.appendFile(path: path, size: size, mode: mode, modificationTime: mtime) { write in
            var remaining = size
            while remaining > 0 {
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(remaining, buffer.count)])
                let count = try BackupFileIO.readSome(fd, into: piece, path: path)
                guard count > 0 else {
                    throw CHOMError(.conflict, "\(BackupManifest.quote(path)) shrank while being backed up")
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hasher.update(bufferPointer: chunk)
                try write(Data(chunk))
                remaining -= count
            }
        }
        entries.append(.file(path, size: UInt64(size), mode: mode, sha256: Hex.encode(hasher.finalize())))
        fileCount += 1
        fileBytes += UInt64(size)
    }

    /// Adds `path` and each of its missing ancestors as directories.
    private func addDirectories(_ path: String, leafMode: UInt32, leafTime: Int? = nil) throws {
        let components = path.split(separator: "/").map(String.init)
        for depth in 1...components.count {
            let directory = components[0..<depth].joined(separator: "/")
            guard directories.insert(directory).inserted else { continue }
            let isLeaf = depth == components.count
            let mode = isLeaf ? leafMode : 0o755
            try tar.appendDirectory(
                path: directory, mode: mode, modificationTime: isLeaf ? leafTime ?? syntheticTime : syntheticTime)
            entries.append(.directory(directory, mode: mode))
        }
    }

    private static func lstat(_ node: ManifestTreeWalker.Node) throws(CHOMError) -> Glibc.stat {
        var st = Glibc.stat()
        let result = withCString(node.name) { fstatat(node.directory, $0, &st, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw BackupFileIO.failure(errno, "fstatat", node.displayPath) }
        return st
    }

    private static func mtime(_ st: Glibc.stat) -> Int {
        #if canImport(Darwin)
        Int(st.st_mtimespec.tv_sec)
        #else
        Int(st.st_mtim.tv_sec)
        #endif
    }

    private static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count, body)
        }
    }
}
