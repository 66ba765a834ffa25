package import Foundation

// Users and their memberships (`GET /v1/me`, organization members).

package struct UserResponse: Codable, Sendable, Equatable {
    package var id: String
    package var email: String
    package var displayName: String
    /// A platform operator sees and manages the whole fleet.
    package var isOperator: Bool
    package var twoFactorEnabled: Bool
    package var createdAt: Date
    package init(
        id: String, email: String, displayName: String, isOperator: Bool, twoFactorEnabled: Bool, createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.isOperator = isOperator
        self.twoFactorEnabled = twoFactorEnabled
        self.createdAt = createdAt
    }
}

/// A user's role in one organization.
package struct MembershipResponse: Codable, Sendable, Equatable {
    package var organizationId: String
    package var userId: String
    package var email: String
    /// "owner", "admin", "member" or "viewer" (the raw values of CHOMCore's `OrganizationRole`).
    package var role: String
    /// The tenants the membership is limited to; empty means every tenant of the organization.
    package var tenantIds: [String]
    package var createdAt: Date

    package init(organizationId: String, userId: String, email: String, role: String, tenantIds: [String], createdAt: Date) {
        self.organizationId = organizationId
        self.userId = userId
        self.email = email
        self.role = role
        self.tenantIds = tenantIds
        self.createdAt = createdAt
    }
}

/// The caller: who they are and where they belong.
package struct MeResponse: Codable, Sendable, Equatable {
    package var user: UserResponse
    package var memberships: [MembershipResponse]
    package init(user: UserResponse, memberships: [MembershipResponse]) {
        self.user = user
        self.memberships = memberships
    }
}
