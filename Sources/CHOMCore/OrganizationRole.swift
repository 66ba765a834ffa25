/// A user's role in an organization, strongest first. Platform operators are not a role in
/// an organization: they are a flag on the user (see the coordinator's policy table).
package enum OrganizationRole: String, Sendable, Codable, CaseIterable, Comparable {
    case owner
    case admin
    case member
    case viewer

    /// Higher is stronger.
    package var rank: Int {
        switch self {
        case .owner: 4
        case .admin: 3
        case .member: 2
        case .viewer: 1
        }
    }

    package static func < (lhs: OrganizationRole, rhs: OrganizationRole) -> Bool { lhs.rank < rhs.rank }

    /// True when this role is at least `minimum`.
    package func isAtLeast(_ minimum: OrganizationRole) -> Bool { rank >= minimum.rank }
}
