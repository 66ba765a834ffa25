package import CHOMCore
package import Foundation

package struct UserRecord: Sendable, Equatable {
    package var id: UserID
    package var email: String
    package var displayName: String
    /// bcrypt; never leaves the coordinator.
    package var passwordHash: String
    package var isOperator: Bool
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: UserID, email: String, displayName: String, passwordHash: String, isOperator: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.isOperator = isOperator
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct OrganizationRecord: Sendable, Equatable {
    package var id: OrganizationID
    package var name: String
    package var createdAt: Date

    package init(
        id: OrganizationID, name: String, createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

package struct TenantRecord: Sendable, Equatable {
    package var id: TenantID
    package var organizationID: OrganizationID
    package var name: String
    package var createdAt: Date

    package init(
        id: TenantID, organizationID: OrganizationID, name: String, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.createdAt = createdAt
    }
}

package struct MembershipRecord: Sendable, Equatable {
    package var organizationID: OrganizationID
    package var userID: UserID
    package var email: String
    package var role: OrganizationRole
    /// Empty: every tenant of the organization.
    package var tenantIDs: [TenantID]
    package var createdAt: Date

    package init(
        organizationID: OrganizationID, userID: UserID, email: String, role: OrganizationRole, tenantIDs: [TenantID], createdAt: Date
    ) {
        self.organizationID = organizationID
        self.userID = userID
        self.email = email
        self.role = role
        self.tenantIDs = tenantIDs
        self.createdAt = createdAt
    }
}

/// A tenant a user can reach, with the role of the membership that reaches it.
package struct TenantGrant: Sendable, Equatable {
    package var tenantID: TenantID
    package var organizationID: OrganizationID
    package var role: OrganizationRole

    package init(
        tenantID: TenantID, organizationID: OrganizationID, role: OrganizationRole
    ) {
        self.tenantID = tenantID
        self.organizationID = organizationID
        self.role = role
    }
}

package struct InvitationRecord: Sendable, Equatable {
    package var id: InvitationID
    package var organizationID: OrganizationID
    package var email: String
    package var role: OrganizationRole
    package var tenantIDs: [TenantID]
    package var secretSHA256: [UInt8]
    package var createdAt: Date
    package var expiresAt: Date
    package var acceptedAt: Date?
    package var revokedAt: Date?

    package init(
        id: InvitationID, organizationID: OrganizationID, email: String, role: OrganizationRole, tenantIDs: [TenantID], secretSHA256: [UInt8], createdAt: Date, expiresAt: Date, acceptedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.role = role
        self.tenantIDs = tenantIDs
        self.secretSHA256 = secretSHA256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.acceptedAt = acceptedAt
        self.revokedAt = revokedAt
    }
}

package struct StoredToken: Sendable, Equatable {
    package var id: APITokenID
    package var userID: UserID
    /// "session" or "personal_access".
    package var kind: String
    package var name: String
    package var secretSHA256: [UInt8]
    /// nil: whatever the user's roles allow.
    package var abilities: [String]?
    package var createdAt: Date
    package var expiresAt: Date
    package var revokedAt: Date?
    package var rotatedAt: Date?
    package var lastUsedAt: Date?

    package init(
        id: APITokenID, userID: UserID, kind: String, name: String, secretSHA256: [UInt8], abilities: [String]?, createdAt: Date, expiresAt: Date, revokedAt: Date?, rotatedAt: Date?, lastUsedAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.name = name
        self.secretSHA256 = secretSHA256
        self.abilities = abilities
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.rotatedAt = rotatedAt
        self.lastUsedAt = lastUsedAt
    }
}

package struct TwoFactorRecord: Sendable, Equatable {
    package var userID: UserID
    /// Sealed by the coordinator's SecretBox.
    package var secretSealed: String
    package var confirmedAt: Date?
    package var lastUsedStep: Int64?
    /// SHA-256 (hex) of the unused recovery codes.
    package var recoveryCodeHashes: [String]

    package init(
        userID: UserID, secretSealed: String, confirmedAt: Date?, lastUsedStep: Int64?, recoveryCodeHashes: [String]
    ) {
        self.userID = userID
        self.secretSealed = secretSealed
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
        self.recoveryCodeHashes = recoveryCodeHashes
    }
}

package struct LoginChallengeRecord: Sendable, Equatable {
    package var id: UUID
    package var userID: UserID
    package var secretSHA256: [UInt8]
    package var expiresAt: Date
    package var attempts: Int
    package var consumedAt: Date?

    package init(
        id: UUID, userID: UserID, secretSHA256: [UInt8], expiresAt: Date, attempts: Int, consumedAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.secretSHA256 = secretSHA256
        self.expiresAt = expiresAt
        self.attempts = attempts
        self.consumedAt = consumedAt
    }
}
