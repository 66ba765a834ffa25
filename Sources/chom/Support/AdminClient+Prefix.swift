import CHOMAPI
import Foundation

/// Something an operator may name on the command line: by full ID, a unique ID prefix (as tables
/// print it) or, where it has one, its name or email.
struct NamedID {
    var id: String
    var names: [String] = []
}

extension AdminClient {
    /// Expands an ID prefix (as the tables print it) to the one full ID it matches among `ids`,
    /// which is only fetched when `input` is not already a full ID.
    func resolve(_ input: String, what: String, ids: () async throws -> [String]) async throws -> String {
        try await resolve(input, what: what) { try await ids().map { NamedID(id: $0) } }
    }

    /// A full ID as typed; else the one candidate whose name (case-insensitive) is `input`; else the
    /// one whose ID starts with `input`. Candidates are only fetched when `input` is not a full ID.
    func resolve(_ input: String, what: String, candidates: () async throws -> [NamedID]) async throws -> String {
        if IDPrefix.isFullID(input) { return input.lowercased() }
        let candidates = try await candidates()
        let named = candidates.filter { $0.names.contains { $0.caseInsensitiveCompare(input) == .orderedSame } }
        if named.count == 1 { return named[0].id }
        if named.count > 1 {
            throw CLIError(
                "'\(input)' names \(named.count) \(what)s (\(named.map { String($0.id.prefix(12)) }.sorted().joined(separator: ", "))); use the ID")
        }
        switch IDPrefix.match(input, among: candidates.map(\.id)) {
        case .one(let id): return id
        case .none: throw CLIError("no \(what) matches '\(input)'")
        case .ambiguous(let ids):
            throw CLIError(
                "'\(input)' matches \(ids.count) \(what)s (\(ids.map { String($0.prefix(12)) }.joined(separator: ", "))); type more of the ID")
        }
    }

    func resolveAgent(_ input: String) async throws -> String {
        try await resolve(input, what: "agent") { try await agents().map(\.id) }
    }

    func resolveJoinToken(_ input: String) async throws -> String {
        try await resolve(input, what: "join token") { try await joinTokens().map(\.id) }
    }

    /// An organization by ID, ID prefix or name.
    func resolveOrganization(_ input: String) async throws -> String {
        try await resolve(input, what: "organization") {
            try await allOrganizations().map { NamedID(id: $0.id, names: [$0.name]) }
        }
    }

    /// A tenant by ID, ID prefix or name: among the organization's tenants when it is given, else
    /// among the tenants of every organization the caller sees.
    func resolveTenant(_ input: String, organizationID: String? = nil) async throws -> String {
        try await resolve(input, what: "tenant") {
            let organizations: [String]
            if let organizationID {
                organizations = [organizationID]
            } else {
                organizations = try await allOrganizations().map(\.id)
            }
            var tenants: [NamedID] = []
            for organization in organizations {
                tenants += try await allTenants(organizationID: organization).map { NamedID(id: $0.id, names: [$0.name]) }
            }
            return tenants
        }
    }

    /// A member of the organization by user ID, ID prefix or email.
    func resolveMember(_ input: String, organizationID: String) async throws -> String {
        try await resolve(input, what: "member") {
            try await allMembers(organizationID: organizationID).map { NamedID(id: $0.userId, names: [$0.email]) }
        }
    }

    /// An invitation of the organization by ID, ID prefix or email.
    func resolveInvitation(_ input: String, organizationID: String) async throws -> String {
        try await resolve(input, what: "invitation") {
            try await allInvitations(organizationID: organizationID).map { NamedID(id: $0.id, names: [$0.email]) }
        }
    }

    /// One of the caller's tokens by ID, ID prefix or name.
    func resolveToken(_ input: String) async throws -> String {
        try await resolve(input, what: "token") { try await allTokens().map { NamedID(id: $0.id, names: [$0.name]) } }
    }
}
