import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Synchronization
import Testing

/// Broken function-level authorization (BFLA): every route of the admin API, called by every kind
/// of caller, answers exactly what `Policy` says — the route's success status where the caller is
/// allowed, 401 without a token, 403 for a role or token too weak, and 404 for a user of another
/// organization on routes that name this organization's objects (they look missing to them).
@Suite("Authorization matrix: every route × every caller", .serialized)
struct AuthorizationMatrixTests {
    @Test("the table names every APIAction exactly once, with the audience and ability Policy gives it")
    func tableCoversPolicy() {
        let actions = MatrixRoute.all.map(\.action)
        #expect(actions.count == Set(actions).count, "an action is listed twice")
        let missing = Set(APIAction.allCases).subtracting(actions).map(\.rawValue).sorted()
        #expect(missing.isEmpty, "actions without a row in the matrix: \(missing)")
        for route in MatrixRoute.all {
            let rule = Policy.rule(for: route.action)
            #expect(rule.audience == route.audience, "\(route.action): Policy says \(rule.audience)")
            #expect(rule.ability == route.ability, "\(route.action): Policy says \(String(describing: rule.ability))")
        }
    }

    @Test("each caller gets the success status, 401, 403 or 404 exactly as Policy says, and a refused call changes nothing")
    func everyRouteForEveryCaller() async throws {
        let clock = IdentityFixtures.clock()
        // Invitations, password changes and 2FA checks count against the source address's login
        // throttle (all callers are 127.0.0.1): lift it, this test is not about throttling.
        try await TestCoordinator.with(clock: clock, configure: { $0.auth.loginAttemptsPerAddress = 100_000 }) {
            coordinator in
            // The table holds exactly the routes of the contract the coordinator serves.
            let contract = try await RawAPI(coordinator).send("GET", "/v1/openapi.yaml", token: nil).text
            let table = Set(MatrixRoute.all.map { MatrixRoute.normalized($0.method, $0.path) })
            #expect(MatrixRoute.routes(inContract: contract) == table)
            let world = try await MatrixWorld.make(coordinator, clock: clock)
            for route in MatrixRoute.all {
                for caller in MatrixCaller.allCases {
                    let expected = route.expected(for: caller)
                    let (reply, ids) = try await world.perform(route, as: caller)
                    let what = "\(caller.rawValue) → \(route.method) \(route.path) [\(route.action.rawValue)]"
                    #expect(
                        route.outcome(of: reply.status) == expected,
                        "\(what): expected \(expected), got \(reply.status) \(reply.text.prefix(300))")
                    if let effect = route.effect {
                        let count = try await world.count(effect.sql, caller: caller, ids: ids)
                        let wanted = expected == .allowed ? effect.ifAllowed : effect.ifRefused
                        #expect(count == wanted, "\(what): side effect count \(count), expected \(wanted)")
                    }
                }
            }
        }
    }

    @Test("removing a member or lowering a role takes effect on the member's next request")
    func membershipChangesApplyAtOnce() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Changes", operatorToken: coordinator.operatorToken)
            let api = RawAPI(coordinator)
            let owner = coordinator.client(token: organization.owner.token)
            let member = organization.member.token
            let site = "/v1/sites/\(organization.siteID)"
            let deploy: [String: any Sendable] = ["releaseId": organization.releaseID]
            #expect(try await api.send("POST", "\(site)/deploy", token: member, json: deploy).status == 202)
            _ = try await owner.updateMember(
                organizationID: organization.id, userID: organization.member.userID, role: "viewer")
            #expect(try await api.send("POST", "\(site)/deploy", token: member, json: deploy).status == 403)
            #expect(try await api.send("GET", site, token: member).status == 200)
            try await owner.removeMember(organizationID: organization.id, userID: organization.member.userID)
            for path in [site, "/v1/organizations/\(organization.id)", "/v1/tasks/\(organization.taskID)"] {
                // No membership left at all: the role gate answers 403 before any lookup (the same for any id).
                let reply = try await api.send("GET", path, token: member)
                #expect(reply.status == 403, "removed member GET \(path): \(reply.text)")
            }
            let sites = try await coordinator.client(token: member).sites()
            #expect(sites.isEmpty)
        }
    }

    @Test("an invitation never rewrites a membership: an admin cannot demote the only owner through one")
    func invitationCannotRewriteMembership() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Rewrite", operatorToken: coordinator.operatorToken)
            let admin = coordinator.client(token: organization.admin.token)
            // The admin may not make the owner a viewer directly…
            let direct = try await RawAPI(coordinator).send(
                "PATCH", "/v1/organizations/\(organization.id)/members/\(organization.owner.userID)",
                token: organization.admin.token, json: ["role": "viewer"])
            #expect(direct.status == 403)
            // …nor through an invitation to the owner's own address.
            let invitation = try await admin.createInvitation(
                organizationID: organization.id, email: organization.owner.email, role: "viewer")
            let accept = try await RawAPI(coordinator).send(
                "POST", "/v1/invitations/accept", token: nil,
                json: ["token": invitation.token, "password": organization.owner.password])
            #expect(accept.status == 409, "\(accept.text)")
            let members = try await coordinator.client(token: organization.owner.token)
                .allMembers(organizationID: organization.id)
            #expect(members.first { $0.userId == organization.owner.userID }?.role == "owner")
            #expect(members.filter { $0.role == "owner" }.count == 1)
            // Nor may a viewer be raised by accepting an admin's invitation twice over: the role is changed with PATCH.
            let raise = try await admin.createInvitation(
                organizationID: organization.id, email: organization.viewer.email, role: "admin")
            let raised = try await RawAPI(coordinator).send(
                "POST", "/v1/invitations/accept", token: nil,
                json: ["token": raise.token, "password": organization.viewer.password])
            #expect(raised.status == 409, "\(raised.text)")
        }
    }

    @Test("an admin limited to some tenants cannot widen their own or anyone else's reach")
    func tenantLimitedAdminCannotWidenReach() async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Reach", operatorToken: coordinator.operatorToken)
            let owner = coordinator.client(token: organization.owner.token)
            let second = try await owner.createTenant(organizationID: organization.id, name: "Reach second")
            let limited = try await IdentityFixtures.account(
                coordinator, invitedBy: organization.owner.token, into: organization.id, email: "limited@reach.test",
                role: "admin", tenantIDs: [second.id])
            let api = RawAPI(coordinator)
            #expect(try await api.send("GET", "/v1/sites/\(organization.siteID)", token: limited.token).status == 404)
            let attempts: [(String, String, [String: any Sendable])] = [
                // Its own membership, to every tenant or to the one it cannot see.
                ("PATCH", "/v1/organizations/\(organization.id)/members/\(limited.userID)", ["tenantIds": [String]()]),
                ("PATCH", "/v1/organizations/\(organization.id)/members/\(limited.userID)",
                 ["tenantIds": [organization.tenantID, second.id]]),
                // Invitations reaching further than itself.
                ("POST", "/v1/organizations/\(organization.id)/invitations", ["email": "wide@reach.test", "role": "admin"]),
                ("POST", "/v1/organizations/\(organization.id)/invitations",
                 ["email": "other@reach.test", "role": "member", "tenantIds": [organization.tenantID]]),
                // Members who reach tenants it does not.
                ("PATCH", "/v1/organizations/\(organization.id)/members/\(organization.member.userID)", ["role": "viewer"]),
                ("DELETE", "/v1/organizations/\(organization.id)/members/\(organization.member.userID)", [:]),
            ]
            for (method, path, json) in attempts {
                let reply = try await api.send(method, path, token: limited.token, json: method == "DELETE" ? nil : json)
                #expect(reply.status == 403, "tenant-limited admin \(method) \(path) \(json): \(reply.status) \(reply.text)")
            }
            #expect(try await api.send("GET", "/v1/sites/\(organization.siteID)", token: limited.token).status == 404)
            let members = try await owner.allMembers(organizationID: organization.id)
            #expect(members.first { $0.userId == limited.userID }?.tenantIds == [second.id])
            #expect(members.first { $0.userId == organization.member.userID }?.role == "member")
            let invited = try await owner.allInvitations(organizationID: organization.id).map(\.email)
            #expect(!invited.contains("wide@reach.test") && !invited.contains("other@reach.test"))
            // Within its own tenant it still manages people.
            let inside = try await api.send(
                "POST", "/v1/organizations/\(organization.id)/invitations", token: limited.token,
                json: ["email": "inside@reach.test", "role": "member", "tenantIds": [second.id]])
            #expect(inside.status == 201, "\(inside.text)")
        }
    }
}

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

extension MatrixRoute {
    static func route(
        _ action: APIAction, _ method: String, _ path: String, _ audience: Policy.Audience, _ ability: Ability?,
        _ success: Int, body: Body = .none, prepare: Prepare? = nil, after: After? = nil, effect: Effect? = nil
    ) -> MatrixRoute {
        MatrixRoute(
            action: action, method: method, path: path, audience: audience, ability: ability, success: success,
            body: body, prepare: prepare, after: after, effect: effect)
    }

    static let freshBearer: Prepare = { world, caller in try await world.freshBearer(caller) }

    /// "METHOD /path/{}/…": a route with its placeholders unnamed.
    static func normalized(_ method: String, _ path: String) -> String {
        method.uppercased() + " " + path.replacing(/\{[^}]*\}/, with: "{}")
    }

    /// Every operation under `paths:` of the OpenAPI document (two-space path keys, four-space methods).
    static func routes(inContract yaml: String) -> Set<String> {
        var routes = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if !line.hasPrefix("  ") {
                path = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                ["get:", "post:", "put:", "patch:", "delete:"].contains(line.trimmingCharacters(in: .whitespaces))
            {
                routes.insert(normalized(String(line.trimmingCharacters(in: .whitespaces).dropLast()), path))
            }
        }
        return routes
    }

    /// Every route of the admin API, in the order they are exercised.
    static let all: [MatrixRoute] = [
        // Open routes.
        route(.health, "GET", "/v1/health", .anyone, nil, 200),
        route(.openAPI, "GET", "/v1/openapi.yaml", .anyone, nil, 200),
        route(.login, "POST", "/v1/auth/login", .anyone, nil, 200,
            body: .json { world, _, _ in
                ["email": world.organization.member.email, "password": IdentityFixtures.password]
            }),
        route(.loginTwoFactor, "POST", "/v1/auth/login/two-factor", .anyone, nil, 200,
            body: .json { _, _, ids in ["challenge": ids["challenge"]!, "code": ids["code"]!] },
            prepare: { world, _ in try await world.twoFactorChallenge() }),
        route(.acceptInvitation, "POST", "/v1/invitations/accept", .anyone, nil, 200,
            body: .json { _, _, ids in ["token": ids["invitationToken"]!, "password": IdentityFixtures.password] },
            prepare: { world, caller in try await world.freshInvitation(for: caller) }),

        // The caller's own account and tokens.
        route(.meRead, "GET", "/v1/me", .authenticated, nil, 200),
        route(.rotateToken, "POST", "/v1/auth/token/rotate", .authenticated, nil, 200, prepare: freshBearer),
        route(.logout, "POST", "/v1/auth/logout", .authenticated, nil, 204, prepare: freshBearer),
        route(.changePassword, "POST", "/v1/me/password", .session, nil, 204,
            body: .json { _, caller, _ in
                ["currentPassword": MatrixWorld.password(caller), "newPassword": MatrixWorld.password(caller)]
            }),
        route(.twoFactorEnroll, "POST", "/v1/me/two-factor", .session, nil, 200,
            after: { world, caller, reply in try world.rememberEnrollment(caller, reply) }),
        route(.twoFactorConfirm, "POST", "/v1/me/two-factor/confirm", .session, nil, 200,
            body: .json { world, caller, _ in ["code": world.currentCode(caller)] },
            after: { world, caller, reply in try world.rememberRecoveryCodes(caller, reply) }),
        route(.twoFactorDisable, "POST", "/v1/me/two-factor/disable", .session, nil, 204,
            body: .json { world, caller, _ in
                ["password": MatrixWorld.password(caller), "code": world.recoveryCode(caller)]
            }),
        route(.tokensList, "GET", "/v1/tokens", .authenticated, .tokensRead, 200),
        route(.tokenCreate, "POST", "/v1/tokens", .authenticated, .tokensWrite, 201,
            body: .json { world, caller, _ in
                ["name": "made by \(caller.slug)", "abilities": ["sites:read"],
                 "expiresAt": IdentityFixtures.iso(world.clock.now().addingTimeInterval(86_400))]
            },
            effect: .rowWhenAllowed("api_tokens", where: "name = 'made by {caller}'")),
        route(.tokenRevoke, "DELETE", "/v1/tokens/{token}", .authenticated, .tokensWrite, 204,
            prepare: { world, caller in try await world.freshOwnTokenID(caller) },
            effect: .rowWhenAllowed("api_tokens", where: "id = '{token}' AND revoked_at IS NOT NULL")),
        route(.tokensRevokeAll, "POST", "/v1/tokens/revoke-all", .authenticated, .tokensWrite, 204,
            prepare: freshBearer, after: { world, caller, _ in try await world.reissue(caller) }),

        // Organizations and tenants.
        route(.organizationsList, "GET", "/v1/organizations", .authenticated, .organizationsRead, 200),
        route(.organizationCreate, "POST", "/v1/organizations", .platformOperator, .organizationsWrite, 201,
            body: .json { _, caller, _ in ["name": "made by \(caller.slug)"] },
            effect: .rowWhenAllowed("organizations", where: "name = 'made by {caller}'")),
        route(.organizationRead, "GET", "/v1/organizations/{org}", .member(.viewer), .organizationsRead, 200),
        route(.organizationUpdate, "PATCH", "/v1/organizations/{org}", .member(.owner), .organizationsWrite, 200,
            body: .json { world, _, _ in ["name": world.organization.name] }),
        route(.tenantsList, "GET", "/v1/organizations/{org}/tenants", .member(.viewer), .tenantsRead, 200),
        route(.tenantCreate, "POST", "/v1/organizations/{org}/tenants", .member(.admin), .tenantsWrite, 201,
            body: .json { _, caller, _ in ["name": "tenant by \(caller.slug)"] },
            effect: .rowWhenAllowed("tenants", where: "name = 'tenant by {caller}'")),
        route(.tenantRead, "GET", "/v1/tenants/{tenant}", .member(.viewer), .tenantsRead, 200),

        // Members and invitations.
        route(.membersList, "GET", "/v1/organizations/{org}/members", .member(.viewer), .membersRead, 200),
        route(.memberUpdate, "PATCH", "/v1/organizations/{org}/members/{user}", .member(.admin), .membersWrite, 200,
            body: .json { _, _, _ in ["role": "member"] },
            prepare: { world, caller in try await world.freshMember(for: caller) },
            effect: .rowWhenAllowed("memberships", where: "user_id = '{user}' AND role = 'member'")),
        route(.memberRemove, "DELETE", "/v1/organizations/{org}/members/{user}", .member(.admin), .membersWrite, 204,
            prepare: { world, caller in try await world.freshMember(for: caller) },
            effect: .noRowWhenAllowed("memberships", where: "user_id = '{user}'")),
        route(.invitationsList, "GET", "/v1/organizations/{org}/invitations", .member(.admin), .membersRead, 200),
        route(.invitationCreate, "POST", "/v1/organizations/{org}/invitations", .member(.admin), .membersWrite, 201,
            body: .json { _, caller, _ in ["email": "invited-by-\(caller.slug)@matrix.test", "role": "viewer"] },
            effect: .rowWhenAllowed("invitations", where: "email = 'invited-by-{caller}@matrix.test'")),
        route(.invitationDelete, "DELETE", "/v1/organizations/{org}/invitations/{invitation}", .member(.admin),
            .membersWrite, 204,
            prepare: { world, caller in try await world.freshInvitation(for: caller) },
            effect: .rowWhenAllowed("invitations", where: "id = '{invitation}' AND revoked_at IS NOT NULL")),

        // Tenant data.
        route(.sitesList, "GET", "/v1/sites", .authenticated, .sitesRead, 200),
        route(.tenantSitesList, "GET", "/v1/tenants/{tenant}/sites", .member(.viewer), .sitesRead, 200),
        route(.siteCreate, "POST", "/v1/tenants/{tenant}/sites", .member(.member), .sitesWrite, 201,
            body: .json { _, caller, _ in ["domain": "\(caller.slug).matrix.test"] },
            effect: .rowWhenAllowed("sites", where: "domain = '{caller}.matrix.test'")),
        route(.siteRead, "GET", "/v1/sites/{site}", .member(.viewer), .sitesRead, 200),
        route(.releaseUpload, "POST", "/v1/sites/{site}/releases", .member(.member), .sitesDeploy, 201, body: .archive),
        route(.siteDeploy, "POST", "/v1/sites/{site}/deploy", .member(.member), .sitesDeploy, 202,
            body: .json { world, _, _ in ["releaseId": world.organization.releaseID] }),
        route(.taskRead, "GET", "/v1/tasks/{task}", .member(.viewer), .tasksRead, 200),

        // Audit.
        route(.auditList, "GET", "/v1/audit", .member(.admin), .auditRead, 200),
        route(.auditVerify, "GET", "/v1/audit/verify", .platformOperator, .auditRead, 200),
        route(.auditVerifyWithCheckpoints, "POST", "/v1/audit/verify", .platformOperator, .auditRead, 200,
            body: .json { _, _, _ in ["checkpoints": ""] }),
        route(.auditCheckpoints, "GET", "/v1/audit/checkpoints", .platformOperator, .auditRead, 200),

        // The fleet.
        route(.agentsList, "GET", "/v1/agents", .platformOperator, .agentsRead, 200),
        route(.agentRead, "GET", "/v1/agents/{agent}", .platformOperator, .agentsRead, 200),
        route(.agentDelete, "DELETE", "/v1/agents/{freshAgent}", .platformOperator, .agentsWrite, 204,
            prepare: { world, _ in
                ["freshAgent": try await IdentityFixtures.addAgent(world.coordinator, state: "offline")]
            },
            effect: .rowWhenAllowed("agents", where: "id = '{freshAgent}' AND state = 'deleted'")),
        route(.joinTokenCreate, "POST", "/v1/join-tokens", .platformOperator, .joinTokensWrite, 201,
            body: .json { _, caller, _ in ["description": "made by \(caller.slug)"] },
            effect: .rowWhenAllowed("join_tokens", where: "description = 'made by {caller}'")),
        route(.joinTokensList, "GET", "/v1/join-tokens", .platformOperator, .agentsRead, 200),
        route(.joinTokenRevoke, "DELETE", "/v1/join-tokens/{freshJoinToken}", .platformOperator, .joinTokensWrite, 204,
            prepare: { world, _ in ["freshJoinToken": try await world.freshJoinToken()] },
            effect: .rowWhenAllowed("join_tokens", where: "id = '{freshJoinToken}' AND revoked_at IS NOT NULL")),
        route(.joinTokenUses, "GET", "/v1/join-tokens/{joinToken}/uses", .platformOperator, .agentsRead, 200),
        route(.prometheusDiscovery, "GET", "/v1/discovery/prometheus", .platformOperator, .agentsRead, 200),
    ]
}

/// The matrix's fixture: one organization with every role, the other callers, and the state the
/// calls build up (tokens that get used up and reissued, 2FA secrets and recovery codes).
final class MatrixWorld: Sendable {
    let coordinator: TestCoordinator
    let clock: ManualWallClock
    let api: RawAPI
    let organization: OrganizationFixture
    let emails: [MatrixCaller: String]
    let twoFactorEmail: String
    let twoFactorSecret: [UInt8]
    let archive: Data
    private let fixed: [String: String]

    private struct State {
        var tokens: [MatrixCaller: String] = [:]
        var totpSecrets: [MatrixCaller: [UInt8]] = [:]
        var recoveryCodes: [MatrixCaller: [String]] = [:]
        var serial = 0
    }

    private let state: Mutex<State>

    private init(
        coordinator: TestCoordinator, clock: ManualWallClock, organization: OrganizationFixture,
        emails: [MatrixCaller: String], tokens: [MatrixCaller: String], twoFactorEmail: String,
        twoFactorSecret: [UInt8], fixed: [String: String]
    ) throws {
        self.coordinator = coordinator
        self.clock = clock
        api = RawAPI(coordinator)
        self.organization = organization
        self.emails = emails
        self.twoFactorEmail = twoFactorEmail
        self.twoFactorSecret = twoFactorSecret
        self.fixed = fixed
        archive = try IdentityFixtures.releaseArchive()
        state = Mutex(State(tokens: tokens))
    }

    static func make(_ coordinator: TestCoordinator, clock: ManualWallClock) async throws -> MatrixWorld {
        let agent = try await IdentityFixtures.addAgent(coordinator)
        let operatorToken = try await IdentityFixtures.signIn(
            coordinator, TestCoordinator.operatorEmail, password: TestCoordinator.operatorPassword
        ).token
        let operatorClient = coordinator.client(token: operatorToken)
        let organization = try await IdentityFixtures.organization(coordinator, name: "Matrix", operatorToken: operatorToken)
        let owner = organization.owner.token
        var tokens: [MatrixCaller: String] = [
            .owner: owner, .admin: organization.admin.token, .member: organization.member.token,
            .viewer: organization.viewer.token, .platformOperator: operatorToken,
        ]
        var emails: [MatrixCaller: String] = [
            .owner: organization.owner.email, .admin: organization.admin.email, .member: organization.member.email,
            .viewer: organization.viewer.email, .platformOperator: TestCoordinator.operatorEmail,
        ]
        // Owners who present personal access tokens.
        for caller in [MatrixCaller.ownerReadToken, .ownerFullToken] {
            let account = try await IdentityFixtures.account(
                coordinator, invitedBy: owner, into: organization.id, email: "\(caller.slug)@matrix.test", role: "owner")
            emails[caller] = account.email
            tokens[caller] = try await personalAccessToken(coordinator, account.token, caller, clock: clock)
        }
        // The owner of another organization, with a tenant of its own.
        let elsewhere = try await operatorClient.createOrganization(name: "Elsewhere")
        let outsider = try await IdentityFixtures.account(
            coordinator, invitedBy: operatorToken, into: elsewhere.id, email: "owner@elsewhere.test", role: "owner")
        _ = try await coordinator.client(token: outsider.token).createTenant(organizationID: elsewhere.id, name: "theirs")
        emails[.outsider] = outsider.email
        tokens[.outsider] = outsider.token
        // A viewer here who owns another organization.
        let mixedEmail = "\(MatrixCaller.viewerOwnerElsewhere.slug)@matrix.test"
        _ = try await IdentityFixtures.account(
            coordinator, invitedBy: owner, into: organization.id, email: mixedEmail, role: "viewer")
        let mixedOrganization = try await operatorClient.createOrganization(name: "Mixed")
        let mixed = try await IdentityFixtures.account(
            coordinator, invitedBy: operatorToken, into: mixedOrganization.id, email: mixedEmail, role: "owner")
        emails[.viewerOwnerElsewhere] = mixed.email
        tokens[.viewerOwnerElsewhere] = mixed.token
        // A user with 2FA on, for the second step of sign-in.
        let twoFactor = try await IdentityFixtures.account(
            coordinator, invitedBy: owner, into: organization.id, email: "two-factor@matrix.test", role: "viewer")
        let client = coordinator.client(token: twoFactor.token)
        let enrollment = try await client.enrollTwoFactor()
        let secret = try #require(Base32.decode(enrollment.secret))
        _ = try await client.confirmTwoFactor(code: TOTP.code(secret: secret, at: clock.now()))
        let joinToken = try await operatorClient.createJoinToken(CreateJoinTokenRequest(description: "matrix"))
        return try MatrixWorld(
            coordinator: coordinator, clock: clock, organization: organization, emails: emails, tokens: tokens,
            twoFactorEmail: twoFactor.email, twoFactorSecret: secret,
            fixed: [
                "org": organization.id, "tenant": organization.tenantID, "site": organization.siteID,
                "task": organization.taskID, "agent": agent, "joinToken": joinToken.joinToken.id,
            ])
    }

    private static func personalAccessToken(
        _ coordinator: TestCoordinator, _ session: String, _ caller: MatrixCaller, clock: ManualWallClock
    ) async throws -> String {
        let abilities = (caller.abilities ?? []).map(\.rawValue).sorted()
        return try await coordinator.client(token: session).createToken(
            name: "\(caller.slug) \(UUID().uuidString.prefix(8))", abilities: abilities,
            expiresAt: clock.now().addingTimeInterval(86_400)
        ).token
    }

    // MARK: Calls

    func token(_ caller: MatrixCaller) -> String? { state.withLock { $0.tokens[caller] } }

    static func password(_ caller: MatrixCaller) -> String {
        caller == .platformOperator ? TestCoordinator.operatorPassword : IdentityFixtures.password
    }

    private func next() -> Int { state.withLock { $0.serial += 1; return $0.serial } }

    /// Makes one call of `route` as `caller`; returns the answer and the ids used.
    func perform(_ route: MatrixRoute, as caller: MatrixCaller) async throws -> (TestHTTP.Reply, [String: String]) {
        var ids = fixed
        if let prepare = route.prepare { ids.merge(try await prepare(self, caller)) { $1 } }
        var path = route.path
        for (key, value) in ids { path = path.replacingOccurrences(of: "{\(key)}", with: value) }
        let bearer = ids["bearer"] ?? token(caller)
        let reply: TestHTTP.Reply
        switch route.body {
        case .none: reply = try await api.send(route.method, path, token: bearer)
        case .json(let make):
            reply = try await api.send(route.method, path, token: bearer, json: try make(self, caller, ids))
        case .archive: reply = try await api.upload(path, token: bearer, archive: archive)
        }
        try await route.after?(self, caller, reply)
        return (reply, ids)
    }

    /// A count from the database, with `{caller}` and the call's ids filled in.
    func count(_ sql: String, caller: MatrixCaller, ids: [String: String]) async throws -> Int {
        var text = sql.replacingOccurrences(of: "{caller}", with: caller.slug)
        for (key, value) in ids { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return try await TestDatabase.count(text, dataDirectory: coordinator.dataDirectory)
    }

    // MARK: Fresh objects for one call

    /// A new token of the caller's kind, as `bearer`, for calls that use one up (rotate, logout,
    /// revoke-all). None for the anonymous caller.
    func freshBearer(_ caller: MatrixCaller) async throws -> [String: String] {
        guard let token = try await newToken(caller) else { return [:] }
        return ["bearer": token]
    }

    /// Replaces the caller's token after a call that may have revoked it.
    func reissue(_ caller: MatrixCaller) async throws {
        guard let token = try await newToken(caller) else { return }
        state.withLock { $0.tokens[caller] = token }
    }

    private func newToken(_ caller: MatrixCaller) async throws -> String? {
        guard let email = emails[caller] else { return nil }
        let session = try await IdentityFixtures.signIn(coordinator, email, password: Self.password(caller)).token
        guard caller.abilities != nil else { return session }
        return try await Self.personalAccessToken(coordinator, session, caller, clock: clock)
    }

    /// The id of another token of the caller's user, as `token` (a random id for the anonymous caller).
    func freshOwnTokenID(_ caller: MatrixCaller) async throws -> [String: String] {
        guard let email = emails[caller] else { return ["token": UUID().uuidString.lowercased()] }
        return ["token": try await IdentityFixtures.signIn(coordinator, email, password: Self.password(caller)).id]
    }

    /// A new viewer of the organization, as `user`.
    func freshMember(for caller: MatrixCaller) async throws -> [String: String] {
        let account = try await IdentityFixtures.account(
            coordinator, invitedBy: try #require(token(.owner)), into: organization.id,
            email: "member-\(next())-for-\(caller.slug)@matrix.test", role: "viewer")
        return ["user": account.userID]
    }

    /// A new open invitation to the organization, as `invitation` and `invitationToken`.
    func freshInvitation(for caller: MatrixCaller) async throws -> [String: String] {
        let created = try await coordinator.client(token: token(.owner)).createInvitation(
            organizationID: organization.id, email: "invitation-\(next())-for-\(caller.slug)@matrix.test", role: "viewer")
        return ["invitation": created.invitation.id, "invitationToken": created.token]
    }

    func freshJoinToken() async throws -> String {
        try await coordinator.client(token: token(.platformOperator))
            .createJoinToken(CreateJoinTokenRequest(description: "to revoke")).joinToken.id
    }

    /// A sign-in challenge of the 2FA user and its code for the next time step (each step signs in once).
    func twoFactorChallenge() async throws -> [String: String] {
        let login = try await coordinator.client(token: nil)
            .login(email: twoFactorEmail, password: IdentityFixtures.password)
        let challenge = try #require(login.challenge)
        clock.advance(by: 30)
        return ["challenge": challenge, "code": TOTP.code(secret: twoFactorSecret, at: clock.now())]
    }

    // MARK: Two-factor state of each caller

    func rememberEnrollment(_ caller: MatrixCaller, _ reply: TestHTTP.Reply) throws {
        guard reply.status == 200, let text = try reply.json()["secret"] as? String else { return }
        let secret = try #require(Base32.decode(text))
        state.withLock { $0.totpSecrets[caller] = secret }
    }

    func rememberRecoveryCodes(_ caller: MatrixCaller, _ reply: TestHTTP.Reply) throws {
        guard reply.status == 200, let codes = try reply.json()["recoveryCodes"] as? [String] else { return }
        state.withLock { $0.recoveryCodes[caller] = codes }
    }

    /// The caller's current TOTP code ("000000" before enrollment).
    func currentCode(_ caller: MatrixCaller) -> String {
        guard let secret = state.withLock({ $0.totpSecrets[caller] }) else { return "000000" }
        return TOTP.code(secret: secret, at: clock.now())
    }

    func recoveryCode(_ caller: MatrixCaller) -> String {
        state.withLock { $0.recoveryCodes[caller]?.first } ?? "aaaa-bbbb-cccc"
    }
}
