import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Synchronization
import Testing

/// The kinds of caller: each organization role, a platform operator, the owner of another
/// organization, a viewer who owns another organization, no token at all, and two owners who
/// present personal access tokens.
enum MatrixCaller: String, CaseIterable, Sendable {
    case owner, admin, member, viewer
    case platformOperator = "operator"
    case outsider = "owner of another organization"
    /// Only a viewer here, but an owner elsewhere: the role check must use the role in this organization.
    case viewerOwnerElsewhere = "viewer here, owner of another organization"
    case anonymous = "no token"
    case ownerReadToken = "owner with a sites:read token"
    case ownerFullToken = "owner with an all-abilities token"

    /// Short, domain-safe, for names the calls create.
    var slug: String {
        switch self {
        case .owner, .admin, .member, .viewer: rawValue
        case .platformOperator: "operator"
        case .outsider: "outsider"
        case .viewerOwnerElsewhere: "mixed"
        case .anonymous: "anonymous"
        case .ownerReadToken: "pat-read"
        case .ownerFullToken: "pat-full"
        }
    }

    /// The role in the matrix organization.
    var role: OrganizationRole? {
        switch self {
        case .owner, .ownerReadToken, .ownerFullToken: .owner
        case .admin: .admin
        case .member: .member
        case .viewer, .viewerOwnerElsewhere: .viewer
        case .platformOperator, .outsider, .anonymous: nil
        }
    }

    /// The strongest role in any organization (what a route that names no organization goes by).
    var strongestRole: OrganizationRole? {
        switch self {
        case .outsider, .viewerOwnerElsewhere: .owner
        default: role
        }
    }

    /// The abilities of the personal access token this caller presents; nil for a session token.
    var abilities: Set<Ability>? {
        switch self {
        case .ownerReadToken: [.sitesRead]
        case .ownerFullToken: Set(Ability.allCases)
        default: nil
        }
    }
}

enum MatrixOutcome: String, Sendable {
    case allowed, unauthorized, forbidden, notFound
}

/// One route: what it is, what Policy says about it (checked against `Policy.rule(for:)`), the
/// status a permitted call answers, and how to make a valid call (fresh objects, body).
struct MatrixRoute: Sendable {
    typealias Prepare = @Sendable (MatrixWorld, MatrixCaller) async throws -> [String: String]
    typealias MakeBody = @Sendable (MatrixWorld, MatrixCaller, [String: String]) throws -> [String: any Sendable]
    typealias After = @Sendable (MatrixWorld, MatrixCaller, TestHTTP.Reply) async throws -> Void

    enum Body: Sendable {
        case none
        case json(MakeBody)
        case archive
        /// A fresh Stripe event (a type CHOM ignores) signed with the matrix's webhook secret.
        case stripeEvent
        /// An Alertmanager delivery (a fleet alert), with Alertmanager's token instead of the caller's.
        case alertmanagerDelivery
    }

    /// A count that is `ifAllowed` after a permitted call and `ifRefused` after a refused one.
    /// `{caller}` is the caller's slug; `{name}` any id the call prepared.
    struct Effect: Sendable {
        var sql: String
        var ifAllowed: Int
        var ifRefused: Int

        /// A row matching `condition` exists after a permitted call only.
        static func rowWhenAllowed(_ table: String, where condition: String) -> Effect {
            Effect(sql: "SELECT count(*) FROM \(table) WHERE \(condition)", ifAllowed: 1, ifRefused: 0)
        }

        /// A row matching `condition` is gone after a permitted call only.
        static func noRowWhenAllowed(_ table: String, where condition: String) -> Effect {
            Effect(sql: "SELECT count(*) FROM \(table) WHERE \(condition)", ifAllowed: 0, ifRefused: 1)
        }
    }

    let action: APIAction
    let method: String
    /// With `{org}`, `{tenant}`, `{site}`, `{task}`, `{agent}`, `{joinToken}` from the fixture, or ids
    /// that `prepare` makes fresh for the call.
    let path: String
    let audience: Policy.Audience
    let ability: Ability?
    let success: Int
    var body: Body = .none
    /// Fresh objects for one call (and `bearer`: a fresh token of the caller, for calls that use one up).
    var prepare: Prepare?
    var after: After?
    var effect: Effect?

    /// Whether the path names an object (for member routes: one of the matrix organization, which a
    /// foreign caller must find missing).
    var namesOrganizationObject: Bool { path.contains("{") }

    func outcome(of status: Int) -> MatrixOutcome? {
        switch status {
        case success: .allowed
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        default: nil
        }
    }

    /// What `caller` must get, from the audience and ability of the route.
    func expected(for caller: MatrixCaller) -> MatrixOutcome {
        if audience == .anyone { return .allowed }
        if caller == .anonymous { return .unauthorized }
        if let abilities = caller.abilities {
            if audience == .session { return .forbidden }
            if let ability, !TokenPolicy.ability(ability, in: abilities) { return .forbidden }
        }
        switch audience {
        case .anyone, .authenticated, .session:
            return .allowed
        case .platformOperator:
            return caller == .platformOperator ? .allowed : .forbidden
        case .member(let minimum):
            if caller == .platformOperator { return .allowed }
            let role = namesOrganizationObject ? caller.role : caller.strongestRole
            guard let role else { return namesOrganizationObject ? .notFound : .forbidden }
            return role.isAtLeast(minimum) ? .allowed : .forbidden
        }
    }
}
