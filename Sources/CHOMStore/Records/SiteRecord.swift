package import CHOMCore
package import Foundation

package struct SiteRecord: Sendable, Equatable {
    package var id: SiteID
    package var tenantID: TenantID
    package var domain: String
    package var agentID: AgentID?
    package var state: SiteState
    package var currentReleaseID: ReleaseID?
    package var currentReleasePath: String?
    package var createdAt: Date
    package var updatedAt: Date
    /// Kind and configuration (the kind column is authoritative over `spec.kind`).
    package var spec: SiteSettings = SiteSettings()
    package var tlsCertificate: String?
    /// Sealed with the coordinator's SecretBox; opened only to build a task. Never in an answer.
    package var tlsKeySealed: String?
    /// What the agent applied (the last successful suspend task); the API's `suspended`.
    package var suspended: Bool = false
    /// Why the site should be suspended (`sites.suspension_reasons`): set when the request is made,
    /// sent with every task's configuration; empty when it should be served.
    package var suspensionReasons: Set<SuspensionReason> = []
    package var lastBackupAt: Date?
    package var lastVerifiedBackupAt: Date?
    /// Raised with every configuration change; sent in `SiteConfig.config_version`.
    package var configVersion: Int64 = 1
    /// Off (an operator's choice): the site never fails over, and its agent never fences it.
    package var failoverEnabled = true

    /// Sites in these states take no new task but a restore.
    package var isRemoved: Bool { state.isRemoved }

    /// The site's lifecycle as stored: the state machine every state change goes through.
    package var lifecycle: SiteLifecycle {
        SiteLifecycle(state: state, suspension: suspensionReasons, hasRelease: currentReleaseID != nil)
    }
}

package struct ReleaseRecord: Sendable, Equatable {
    package var id: ReleaseID
    package var siteID: SiteID
    package var sha256: String
    package var sizeBytes: Int64
    package var format: String
    package var createdAt: Date
}
