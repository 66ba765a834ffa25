package import CHOMCore

/// Object names on S3 follow the same rules as every backup target (`BackupTargetKey`), checked
/// before any request, so a bad name never reaches the store (where `..` would be a literal
/// name on S3 but a path on a local target). This adds the target's own key prefix.
package enum S3ObjectKey {
    /// S3's limit on a full key, the target's prefix included.
    package static let maximumLength = 1024

    package static func validate(_ key: String) throws(CHOMError) {
        try BackupTargetKey.validate(key)
    }

    package static func validate(prefix: String) throws(CHOMError) {
        try BackupTargetKey.validate(prefix: prefix)
    }

    /// The target's key prefix normalized to end in `/`, or "" for none. The prefix obeys the key rules.
    package static func normalize(keyPrefix: String) throws(CHOMError) -> String {
        var trimmed = Substring(keyPrefix)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard !trimmed.isEmpty else {
            guard keyPrefix.isEmpty else { throw CHOMError(.configuration, "the S3 key prefix must not be only '/'") }
            return ""
        }
        do {
            try BackupTargetKey.validate(String(trimmed))
        } catch {
            throw CHOMError(.configuration, "S3 key prefix: \(error.message)")
        }
        return trimmed + "/"
    }
}
