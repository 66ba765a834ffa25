#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMCore
import Crypto
import Foundation

/// A depth-first walk of a tree for the manifest: names in byte order, every step relative to an
/// open directory descriptor with `O_NOFOLLOW`, so a symlink (or one swapped in meanwhile) is
/// reported and never followed. The root itself must not be a symlink (pass the directory).
enum ManifestTreeWalker {
    struct Node {
        /// The relative path's bytes, as on disk.
        var pathBytes: [UInt8]
        var kind: BackupManifest.Entry.Kind?  // nil: a device, FIFO or socket
        var size: UInt64
        var mode: UInt32
        /// The parent directory and the name in it; valid only during the visit.
        var directory: Int32
        var name: [UInt8]

        /// The path if it is valid UTF-8.
        var path: String? { String(validating: pathBytes, as: UTF8.self) }
        /// The path for messages, invalid bytes replaced.
        var displayPath: String { String(decoding: pathBytes, as: UTF8.self) }
    }

    /// Deeper trees are refused rather than holding one descriptor per level without bound.
    static let maximumDepth = 256
    /// Files are hashed in chunks of this size, whatever their length.
    static let chunkSize = 1024 * 1024

    static func walk(_ root: URL, _ visit: (Node) throws(CHOMError) -> Void) throws(CHOMError) {
        let rootPath = root.path
        let fd = open(rootPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno, "open", rootPath) }
        defer { close(fd) }
        try walk(directory: fd, prefix: [], depth: 1, visit)
    }

    private static func walk(
        directory: Int32, prefix: [UInt8], depth: Int, _ visit: (Node) throws(CHOMError) -> Void
    ) throws(CHOMError) {
        for name in try names(in: directory, path: prefix) {
            let pathBytes = prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
            var st = stat()
            guard withCString(name, { fstatat(directory, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                if errno == ENOENT { continue }  // removed meanwhile
                throw failure(errno, "fstatat", String(decoding: pathBytes, as: UTF8.self))
            }
            let node = Node(
                pathBytes: pathBytes, kind: kind(of: st), size: UInt64(max(0, st.st_size)),
                mode: UInt32(st.st_mode) & 0o7777, directory: directory, name: name)
            try visit(node)
            guard node.kind == .directory else { continue }
            guard depth < maximumDepth else {
                throw CHOMError(.refused, "the tree is deeper than \(maximumDepth) levels at \(node.displayPath)")
            }
            let child = withCString(name) { openat(directory, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard child >= 0 else { throw failure(errno, "open", node.displayPath) }
            defer { close(child) }
            try walk(directory: child, prefix: pathBytes, depth: depth + 1, visit)
        }
    }

    /// SHA-256 (lowercase hex) and length of a regular file, read in 1 MiB chunks; a symlink or
    /// anything but a regular file at the name is refused.
    static func digest(of node: Node) throws(CHOMError) -> (sha256: String, size: UInt64) {
        try digest(directory: node.directory, name: node.name, displayPath: node.displayPath)
    }

    static func digest(directory: Int32, name: [UInt8], displayPath: String) throws(CHOMError) -> (
        sha256: String, size: UInt64
    ) {
        let fd = withCString(name) { openat(directory, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { throw failure(errno, "open", displayPath) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno, "fstat", displayPath) }
        guard kind(of: st) == .file else { throw CHOMError(.refused, "\(displayPath) is not a regular file") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var total: UInt64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno, "read", displayPath)
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += UInt64(count)
        }
        return (Hex.encode(hasher.finalize()), total)
    }

    /// The raw bytes of a symlink's target.
    static func linkTarget(of node: Node) throws(CHOMError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = withCString(node.name) { name in
            buffer.withUnsafeMutableBufferPointer { out in
                out.baseAddress!.withMemoryRebound(to: CChar.self, capacity: out.count) {
                    readlinkat(node.directory, name, $0, out.count - 1)
                }
            }
        }
        guard count >= 0 else { throw failure(errno, "readlink", node.displayPath) }
        return Array(buffer[0..<count])
    }

    private static func kind(of st: stat) -> BackupManifest.Entry.Kind? {
        switch UInt32(st.st_mode) & UInt32(S_IFMT) {
        case UInt32(S_IFREG): .file
        case UInt32(S_IFDIR): .directory
        case UInt32(S_IFLNK): .symlink
        default: nil
        }
    }

    /// The names in a directory, without `.` and `..`, sorted by their bytes.
    private static func names(in directory: Int32, path: [UInt8]) throws(CHOMError) -> [[UInt8]] {
        // fdopendir takes over the descriptor it is given; a duplicate keeps `directory` open.
        let duplicate = dup(directory)
        guard duplicate >= 0, let stream = fdopendir(duplicate) else {
            let code = errno
            if duplicate >= 0 { close(duplicate) }
            throw failure(code, "opendir", String(decoding: path, as: UTF8.self))
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw failure(errno, "readdir", String(decoding: path, as: UTF8.self)) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    private static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count, body)
        }
    }

    /// `code` comes first so that errno is read before the other arguments are built.
    static func failure(_ code: Int32, _ operation: String, _ path: String) -> CHOMError {
        let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return CHOMError(
            .unavailable, "\(operation) \(BackupManifest.quote(path)) failed: \(reason)",
            underlying: POSIXErrorCode(rawValue: code).map { POSIXError($0) })
    }
}
