#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMCore
package import Foundation
import NIOPosix

/// Backups in a directory of the VPS. A key is a relative path under `root` (validated by
/// `BackupTargetKey`, so no key leaves it). `put` copies to a hidden temporary file beside the
/// final name, fsyncs it, renames it into place and fsyncs the directory, so an object is either
/// absent or complete even across a crash. File work runs on NIO's blocking thread pool.
package struct LocalDirectoryTarget: BackupTarget {
    package let root: URL

    package init(root: URL) {
        self.root = root
    }

    package func put(file: URL, key: String) async throws {
        try BackupTargetKey.validate(key)
        let destination = url(for: key)
        try await blocking {
            let directory = destination.deletingLastPathComponent()
            try Self.makeDirectory(directory)
            let temporary = directory.appendingPathComponent(
                BackupTargetKey.partialFilePrefix + UUID().uuidString.lowercased()).path
            do {
                try BackupFileIO.copyFile(from: file.path, to: temporary)
                try BackupFileIO.moveDurably(temporary, to: destination.path)
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    package func get(key: String, to output: URL) async throws {
        try BackupTargetKey.validate(key)
        let source = url(for: key).path
        try await blocking {
            guard access(source, F_OK) == 0 else {
                throw CHOMError(.notFound, "no backup object \(BackupManifest.quote(key)) in the local target")
            }
            let temporary = output.deletingLastPathComponent().appendingPathComponent(
                BackupTargetKey.partialFilePrefix + UUID().uuidString.lowercased()).path
            do {
                try BackupFileIO.copyFile(from: source, to: temporary)
                // link(2) refuses an existing `output`, unlike rename(2).
                guard link(temporary, output.path) == 0 else { throw BackupFileIO.failure(errno, "create", output.path) }
                unlink(temporary)
                try BackupFileIO.fsyncDirectory(output.deletingLastPathComponent().path)
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    package func delete(key: String) async throws {
        try BackupTargetKey.validate(key)
        let path = url(for: key).path
        try await blocking {
            guard unlink(path) == 0 || errno == ENOENT else { throw BackupFileIO.failure(errno, "unlink", path) }
        }
    }

    package func list(prefix: String) async throws -> [BackupObject] {
        try BackupTargetKey.validate(prefix: prefix)
        // Only the directory named by the prefix's complete components needs walking.
        let directoryKey = prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            .joined(separator: "/")
        let start = directoryKey.isEmpty ? root : url(for: directoryKey)
        return try await blocking {
            var objects: [BackupObject] = []
            try Self.walk(start, key: directoryKey) { key, size in
                if key.hasPrefix(prefix) { objects.append(BackupObject(key: key, size: UInt64(max(0, size)))) }
            }
            return objects.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
    }

    private func url(for key: String) -> URL {
        root.appendingPathComponent(key, isDirectory: false)
    }

    /// Regular files under `directory`, recursively, never following symlinks; temporary files skipped.
    private static func walk(_ directory: URL, key: String, _ found: (String, Int64) -> Void) throws(CHOMError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return
        } catch {
            throw CHOMError(.unavailable, "cannot list \(BackupManifest.quote(directory.path))", underlying: error)
        }
        for name in names where !name.hasPrefix(BackupTargetKey.partialFilePrefix) {
            let child = directory.appendingPathComponent(name)
            let childKey = key.isEmpty ? name : key + "/" + name
            var st = stat()
            guard lstat(child.path, &st) == 0 else { continue }  // removed meanwhile
            switch UInt32(st.st_mode) & UInt32(S_IFMT) {
            case UInt32(S_IFREG): found(childKey, Int64(st.st_size))
            case UInt32(S_IFDIR): try walk(child, key: childKey, found)
            default: continue
            }
        }
    }

    private static func makeDirectory(_ directory: URL) throws(CHOMError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CHOMError(.unavailable, "cannot create \(BackupManifest.quote(directory.path))", underlying: error)
        }
    }

    private func blocking<R: Sendable>(_ work: @escaping @Sendable () throws -> R) async throws -> R {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
