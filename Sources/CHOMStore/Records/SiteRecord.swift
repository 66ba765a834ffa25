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
}

package struct ReleaseRecord: Sendable, Equatable {
    package var id: ReleaseID
    package var siteID: SiteID
    package var sha256: String
    package var sizeBytes: Int64
    package var format: String
    package var createdAt: Date
}
