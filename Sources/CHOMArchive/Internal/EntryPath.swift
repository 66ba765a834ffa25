/// Lexical rules for entry paths and symlink targets during extraction.
enum EntryPath {
    /// The path's components with "" and "." dropped. Refuses NUL bytes, absolute paths and any
    /// ".." component. An empty result names the destination root itself (e.g. "./").
    static func components(of path: String) throws -> [String] {
        guard !path.isEmpty else { throw ArchiveError.unsafePath(entry: path, reason: "empty path") }
        guard !path.utf8.contains(0) else { throw ArchiveError.unsafePath(entry: path, reason: "path contains NUL") }
        guard !path.hasPrefix("/") else { throw ArchiveError.unsafePath(entry: path, reason: "absolute path") }
        var result: [String] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { throw ArchiveError.unsafePath(entry: path, reason: "path has a '..' component") }
            result.append(String(component))
        }
        return result
    }

    /// Refuses a symlink target unless it provably stays inside the destination: it must be
    /// relative, and its ".." components may only lead (climbing through the link's own parent
    /// directories, which extraction guarantees are real directories) and never above the root.
    /// A ".." after a name is refused, since that name could itself be a symlink.
    static func checkSymlinkTarget(_ target: String, linkParent: [String], entry: String) throws {
        guard !target.isEmpty else { throw ArchiveError.unsafePath(entry: entry, reason: "empty symlink target") }
        guard !target.utf8.contains(0) else {
            throw ArchiveError.unsafePath(entry: entry, reason: "symlink target contains NUL")
        }
        guard !target.hasPrefix("/") else {
            throw ArchiveError.unsafePath(entry: entry, reason: "symlink target \(ArchiveError.quote(target)) is absolute")
        }
        var depth = linkParent.count
        var sawName = false
        for component in target.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                if sawName {
                    throw ArchiveError.unsafePath(
                        entry: entry, reason: "symlink target \(ArchiveError.quote(target)) has '..' after a name")
                }
                depth -= 1
                if depth < 0 {
                    throw ArchiveError.unsafePath(
                        entry: entry,
                        reason: "symlink target \(ArchiveError.quote(target)) points outside the destination")
                }
            default:
                sawName = true
            }
        }
    }
}
