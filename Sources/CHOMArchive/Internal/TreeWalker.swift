#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Deterministic depth-first walk of a directory tree for `TarWriter.appendTree`: names in byte
/// order, lstat only (symlinks are reported, never followed).
enum TreeWalker {
    struct Item {
        var relativePath: String
        var absolutePath: String
        var status: POSIX.Status
    }

    static func walk(_ root: URL, _ visit: (Item) throws -> Void) throws {
        let rootPath = root.standardizedFileURL.path
        // The root itself may be a symlink to a directory (e.g. `public -> build/site`); nothing below it is followed.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ArchiveError.invalidArgument("\(ArchiveError.quote(rootPath)) is not a directory")
        }
        try walk(absolute: rootPath, relative: "", visit)
    }

    private static func walk(absolute: String, relative: String, _ visit: (Item) throws -> Void) throws {
        for name in try POSIX.sortedNames(inDirectory: absolute) {
            let childAbsolute = absolute.hasSuffix("/") ? absolute + name : absolute + "/" + name
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            guard let status = try POSIX.lstatus(childAbsolute) else { continue }  // vanished meanwhile
            try visit(Item(relativePath: childRelative, absolutePath: childAbsolute, status: status))
            if status.kind == .directory {
                try walk(absolute: childAbsolute, relative: childRelative, visit)
            }
        }
    }

    /// Opens a regular file (never through a symlink) and hands `body` a producer that writes its
    /// `expectedSize` bytes in chunks; throws if the file is shorter than expected by then.
    static func readFile(
        _ path: String, expectedSize: Int,
        _ body: (_ produce: ((Data) throws -> Void) throws -> Void) throws -> Void
    ) throws {
        let fd = try POSIX.openForReading(path)
        defer { close(fd) }
        try body { write in
            var remaining = expectedSize
            while remaining > 0 {
                let chunk = try POSIX.readChunk(fd, upTo: min(remaining, 256 * 1024), path: path)
                if chunk.isEmpty {
                    throw ArchiveError.invalidArgument("\(ArchiveError.quote(path)) shrank while being archived")
                }
                remaining -= chunk.count
                try write(chunk)
            }
        }
    }
}
