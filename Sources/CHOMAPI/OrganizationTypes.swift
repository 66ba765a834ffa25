package import Foundation

// Organizations, their tenants, members and invitations (`/v1/organizations/…`, `/v1/tenants/…`,
// `/v1/invitations/accept`).

package struct OrganizationResponse: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    package var createdAt: Date
    package init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// Operators only.
package struct CreateOrganizationRequest: Codable, Sendable, Equatable {
    package var name: String
    /// An existing user's email, made the organization's owner.
    package var ownerEmail: String?
    package static let fields: Set<String> = ["name", "ownerEmail"]
    package init(name: String, ownerEmail: String? = nil) {
        self.name = name
        self.ownerEmail = ownerEmail
    }
}

package struct UpdateOrganizationRequest: Codable, Sendable, Equatable {
    package var name: String
    package static let fields: Set<String> = ["name"]
    package init(name: String) { self.name = name }
}

package struct TenantResponse: Codable, Sendable, Equatable {
    package var id: String
    package var organizationId: String
    package var name: String
    package var createdAt: Date
    package init(id: String, organizationId: String, name: String, createdAt: Date) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.createdAt = createdAt
    }
}

package struct CreateTenantRequest: Codable, Sendable, Equatable {
    package var name: String
    package static let fields: Set<String> = ["name"]
    package init(name: String) { self.name = name }
}

/// Changes a member's role, tenants, or both; an absent field is left as it is.
package struct UpdateMemberRequest: Codable, Sendable, Equatable {
    package var role: String?
    /// Empty means every tenant of the organization.
    package var tenantIds: [String]?
    package static let fields: Set<String> = ["role", "tenantIds"]
    package init(role: String? = nil, tenantIds: [String]? = nil) {
        self.role = role
        self.tenantIds = tenantIds
    }
}

package struct InvitationResponse: Codable, Sendable, Equatable {
    package var id: String
    package var organizationId: String
    package var email: String
    package var role: String
    package var tenantIds: [String]
    package var createdAt: Date
    package var expiresAt: Date
    package var acceptedAt: Date?
    package init(
        id: String, organizationId: String, email: String, role: String, tenantIds: [String], createdAt: Date,
        expiresAt: Date, acceptedAt: Date?
    ) {
        self.id = id
        self.organizationId = organizationId
        self.email = email
        self.role = role
        self.tenantIds = tenantIds
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.acceptedAt = acceptedAt
    }
}

package struct CreateInvitationRequest: Codable, Sendable, Equatable {
    package var email: String
    package var role: String
    /// Absent or empty: every tenant of the organization.
    package var tenantIds: [String]?
    package static let fields: Set<String> = ["email", "role", "tenantIds"]
    package init(email: String, role: String, tenantIds: [String]? = nil) {
        self.email = email
        self.role = role
        self.tenantIds = tenantIds
    }
}

/// Returned once, at creation: the only time the invitation's token is shown.
package struct CreatedInvitationResponse: Codable, Sendable, Equatable {
    package var invitation: InvitationResponse
    package var token: String
    package init(invitation: InvitationResponse, token: String) {
        self.invitation = invitation
        self.token = token
    }
}

/// `POST /v1/invitations/accept`, sent without a bearer token; the answer is a `MeResponse`.
package struct AcceptInvitationRequest: Codable, Sendable, Equatable {
    package var token: String
    package var password: String
    package var displayName: String?
    /// For an existing account with two-factor authentication: a TOTP or recovery code.
    package var code: String?
    package static let fields: Set<String> = ["token", "password", "displayName", "code"]
    package init(token: String, password: String, displayName: String? = nil, code: String? = nil) {
        self.token = token
        self.password = password
        self.displayName = displayName
        self.code = code
    }
}
