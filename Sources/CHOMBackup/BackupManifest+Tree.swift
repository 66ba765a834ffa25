#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
package import CHOMCore
package import Foundation

extension BackupManifest {
    /// The manifest of a directory tree: every file hashed in 1 MiB chunks, symlinks recorded and
    /// never followed. A name that is not UTF-8, a device, FIFO or socket is refused.
    package static func build(from tree: URL) throws(CHOMError) -> BackupManifest {
        var entries: [Entry] = []
        try ManifestTreeWalker.walk(tree) { node throws(CHOMError) in
            guard let path = node.path else {
                throw CHOMError(.refused, "\(quote(node.displayPath)) has a name that is not UTF-8")
            }
            switch node.kind {
            case .file:
                let digest = try ManifestTreeWalker.digest(of: node)
                entries.append(.file(path, size: digest.size, mode: node.mode, sha256: digest.sha256))
            case .directory:
                entries.append(.directory(path, mode: node.mode))
            case .symlink:
                guard let target = String(validating: try ManifestTreeWalker.linkTarget(of: node), as: UTF8.self) else {
                    throw CHOMError(.refused, "\(quote(path)) is a symlink whose target is not UTF-8")
                }
                entries.append(.symlink(path, target: target, mode: node.mode))
            case nil:
                throw CHOMError(.refused, "\(quote(path)) is a device, FIFO or socket")
            }
        }
        return try BackupManifest(entries: entries)
    }

    /// Compares an extracted tree with the manifest without following symlinks: missing and extra
    /// paths, changed kinds, sizes, file digests and link targets, sorted by path. Empty means
    /// identical (modes are not compared). Throws only when the tree cannot be read.
    package func verify(extractedTree: URL) throws(CHOMError) -> [ManifestMismatch] {
        var expected: [[UInt8]: Entry] = [:]
        for entry in entries { expected[Array(entry.path.utf8)] = entry }
        var found: Set<[UInt8]> = []
        var mismatches: [ManifestMismatch] = []
        try ManifestTreeWalker.walk(extractedTree) { node throws(CHOMError) in
            guard let entry = expected[node.pathBytes] else {
                mismatches.append(.extra(path: node.displayPath))
                return
            }
            found.insert(node.pathBytes)
            guard node.kind == entry.kind else {
                mismatches.append(.changedKind(path: entry.path, expected: entry.kind, found: node.kind))
                return
            }
            if let mismatch = try Self.compareContent(of: node, with: entry) { mismatches.append(mismatch) }
        }
        for entry in entries where !found.contains(Array(entry.path.utf8)) {
            mismatches.append(.missing(path: entry.path, expected: entry.kind))
        }
        return mismatches.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    private static func compareContent(
        of node: ManifestTreeWalker.Node, with entry: Entry
    ) throws(CHOMError) -> ManifestMismatch? {
        switch entry.kind {
        case .directory:
            return nil
        case .file:
            guard node.size == entry.size else {
                return .changedSize(path: entry.path, expected: entry.size, found: node.size)
            }
            let digest = try ManifestTreeWalker.digest(of: node)
            if digest.size != entry.size {  // changed while being read
                return .changedSize(path: entry.path, expected: entry.size, found: digest.size)
            }
            let expected = entry.sha256 ?? ""
            return digest.sha256 == expected
                ? nil : .changedHash(path: entry.path, expected: expected, found: digest.sha256)
        case .symlink:
            let target = try ManifestTreeWalker.linkTarget(of: node)
            let expected = entry.linkTarget ?? ""
            return target.elementsEqual(expected.utf8)
                ? nil
                : .changedLinkTarget(
                    path: entry.path, expected: expected, found: String(decoding: target, as: UTF8.self))
        }
    }
}

extension BackupManifest.Archive {
    /// The digest and length of an archive file, read in 1 MiB chunks, never through a final symlink.
    package init(digestingFileAt url: URL) throws(CHOMError) {
        let digest = try ManifestTreeWalker.digest(
            directory: AT_FDCWD, name: Array(url.path.utf8), displayPath: url.path)
        self.init(sha256: digest.sha256, byteCount: digest.size)
    }
}
