package import CHOMCore
package import CHOMSiteFiles

/// Paths that outlive releases (uploads, `storage/`, `.env`): they live once under
/// `<site>/shared/` and every release gets a symlink to them.
///
/// For each configured path: when `shared/<path>` does not exist yet it is seeded from the new
/// release's copy, or created empty (a directory when the path ends in `/`, else an empty file);
/// then the release's own copy is removed and replaced by a relative symlink into `shared/`.
/// Paths are validated by ``HostedSite`` (relative, no `..`).
///
/// `shared/` is the site user's to write, so every step here is a descriptor operation of
/// ``SiteDirectory``: parents are entered with `O_NOFOLLOW` (a symlink the tenant put in place of
/// `shared/storage` fails the deploy instead of being followed), new entries are created with
/// `O_EXCL` by the site user's file-system identity (never root's, even for a moment, in the
/// tenant's directory), seeded trees are re-owned without following links before they move in.
package enum SharedPaths {
    package static func link(
        _ paths: [String], release: SiteDirectory, shared: SiteDirectory, owner: (uid: UInt32, gid: UInt32)?
    ) throws(CHOMError) -> [String] {
        var linked: [String] = []
        for raw in paths {
            let isDirectory = raw.hasSuffix("/")
            let path = isDirectory ? String(raw.dropLast()) : raw
            let components = try SiteDirectory.components(path)
            let name = components[components.count - 1]
            let parents = components.dropLast().joined(separator: "/")
            // A git checkout's staging directory is the site user's: what root makes there is made as it.
            let releaseParent = parents.isEmpty ? release : try release.makeDirectories(parents, owner: owner)
            let sharedParent = parents.isEmpty ? shared : try shared.makeDirectories(parents, owner: owner)
            if try sharedParent.status(name) == nil {
                if let kind = try releaseParent.status(name), kind == .file || kind == .directory {
                    // Handed over before it moves: in shared/ a root-owned entry could be renamed
                    // aside by the tenant before its chown and stay root's.
                    if let owner {
                        if kind == .directory {
                            try releaseParent.openDirectory(name).chownTree(uid: owner.uid, gid: owner.gid)
                        } else {
                            try releaseParent.setEntryOwner(name, uid: owner.uid, gid: owner.gid)
                        }
                    }
                    try releaseParent.rename(name, to: name, in: sharedParent)
                } else if isDirectory {
                    _ = try sharedParent.makeDirectories(name, owner: owner)
                } else {
                    let fd = try sharedParent.createFile(name, mode: 0o640, owner: owner)
                    _ = fd >= 0 ? close(fd) : 0
                }
            }
            if try releaseParent.status(name) != nil { try releaseParent.removeTree(name) }
            // From <site>/releases/<id>/<path> up to <site>: one level per component plus two.
            let target = String(repeating: "../", count: components.count + 1) + "shared/" + path
            try releaseParent.makeSymlink(name, to: target, owner: owner)
            linked.append(raw)
        }
        return linked
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
