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
        try await TestCoordinator.with(clock: clock, configure: {
            $0.auth.loginAttemptsPerAddress = 100_000
            $0.dispatch.siteLogsTimeoutSeconds = 0.05
            $0.billing.stripeWebhookSecretFile = MatrixWorld.stripeSecretFile()
            $0.notifications.alertmanagerTokenFile = MatrixWorld.alertmanagerTokenFile()
            $0.observability.prometheusURL = "http://127.0.0.1:9"
            $0.observability.queryTimeoutSeconds = 1
        }) {
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
                // Notification channels carry every tenant's events, and the outbox names them.
                ("GET", "/v1/organizations/\(organization.id)/notification-channels", [:]),
                ("POST", "/v1/organizations/\(organization.id)/notification-channels", ["kind": "email", "email": "spy@reach.test"]),
                ("GET", "/v1/organizations/\(organization.id)/notifications", [:]),
            ]
            for (method, path, json) in attempts {
                let reply = try await api.send(method, path, token: limited.token, json: method == "DELETE" || method == "GET" ? nil : json)
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
