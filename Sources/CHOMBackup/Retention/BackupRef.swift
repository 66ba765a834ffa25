package import Foundation

/// What retention needs to know about one stored backup. `id` is unique per site.
package struct BackupRef: Sendable, Hashable {
    package var id: String
    package var createdAt: Date
    /// A verify drill restored it and every file matched the manifest.
    package var verified: Bool

    package init(id: String, createdAt: Date, verified: Bool = false) {
        self.id = id
        self.createdAt = createdAt
        self.verified = verified
    }
}
