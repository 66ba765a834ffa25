package import CHOMCore
package import Foundation

/// A join token as stored: only the SHA-256 of its secret, never the secret.
package struct JoinTokenRecord: Sendable, Equatable {
    package var id: JoinTokenID
    package var description: String
    package var maxUses: Int
    package var uses: Int
    package var expiresAt: Date
    package var createdAt: Date
    package var revokedAt: Date?
}

package struct JoinTokenUse: Sendable, Equatable {
    package var id: Int64
    package var usedAt: Date
    package var sourceAddress: String
    package var outcome: String
    package var agentID: AgentID?
}
