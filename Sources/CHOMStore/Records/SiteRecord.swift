package import CHOMCore
package import Foundation

package struct SiteRecord: Sendable, Equatable {
    package var id: SiteID
    package var tenantID: TenantID
    package var domain: String
    package var agentID: AgentID?
    package var state: String
    package var currentReleaseID: ReleaseID?
    package var currentReleasePath: String?
    package var createdAt: Date
    package var updatedAt: Date
    /// Kind and configuration (the kind column is authoritative over `spec.kind`).
    package var spec: SiteSettings = SiteSettings()
    package var tlsCertificate: String?
    /// Sealed with the coordinator's SecretBox; opened only to build a task. Never in an answer.
    package var tlsKeySealed: String?
    package var suspended: Bool = false
    package var lastBackupAt: Date?
    package var lastVerifiedBackupAt: Date?

    /// Sites in these states take no new task but a restore.
    package var isRemoved: Bool { state == "removed" || state == "removing" }
}

package struct ReleaseRecord: Sendable, Equatable {
    package var id: ReleaseID
    package var siteID: SiteID
    package var sha256: String
    package var sizeBytes: Int64
    package var format: String
    package var createdAt: Date
}
