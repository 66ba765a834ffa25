package import Foundation

/// Paths that outlive releases (uploads, `storage/`, `.env`): they live once under
/// `<site>/shared/` and every release gets a symlink to them.
///
/// For each configured path: when `shared/<path>` does not exist yet it is seeded from the new
/// release's copy, or created empty (a directory when the path ends in `/`, else an empty file);
/// then the release's own copy is removed and replaced by a relative symlink into `shared/`.
/// Paths are validated by ``HostedSite`` (relative, no `..`); a parent in the release that is a
/// symlink is refused, so a link can never be placed outside the release.
package enum SharedPaths {
    package static func link(_ paths: [String], release: URL, shared: URL) throws -> [String] {
        let manager = FileManager.default
        var linked: [String] = []
        for raw in paths {
            let isDirectory = raw.hasSuffix("/")
            let path = isDirectory ? String(raw.dropLast()) : raw
            let inRelease = release.appendingPathComponent(path)
            let inShared = shared.appendingPathComponent(path)
            try refuseSymlinkedParents(of: path, under: release)
            try refuseSymlinkedParents(of: path, under: shared)
            try manager.createDirectory(at: inShared.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createDirectory(at: inRelease.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !manager.fileExists(atPath: inShared.path) {
                if FileStatus.exists(inRelease.path), !FileStatus.isSymlink(inRelease.path) {
                    try manager.moveItem(at: inRelease, to: inShared)
                } else if isDirectory {
                    try manager.createDirectory(at: inShared, withIntermediateDirectories: true)
                } else {
                    guard manager.createFile(atPath: inShared.path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: inShared.path])
                    }
                }
            }
            if FileStatus.exists(inRelease.path) { try manager.removeItem(at: inRelease) }
            let depth = path.split(separator: "/").count
            // From <site>/releases/<id>/<path> up to <site>: one level per component plus two.
            let target = String(repeating: "../", count: depth + 1) + "shared/" + path
            try manager.createSymbolicLink(atPath: inRelease.path, withDestinationPath: target)
            linked.append(raw)
        }
        return linked
    }

    private static func refuseSymlinkedParents(of path: String, under root: URL) throws {
        var current = root
        for component in path.split(separator: "/").dropLast() {
            current.appendPathComponent(String(component))
            if FileStatus.isSymlink(current.path) {
                throw CocoaError(.fileWriteNoPermission, userInfo: [
                    NSLocalizedDescriptionKey: "\(current.path) is a symlink; shared path \(path) cannot go through it",
                ])
            }
        }
    }
}
