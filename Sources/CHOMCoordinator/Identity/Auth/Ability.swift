/// What a personal access token may do: a resource and a verb, written `resource:verb`.
///
/// The role still decides first (RBAC); abilities only narrow what a token of that user may do.
/// `write` implies `read` of the same resource, and `sites:deploy` implies `sites:read`.
package enum Ability: String, Sendable, Codable, CaseIterable, Comparable {
    case sitesRead = "sites:read"
    case sitesWrite = "sites:write"
    case sitesDeploy = "sites:deploy"
    case tasksRead = "tasks:read"
    case agentsRead = "agents:read"
    case agentsWrite = "agents:write"
    case joinTokensWrite = "join_tokens:write"
    case organizationsRead = "organizations:read"
    case organizationsWrite = "organizations:write"
    case tenantsRead = "tenants:read"
    case tenantsWrite = "tenants:write"
    case membersRead = "members:read"
    case membersWrite = "members:write"
    case auditRead = "audit:read"
    case tokensRead = "tokens:read"
    case tokensWrite = "tokens:write"
    case billingRead = "billing:read"
    case billingWrite = "billing:write"

    /// The abilities this one grants besides itself.
    package var implied: Set<Ability> {
        switch self {
        case .sitesWrite, .sitesDeploy: [.sitesRead]
        case .agentsWrite: [.agentsRead]
        case .joinTokensWrite: [.agentsRead]
        case .organizationsWrite: [.organizationsRead]
        case .tenantsWrite: [.tenantsRead]
        case .membersWrite: [.membersRead]
        case .tokensWrite: [.tokensRead]
        case .billingWrite: [.billingRead]
        case .sitesRead, .tasksRead, .agentsRead, .organizationsRead, .tenantsRead, .membersRead, .auditRead,
            .tokensRead, .billingRead:
            []
        }
    }

    /// Parses `resource:verb` strings as a client sends them; nil if any is unknown
    /// (an unknown ability is refused, never silently dropped).
    package static func parse(_ names: some Sequence<String>) -> Set<Ability>? {
        var abilities = Set<Ability>()
        for name in names {
            guard let ability = Ability(rawValue: name) else { return nil }
            abilities.insert(ability)
        }
        return abilities
    }

    package static func < (lhs: Ability, rhs: Ability) -> Bool { lhs.rawValue < rhs.rawValue }
}
