/// One way an extracted tree differs from its backup manifest.
package enum ManifestMismatch: Sendable, Equatable, CustomStringConvertible {
    /// In the manifest, absent from the tree.
    case missing(path: String, expected: BackupManifest.Entry.Kind)
    /// In the tree, not in the manifest (a name that is not UTF-8 is shown with replacement characters).
    case extra(path: String)
    /// `found` is nil for a device, FIFO or socket.
    case changedKind(path: String, expected: BackupManifest.Entry.Kind, found: BackupManifest.Entry.Kind?)
    /// A file of another length; its content is not hashed then.
    case changedSize(path: String, expected: UInt64, found: UInt64)
    case changedHash(path: String, expected: String, found: String)
    case changedLinkTarget(path: String, expected: String, found: String)

    package var path: String {
        switch self {
        case .missing(let path, _), .extra(let path), .changedKind(let path, _, _), .changedSize(let path, _, _),
            .changedHash(let path, _, _), .changedLinkTarget(let path, _, _):
            path
        }
    }

    package var description: String {
        let quoted = BackupManifest.quote(path)
        switch self {
        case .missing(_, let expected):
            return "\(quoted): missing (\(expected.rawValue) expected)"
        case .extra:
            return "\(quoted): not in the manifest"
        case .changedKind(_, let expected, let found):
            return "\(quoted): \(found?.rawValue ?? "special file") where a \(expected.rawValue) was expected"
        case .changedSize(_, let expected, let found):
            return "\(quoted): \(found) bytes where \(expected) were expected"
        case .changedHash(_, let expected, let found):
            return "\(quoted): SHA-256 \(found) where \(expected) was expected"
        case .changedLinkTarget(_, let expected, let found):
            return "\(quoted): links to \(BackupManifest.quote(found)) where \(BackupManifest.quote(expected)) was expected"
        }
    }
}
