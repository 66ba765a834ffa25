package import CHOMCore

extension BackupManifest {
    /// One path of the backed-up tree. Files carry their size and SHA-256, symlinks their target
    /// (never followed); directories and symlinks have size 0.
    package struct Entry: Sendable, Equatable, Codable {
        package enum Kind: String, Sendable, Codable, CaseIterable {
            case file
            case directory
            case symlink
        }

        /// Relative to the tree's root, `/`-separated, without `.`, `..` or empty components.
        package var path: String
        package var kind: Kind
        package var size: UInt64
        /// Permission bits (`st_mode & 0o7777`).
        package var mode: UInt32
        /// Lowercase hex; files only.
        package var sha256: String?
        /// Symlinks only.
        package var linkTarget: String?

        package init(
            path: String, kind: Kind, size: UInt64 = 0, mode: UInt32, sha256: String? = nil, linkTarget: String? = nil
        ) {
            self.path = path
            self.kind = kind
            self.size = size
            self.mode = mode
            self.sha256 = sha256
            self.linkTarget = linkTarget
        }

        package static func file(_ path: String, size: UInt64, mode: UInt32 = 0o644, sha256: String) -> Entry {
            Entry(path: path, kind: .file, size: size, mode: mode, sha256: sha256)
        }

        package static func directory(_ path: String, mode: UInt32 = 0o755) -> Entry {
            Entry(path: path, kind: .directory, mode: mode)
        }

        package static func symlink(_ path: String, target: String, mode: UInt32 = 0o777) -> Entry {
            Entry(path: path, kind: .symlink, mode: mode, linkTarget: target)
        }

        enum CodingKeys: String, CodingKey {
            case path, kind, size, mode, sha256
            case linkTarget = "link_target"
        }

        /// Throws unless the path is safe and the fields fit the kind.
        func validate() throws(CHOMError) {
            try Self.validateRelativePath(path)
            guard mode <= 0o7777 else { throw invalid("has mode bits outside 0o7777") }
            switch kind {
            case .file:
                guard let sha256, BackupHex.isSHA256(sha256) else { throw invalid("needs a lowercase hex SHA-256") }
                guard linkTarget == nil else { throw invalid("is a file with a link target") }
            case .directory:
                guard size == 0, sha256 == nil, linkTarget == nil else {
                    throw invalid("is a directory with a size, digest or link target")
                }
            case .symlink:
                guard let linkTarget, !linkTarget.isEmpty, !linkTarget.utf8.contains(0) else {
                    throw invalid("is a symlink without a usable target")
                }
                guard size == 0, sha256 == nil else { throw invalid("is a symlink with a size or digest") }
            }
        }

        private func invalid(_ reason: String) -> CHOMError {
            CHOMError(.invalidInput, "manifest entry \(BackupManifest.quote(path)) \(reason)")
        }

        /// A manifest path is relative and stays inside the tree: not empty, no leading `/`, no NUL,
        /// and every `/`-separated component is neither empty, `.` nor `..`.
        package static func validateRelativePath(_ path: String) throws(CHOMError) {
            let quoted = BackupManifest.quote(path)
            guard !path.isEmpty, path.utf8.count <= 4096 else {
                throw CHOMError(.refused, "manifest path \(quoted) is empty or too long")
            }
            guard !path.hasPrefix("/") else { throw CHOMError(.refused, "manifest path \(quoted) is absolute") }
            guard !path.utf8.contains(0) else { throw CHOMError(.refused, "manifest path \(quoted) holds a NUL byte") }
            for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
                if component.isEmpty { throw CHOMError(.refused, "manifest path \(quoted) has an empty component") }
                if component.elementsEqual(".".utf8) || component.elementsEqual("..".utf8) {
                    throw CHOMError(.refused, "manifest path \(quoted) has a '.' or '..' component")
                }
            }
        }
    }
}
