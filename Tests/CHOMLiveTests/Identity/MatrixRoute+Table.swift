import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Synchronization
import Testing

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

    /// "METHOD /path/{}/…": a route with its placeholders unnamed (and its query, if any, left out).
    static func normalized(_ method: String, _ path: String) -> String {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return method.uppercased() + " " + route.replacing(/\{[^}]*\}/, with: "{}")
    }

    /// Every operation under `paths:` of the OpenAPI document (two-space path keys, four-space methods).
    static func routes(inContract yaml: String) -> Set<String> {
        var routes = Set<String>()
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                continue  // A blank line inside a block scalar (a description) ends nothing.
            } else if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
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
        route(.stripeWebhook, "POST", "/v1/billing/stripe/webhook", .anyone, nil, 200, body: .stripeEvent),
        route(.alertmanagerWebhook, "POST", "/v1/alerts/alertmanager", .anyone, nil, 200, body: .alertmanagerDelivery),
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

        // Notification channels and the outbox.
        route(.notificationChannelsList, "GET", "/v1/organizations/{org}/notification-channels", .member(.admin),
            .organizationsRead, 200),
        route(.notificationChannelCreate, "POST", "/v1/organizations/{org}/notification-channels", .member(.admin),
            .organizationsWrite, 201,
            body: .json { _, caller, _ in ["kind": "email", "email": "hook-\(caller.slug)@matrix.test", "description": "by \(caller.slug)"] },
            effect: .rowWhenAllowed("notification_channels", where: "description = 'by {caller}'")),
        route(.notificationChannelDelete, "DELETE", "/v1/organizations/{org}/notification-channels/{channel}", .member(.admin),
            .organizationsWrite, 204,
            prepare: { world, caller in try await world.freshChannel(for: caller) },
            effect: .rowWhenAllowed("notification_channels", where: "id = '{channel}' AND deleted_at IS NOT NULL")),
        route(.notificationChannelTest, "POST", "/v1/organizations/{org}/notification-channels/{channel}/test",
            .member(.admin), .organizationsWrite, 202,
            prepare: { world, caller in try await world.freshChannel(for: caller) },
            effect: .rowWhenAllowed("notification_outbox", where: "channel_id = '{channel}' AND event = 'channel.test'")),
        route(.notificationsList, "GET", "/v1/organizations/{org}/notifications", .member(.admin), .organizationsRead, 200),

        // Tenant data.
        route(.sitesList, "GET", "/v1/sites", .authenticated, .sitesRead, 200),
        route(.alertsList, "GET", "/v1/alerts", .authenticated, .sitesRead, 200),
        route(.tenantSitesList, "GET", "/v1/tenants/{tenant}/sites", .member(.viewer), .sitesRead, 200),
        route(.siteCreate, "POST", "/v1/tenants/{tenant}/sites", .member(.member), .sitesWrite, 201,
            body: .json { _, caller, _ in ["domain": "\(caller.slug).matrix.test"] },
            effect: .rowWhenAllowed("sites", where: "domain = '{caller}.matrix.test'")),
        route(.siteRead, "GET", "/v1/sites/{site}", .member(.viewer), .sitesRead, 200),
        route(.releaseUpload, "POST", "/v1/sites/{site}/releases", .member(.member), .sitesDeploy, 201, body: .archive),
        route(.siteDeploy, "POST", "/v1/sites/{site}/deploy", .member(.member), .sitesDeploy, 202,
            body: .json { world, _, _ in ["releaseId": world.organization.releaseID] }),
        route(.taskRead, "GET", "/v1/tasks/{task}", .member(.viewer), .tasksRead, 200),
        route(.siteConfigure, "PUT", "/v1/sites/{site}/config", .member(.member), .sitesWrite, 200,
            body: .json { _, caller, _ in
                ["kind": "static", "aliases": ["\(caller.slug).alias.matrix.test"], "sharedPaths": ["storage"]]
            },
            effect: .rowWhenAllowed("tasks", where: "site_id = '{site}' AND kind = 'configure' AND position(convert_to('{caller}.alias.matrix.test', 'UTF8') in payload) > 0")),
        route(.siteRollback, "POST", "/v1/sites/{site}/rollback", .member(.member), .sitesDeploy, 202,
            body: .json { _, _, _ in [:] }),
        // The matrix's agent is a database row with no stream: an allowed caller's read is queued
        // (and audited) and times out at the world's short siteLogsTimeoutSeconds.
        route(.siteLogsRead, "GET", "/v1/sites/{site}/logs", .member(.member), .sitesRead, 504),
        // The matrix's Prometheus is a closed port: a permitted call gets as far as asking it (503).
        route(.siteMetricsRead, "GET", "/v1/sites/{site}/metrics?series=health&range=1h", .member(.viewer), .sitesRead, 503),
        route(.tenantMetricsRead, "GET", "/v1/tenants/{tenant}/metrics?series=requests", .member(.viewer), .sitesRead, 503),
        route(.siteSuspend, "POST", "/v1/sites/{site}/suspend", .member(.admin), .sitesWrite, 202),
        route(.siteResume, "POST", "/v1/sites/{site}/resume", .member(.admin), .sitesWrite, 202),
        route(.siteRemove, "DELETE", "/v1/sites/{freshSite}", .member(.admin), .sitesWrite, 202,
            prepare: { world, caller in try await world.freshSite(for: caller) },
            effect: .rowWhenAllowed("tasks", where: "site_id = '{freshSite}' AND kind = 'remove'")),
        route(.backupsList, "GET", "/v1/sites/{site}/backups", .member(.viewer), .sitesRead, 200),
        route(.backupCreate, "POST", "/v1/sites/{site}/backups", .member(.member), .sitesDeploy, 202,
            body: .json { _, _, _ in ["encrypt": true] }),
        route(.backupRestore, "POST", "/v1/sites/{site}/backups/{backup}/restore", .member(.admin), .sitesDeploy, 202,
            prepare: { world, _ in try await world.freshBackup() },
            effect: .rowWhenAllowed("tasks", where: "backup_id = '{backup}' AND kind = 'restore'")),
        route(.backupVerify, "POST", "/v1/sites/{site}/backups/{backup}/verify", .member(.member), .sitesDeploy, 202,
            prepare: { world, _ in try await world.freshBackup() },
            effect: .rowWhenAllowed("tasks", where: "backup_id = '{backup}' AND kind = 'verify_backup'")),
        route(.backupScheduleRead, "GET", "/v1/sites/{site}/backup-schedule", .member(.viewer), .sitesRead, 200),
        route(.backupScheduleUpdate, "PUT", "/v1/sites/{site}/backup-schedule", .member(.admin), .sitesWrite, 200,
            body: .json { _, _, _ in ["everyHours": 24, "keepLast": 3] }),

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
        route(.agentCordon, "POST", "/v1/agents/{freshAgent}/cordon", .platformOperator, .agentsWrite, 200,
            prepare: { world, _ in ["freshAgent": try await IdentityFixtures.addAgent(world.coordinator, state: "offline")] },
            effect: .rowWhenAllowed("agents", where: "id = '{freshAgent}' AND scheduling = 'cordoned'")),
        // Billing.
        route(.plansList, "GET", "/v1/billing/plans", .authenticated, .billingRead, 200),
        route(.planCreate, "POST", "/v1/billing/plans", .platformOperator, .billingWrite, 201,
            body: .json { _, caller, _ in
                ["code": "matrix-\(caller.slug)", "name": "Matrix", "currency": "EUR", "monthlyPriceMinor": 1_000]
            },
            effect: .rowWhenAllowed("billing_plans", where: "code = 'matrix-{caller}'")),
        route(.planUpdate, "PUT", "/v1/billing/plans/{plan}", .platformOperator, .billingWrite, 200,
            body: .json { _, _, ids in
                ["code": ids["plan"] ?? "", "name": "Renamed", "currency": "EUR", "monthlyPriceMinor": 2_000]
            },
            prepare: { world, caller in try await world.freshPlan(for: caller) },
            effect: .rowWhenAllowed("billing_plans", where: "code = '{plan}' AND name = 'Renamed'")),
        route(.billingRead, "GET", "/v1/organizations/{org}/billing", .member(.owner), .billingRead, 200),
        // Asked again it changes nothing, so only the answers are checked here (BillingLiveTests checks the effect).
        route(.subscriptionCancel, "POST", "/v1/organizations/{org}/subscription/cancel", .member(.owner), .billingWrite, 200),
        route(.invoicesList, "GET", "/v1/organizations/{org}/invoices", .member(.owner), .billingRead, 200),
        route(.invoiceRead, "GET", "/v1/organizations/{org}/invoices/{invoice}", .member(.owner), .billingRead, 200,
            prepare: { world, _ in try await world.freshInvoice() }),
        route(.creditNoteCreate, "POST", "/v1/organizations/{org}/invoices/{invoice}/credit-notes", .platformOperator,
            .billingWrite, 201,
            body: .json { _, _, _ in ["amountMinor": 100, "reason": "goodwill"] },
            prepare: { world, _ in try await world.freshInvoice() },
            effect: .rowWhenAllowed("credit_notes", where: "invoice_id = '{invoice}'")),
        route(.invoicePayment, "PUT", "/v1/organizations/{org}/invoices/{invoice}/payment", .platformOperator,
            .billingWrite, 200,
            body: .json { _, _, _ in ["status": "paid"] },
            prepare: { world, _ in try await world.freshInvoice() },
            effect: .rowWhenAllowed("invoices", where: "id = '{invoice}' AND status = 'paid'")),
        route(.subscriptionUpdate, "PUT", "/v1/organizations/{org}/subscription", .member(.owner), .billingWrite, 200,
            body: .json { _, _, ids in ["plan": ids["plan"] ?? "", "effective": "period_end"] },
            prepare: { world, caller in try await world.freshPlan(for: caller) },
            effect: .rowWhenAllowed("billing_subscriptions", where: "pending_plan_code = '{plan}'")),
        route(.agentPing, "POST", "/v1/agents/{freshAgent}/ping", .platformOperator, .agentsWrite, 202,
            prepare: { world, _ in ["freshAgent": try await IdentityFixtures.addAgent(world.coordinator, state: "offline")] },
            effect: .rowWhenAllowed("tasks", where: "agent_id = '{freshAgent}' AND kind = 'ping'")),
        route(.agentUncordon, "POST", "/v1/agents/{agent}/uncordon", .platformOperator, .agentsWrite, 200),
        route(.agentDrain, "POST", "/v1/agents/{freshAgent}/drain", .platformOperator, .agentsWrite, 200,
            prepare: { world, _ in ["freshAgent": try await IdentityFixtures.addAgent(world.coordinator, state: "offline")] },
            effect: .rowWhenAllowed("agents", where: "id = '{freshAgent}' AND scheduling = 'draining'")),
        route(.agentLabelsUpdate, "PUT", "/v1/agents/{agent}/labels", .platformOperator, .agentsWrite, 200,
            body: .json { _, caller, _ in ["labels": ["zone": caller.slug]] }),
        // With the default backup destination (a directory on each agent) an allowed caller's move is
        // refused for want of a destination both agents reach: 409 past the policy.
        route(.siteMove, "POST", "/v1/sites/{site}/move", .platformOperator, .agentsWrite, 409),
        route(.siteRequestsUpdate, "PUT", "/v1/sites/{site}/requests", .platformOperator, .agentsWrite, 200,
            body: .json { _, _, _ in ["cpuMillis": 250] },
            prepare: { world, _ in
                // One site for every caller: an earlier caller's override must not pass for this one's.
                try await TestDatabase.execute(
                    "UPDATE sites SET requests = NULL", dataDirectory: world.coordinator.dataDirectory)
                return [:]
            },
            effect: .rowWhenAllowed("sites", where: "id = '{site}' AND requests->>'cpuMillis' = '250'")),
        route(.siteFailoverUpdate, "PUT", "/v1/sites/{site}/failover", .platformOperator, .agentsWrite, 200,
            body: .json { _, _, _ in ["enabled": false] },
            prepare: { world, _ in
                // One site for every caller: an earlier caller's change must not pass for this one's.
                try await TestDatabase.execute(
                    "UPDATE sites SET failover_enabled = true", dataDirectory: world.coordinator.dataDirectory)
                return [:]
            },
            effect: .rowWhenAllowed("sites", where: "id = '{site}' AND failover_enabled = false")),
        route(.migrationsList, "GET", "/v1/migrations", .platformOperator, .agentsRead, 200),
        route(.agentFailoverPlan, "GET", "/v1/agents/{agent}/failover-plan", .platformOperator, .agentsRead, 200),
        // No migration exists in this world: past the policy an allowed caller gets 404.
        route(.migrationRead, "GET", "/v1/migrations/{migration}", .platformOperator, .agentsRead, 404,
            prepare: { _, _ in ["migration": UUID().uuidString.lowercased()] }),
        route(.fleetRebalance, "POST", "/v1/fleet/rebalance", .platformOperator, .agentsWrite, 200,
            body: .json { _, _, _ in [:] }),
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
