import CHOMAPI
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// Broken object-level authorization (BOLA): one organization's people cannot read, change or
/// even detect another organization's objects by naming their ids, lists show only their own,
/// and no request body can set what the server manages (tenant, role, state, operator flag).
@Suite("Tenant isolation between organizations", .serialized)
struct TenantIsolationTests {
    /// Two organizations, Alpha and Bravo, each filled as `OrganizationFixture` describes.
    private static func withTwoOrganizations(
        _ body: (TestCoordinator, RawAPI, OrganizationFixture, OrganizationFixture) async throws -> Void
    ) async throws {
        try await TestCoordinator.with { coordinator in
            try await IdentityFixtures.addAgent(coordinator)
            let alpha = try await IdentityFixtures.organization(
                coordinator, name: "Alpha", operatorToken: coordinator.operatorToken)
            let bravo = try await IdentityFixtures.organization(
                coordinator, name: "Bravo", operatorToken: coordinator.operatorToken)
            try await body(coordinator, RawAPI(coordinator), alpha, bravo)
        }
    }

    /// Everything of `organization` its owner can read, as JSON text, plus database counts of
    /// what the API does not list; compared before and after the other organization's attempts.
    private static func snapshot(_ api: RawAPI, _ coordinator: TestCoordinator, _ organization: OrganizationFixture)
        async throws -> [String]
    {
        let token = organization.owner.token
        var texts: [String] = []
        for path in [
            "/v1/organizations/\(organization.id)", "/v1/organizations/\(organization.id)/tenants",
            "/v1/organizations/\(organization.id)/members", "/v1/organizations/\(organization.id)/invitations",
            "/v1/tenants/\(organization.tenantID)/sites", "/v1/sites/\(organization.siteID)",
            "/v1/tasks/\(organization.taskID)", "/v1/tokens", "/v1/organizations/\(organization.id)/invoices",
            "/v1/organizations/\(organization.id)/notification-channels", "/v1/organizations/\(organization.id)/notifications",
        ] {
            let reply = try await api.send("GET", path, token: token)
            #expect(reply.status == 200, "\(organization.name) owner GET \(path): \(reply.text)")
            // The snapshot's own requests move the owner's session `lastUsedAt` (once a minute at
            // most); that is the owner's use, not a change made by anyone else.
            texts.append(reply.text.replacing(#/"lastUsedAt":"[^"]*"/#, with: #""lastUsedAt":"…""#))
        }
        // The subscription, as nobody else may change it (the billing answer itself moves with the clock).
        texts.append("subscription unchanged: " + String(try await TestDatabase.count("""
            SELECT count(*) FROM billing_subscriptions WHERE organization_id = '\(organization.id)'
              AND plan_code = 'unmetered' AND NOT cancel_at_period_end AND pending_plan_code IS NULL
            """, dataDirectory: coordinator.dataDirectory)))
        for table in ["releases", "tasks", "backups", "backup_schedules"] {
            let count = try await TestDatabase.count(
                "SELECT count(*) FROM \(table) WHERE site_id = '\(organization.siteID)'",
                dataDirectory: coordinator.dataDirectory)
            texts.append("\(table): \(count)")
        }
        return texts
    }

    @Test("another organization's ids answer like missing ones (404 to an owner), reveal nothing, change nothing")
    func foreignIDsLookMissing() async throws {
        try await Self.withTwoOrganizations { coordinator, api, alpha, bravo in
            let bBackup = try await IdentityFixtures.addBackup(coordinator, site: bravo.siteID, tenant: bravo.tenantID)
            // An invoice of Bravo's, as a period close leaves it.
            let bInvoice = UUID().uuidString.lowercased()
            try await TestDatabase.execute("""
                INSERT INTO invoices (id, organization_id, issuer, number, status, period_start, period_end, plan_code,
                    currency, total_minor, finalized_at)
                VALUES ('\(bInvoice)', '\(bravo.id)', 'Isolation', 1, 'open', now() - interval '31 days',
                    now() - interval '1 day', 'unmetered', 'EUR', 2900, now())
                """, dataDirectory: coordinator.dataDirectory)
            // A webhook channel of Bravo's.
            let bChannel = try await coordinator.client(token: bravo.owner.token).createNotificationChannel(
                organizationID: bravo.id,
                CreateNotificationChannelRequest(kind: "email", email: "ops@bravo.test")).channel.id
            let before = try await Self.snapshot(api, coordinator, bravo)
            let archive = try IdentityFixtures.releaseArchive()
            let b = bravo
            let a = alpha.siteID
            let probes: [(String, String, [String: any Sendable]?)] = [
                ("GET", "/v1/organizations/\(b.id)", nil),
                ("PATCH", "/v1/organizations/\(b.id)", ["name": "taken over"]),
                ("GET", "/v1/organizations/\(b.id)/tenants", nil),
                ("POST", "/v1/organizations/\(b.id)/tenants", ["name": "planted"]),
                ("GET", "/v1/tenants/\(b.tenantID)", nil),
                ("GET", "/v1/tenants/\(b.tenantID)/sites", nil),
                ("POST", "/v1/tenants/\(b.tenantID)/sites", ["domain": "planted.bravo.test"]),
                ("GET", "/v1/organizations/\(b.id)/members", nil),
                ("PATCH", "/v1/organizations/\(b.id)/members/\(b.viewer.userID)", ["role": "owner"]),
                ("DELETE", "/v1/organizations/\(b.id)/members/\(b.viewer.userID)", nil),
                // Bravo's user through Alpha's own organization.
                ("PATCH", "/v1/organizations/\(alpha.id)/members/\(b.viewer.userID)", ["role": "admin"]),
                ("DELETE", "/v1/organizations/\(alpha.id)/members/\(b.owner.userID)", nil),
                ("GET", "/v1/organizations/\(b.id)/invitations", nil),
                ("POST", "/v1/organizations/\(b.id)/invitations", ["email": "spy@alpha.test", "role": "owner"]),
                ("DELETE", "/v1/organizations/\(b.id)/invitations/\(b.openInvitationID)", nil),
                ("DELETE", "/v1/organizations/\(alpha.id)/invitations/\(b.openInvitationID)", nil),
                ("GET", "/v1/sites/\(b.siteID)", nil),
                ("GET", "/v1/sites/\(b.domain)", nil),
                ("GET", "/v1/sites/\(b.domain.uppercased())", nil),
                ("POST", "/v1/sites/\(b.siteID)/deploy", ["releaseId": b.releaseID]),
                ("POST", "/v1/sites/\(b.domain)/deploy", ["releaseId": b.releaseID]),
                // Bravo's release deployed to Alpha's own site.
                ("POST", "/v1/sites/\(alpha.siteID)/deploy", ["releaseId": b.releaseID]),
                ("GET", "/v1/tasks/\(b.taskID)", nil),
                // Site tasks and backups: Bravo's site, and Bravo's ids through Alpha's own site.
                ("PUT", "/v1/sites/\(b.siteID)/config", ["kind": "static"]),
                ("POST", "/v1/sites/\(b.siteID)/rollback", [:]),
                ("POST", "/v1/sites/\(a)/rollback", ["releaseId": b.releaseID]),
                ("POST", "/v1/sites/\(b.siteID)/suspend", nil),
                ("POST", "/v1/sites/\(b.siteID)/resume", nil),
                ("DELETE", "/v1/sites/\(b.siteID)", nil),
                ("GET", "/v1/sites/\(b.siteID)/logs", nil),
                ("GET", "/v1/sites/\(b.domain)/logs?kind=error&tail=10", nil),
                ("GET", "/v1/sites/\(b.siteID)/backups", nil),
                ("POST", "/v1/sites/\(b.siteID)/backups", [:]),
                ("POST", "/v1/sites/\(b.siteID)/backups/\(bBackup)/restore", [:]),
                ("POST", "/v1/sites/\(a)/backups/\(bBackup)/restore", [:]),
                ("POST", "/v1/sites/\(b.siteID)/backups/\(bBackup)/verify", nil),
                ("POST", "/v1/sites/\(a)/backups/\(bBackup)/verify", nil),
                ("GET", "/v1/sites/\(b.siteID)/backup-schedule", nil),
                ("PUT", "/v1/sites/\(b.siteID)/backup-schedule", ["everyHours": 1]),
                ("DELETE", "/v1/tokens/\(b.owner.tokenID)", nil),
                // Billing: Bravo's plan, usage, invoices and subscription, and Bravo's invoice through Alpha.
                ("GET", "/v1/organizations/\(b.id)/billing", nil),
                ("PUT", "/v1/organizations/\(b.id)/subscription", ["plan": "unmetered", "effective": "period_end"]),
                ("POST", "/v1/organizations/\(b.id)/subscription/cancel", nil),
                ("GET", "/v1/organizations/\(b.id)/invoices", nil),
                ("GET", "/v1/organizations/\(b.id)/invoices/\(bInvoice)", nil),
                ("GET", "/v1/organizations/\(b.id)/invoices/\(bInvoice)?format=html", nil),
                ("GET", "/v1/organizations/\(alpha.id)/invoices/\(bInvoice)", nil),
                ("GET", "/v1/organizations/\(alpha.id)/invoices/\(bInvoice)?format=csv", nil),
                // Observability: Bravo's site's and tenant's metrics, and alerts filtered by Bravo's site.
                ("GET", "/v1/sites/\(b.siteID)/metrics?series=health&range=1h", nil),
                ("GET", "/v1/sites/\(b.domain)/metrics?series=requests", nil),
                ("GET", "/v1/tenants/\(b.tenantID)/metrics?series=disk&range=24h", nil),
                ("GET", "/v1/alerts?site=\(b.siteID)", nil),
                ("GET", "/v1/alerts?site=\(b.domain)", nil),
                // Notifications: Bravo's channels and outbox, and Bravo's channel through Alpha.
                ("GET", "/v1/organizations/\(b.id)/notification-channels", nil),
                ("POST", "/v1/organizations/\(b.id)/notification-channels", ["kind": "email", "email": "spy@alpha.test"]),
                ("DELETE", "/v1/organizations/\(b.id)/notification-channels/\(bChannel)", nil),
                ("POST", "/v1/organizations/\(b.id)/notification-channels/\(bChannel)/test", nil),
                ("DELETE", "/v1/organizations/\(alpha.id)/notification-channels/\(bChannel)", nil),
                ("POST", "/v1/organizations/\(alpha.id)/notification-channels/\(bChannel)/test", nil),
                ("GET", "/v1/organizations/\(b.id)/notifications", nil),
            ]
            let uploads = ["/v1/sites/\(b.siteID)/releases", "/v1/sites/\(b.domain)/releases"]
            // Each of Bravo's ids has a twin that names nothing: Bravo's objects must answer like their twins.
            var twins: [(String, String)] = [
                (b.domain.uppercased(), "NOWHERE.MISSING.TEST"), (b.domain, "nowhere.missing.test"),
            ]
            for id in [
                b.id, b.tenantID, b.siteID, b.releaseID, b.taskID, b.viewer.userID, b.owner.userID, b.openInvitationID,
                b.owner.tokenID, bBackup, bInvoice, bChannel,
            ] {
                twins.append((id, UUID().uuidString.lowercased()))
            }
            func twin(_ text: String) -> String {
                twins.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            }
            func send(_ method: String, _ path: String, _ json: [String: any Sendable]?, _ token: String) async throws
                -> TestHTTP.Reply
            {
                uploads.contains(path) || uploads.map(twin).contains(path)
                    ? try await api.upload(path, token: token, archive: archive)
                    : try await api.send(method, path, token: token, json: json)
            }
            let allProbes = probes + uploads.map { ("POST", $0, nil) }
            for caller in [alpha.owner, alpha.admin, alpha.member, alpha.viewer] {
                for (method, path, json) in allProbes {
                    let what = "\(caller.email) \(method) \(path)"
                    let reply = try await send(method, path, json, caller.token)
                    let twinJSON = json?.mapValues { value -> any Sendable in (value as? String).map(twin) ?? value }
                    let missing = try await send(method, twin(path), twinJSON, caller.token)
                    // The owner passes every role check: only the lookup can refuse, with 404. Weaker roles may
                    // be refused by their role first (403), but never differently than for an id that does not exist.
                    if caller.email == alpha.owner.email {
                        #expect(reply.status == 404, "\(what): expected 404, got \(reply.status) \(reply.text)")
                    }
                    #expect(!(200..<300).contains(reply.status), "\(what): \(reply.status) \(reply.text)")
                    #expect(
                        reply.status == missing.status, "\(what): \(reply.status), but \(missing.status) for a missing id")
                    #expect(
                        twin(IdentityFixtures.detail(reply)) == IdentityFixtures.detail(missing),
                        "\(what): '\(reply.text)' differs from the answer for a missing id '\(missing.text)'")
                    let sent = path + (json.map { "\($0)" } ?? "")
                    Self.expectNothingNamed(reply, what, sent: sent, of: bravo)
                }
            }
            // Ids in a body: a foreign tenant is refused exactly like one that does not exist.
            let missingTenant = UUID().uuidString.lowercased()
            for (method, path, json) in [
                ("POST", "/v1/organizations/\(alpha.id)/invitations", ["email": "x@alpha.test", "role": "viewer"]),
                ("PATCH", "/v1/organizations/\(alpha.id)/members/\(alpha.viewer.userID)", [:]),
            ] as [(String, String, [String: any Sendable])] {
                var foreign = json
                foreign["tenantIds"] = [b.tenantID]
                var missing = json
                missing["tenantIds"] = [missingTenant]
                let foreignReply = try await api.send(method, path, token: alpha.owner.token, json: foreign)
                let missingReply = try await api.send(method, path, token: alpha.owner.token, json: missing)
                #expect(foreignReply.status == 400, "\(method) \(path) with Bravo's tenant: \(foreignReply.text)")
                #expect(
                    foreignReply.text.replacingOccurrences(of: b.tenantID, with: missingTenant) == missingReply.text,
                    "\(method) \(path): a foreign tenant must look like a missing one")
            }
            let after = try await Self.snapshot(api, coordinator, bravo)
            #expect(after == before, "Bravo changed after Alpha's attempts")
            // Bravo's owner is still signed in with the token Alpha tried to revoke.
            #expect(try await api.send("GET", "/v1/me", token: bravo.owner.token).status == 200)
        }
    }

    /// The answer names nothing of `organization` beyond what the request itself `sent`.
    private static func expectNothingNamed(
        _ reply: TestHTTP.Reply, _ what: String, sent: String, of organization: OrganizationFixture
    ) {
        let text = reply.text.lowercased()
        let hidden = organization.privateWords.filter { !sent.lowercased().contains($0.lowercased()) }
        for word in hidden where text.contains(word.lowercased()) {
            Issue.record("\(what): the answer names '\(word)': \(reply.text)")
        }
    }

    @Test("lists of sites, organizations, members, tokens and the audit log show only the caller's own objects")
    func listsShowOnlyOwnObjects() async throws {
        try await Self.withTwoOrganizations { coordinator, api, alpha, bravo in
            for (mine, theirs) in [(alpha, bravo), (bravo, alpha)] {
                for caller in mine.people {
                    for path in [
                        "/v1/sites", "/v1/organizations", "/v1/audit", "/v1/tokens", "/v1/me",
                        "/v1/organizations/\(mine.id)/members", "/v1/organizations/\(mine.id)/tenants",
                        "/v1/tenants/\(mine.tenantID)/sites", "/v1/alerts",
                    ] {
                        let reply = try await api.send("GET", path, token: caller.token)
                        if path == "/v1/audit" && [mine.member.email, mine.viewer.email].contains(caller.email) {
                            #expect(reply.status == 403, "\(caller.email) GET /v1/audit: \(reply.text)")
                            continue
                        }
                        #expect(reply.status == 200, "\(caller.email) GET \(path): \(reply.text)")
                        let text = reply.text.lowercased()
                        let leaks = (theirs.privateWords + [theirs.id, theirs.tenantID, theirs.siteID, theirs.taskID])
                            .filter { text.contains($0.lowercased()) }
                        #expect(leaks.isEmpty, "\(caller.email) GET \(path) shows \(leaks)")
                    }
                }
                // The lists are not empty by accident: each shows the caller's own objects.
                let sites = try await coordinator.client(token: mine.viewer.token).sites().map(\.domain)
                #expect(sites == [mine.domain])
                let organizations = try await coordinator.client(token: mine.viewer.token).allOrganizations().map(\.id)
                #expect(organizations == [mine.id])
                let audit = try await api.send("GET", "/v1/audit", token: mine.owner.token).json()
                let entries = try #require(audit["items"] as? [[String: Any]])
                #expect(!entries.isEmpty)
                #expect(entries.allSatisfy { $0["organizationId"] as? String == mine.id })
            }
            // The operator sees both: the checks above are not vacuous.
            let all = try await coordinator.client.sites().map(\.domain)
            #expect(Set(all) == [alpha.domain, bravo.domain])
            // A member limited to one tenant does not see the organization's other tenants' sites.
            let second = try await coordinator.client(token: alpha.owner.token)
                .createTenant(organizationID: alpha.id, name: "Alpha second")
            let limited = try await IdentityFixtures.account(
                coordinator, invitedBy: alpha.owner.token, into: alpha.id, email: "limited@alpha.test", role: "admin",
                tenantIDs: [second.id])
            let limitedSites = try await api.send("GET", "/v1/sites", token: limited.token)
            #expect(limitedSites.status == 200)
            #expect(!limitedSites.text.contains(alpha.domain))
            for path in ["/v1/sites/\(alpha.siteID)", "/v1/tenants/\(alpha.tenantID)", "/v1/tasks/\(alpha.taskID)"] {
                let reply = try await api.send("GET", path, token: limited.token)
                #expect(reply.status == 404, "tenant-limited admin GET \(path): \(reply.text)")
            }
        }
    }

    @Test("request bodies cannot set server-managed fields (400 unknown field), and answers never carry stored secrets")
    func serverManagedFieldsAndSecrets() async throws {
        try await Self.withTwoOrganizations { coordinator, api, alpha, bravo in
            let owner = alpha.owner.token
            let operatorToken = coordinator.operatorToken
            let expiry = IdentityFixtures.iso(Date().addingTimeInterval(86_400))
            let refused: [(String, String, String?, [String: any Sendable], String)] = [
                ("POST", "/v1/tenants/\(alpha.tenantID)/sites", owner,
                 ["domain": "mass.alpha.test", "tenantId": bravo.tenantID], "tenantId"),
                ("POST", "/v1/tenants/\(alpha.tenantID)/sites", owner,
                 ["domain": "mass.alpha.test", "state": "active"], "state"),
                ("POST", "/v1/invitations/accept", nil,
                 ["token": alpha.openInvitationToken, "password": IdentityFixtures.password, "role": "owner"], "role"),
                ("POST", "/v1/invitations/accept", nil,
                 ["token": alpha.openInvitationToken, "password": IdentityFixtures.password, "isOperator": true],
                 "isOperator"),
                ("POST", "/v1/organizations/\(alpha.id)/tenants", owner,
                 ["name": "mass", "organizationId": bravo.id], "organizationId"),
                ("POST", "/v1/organizations", operatorToken, ["name": "mass", "ownerId": alpha.owner.userID], "ownerId"),
                ("PATCH", "/v1/organizations/\(alpha.id)", owner, ["name": "mass", "id": bravo.id], "id"),
                ("PATCH", "/v1/organizations/\(alpha.id)/members/\(alpha.viewer.userID)", owner,
                 ["role": "viewer", "isOperator": true], "isOperator"),
                ("POST", "/v1/organizations/\(alpha.id)/invitations", owner,
                 ["email": "mass@alpha.test", "role": "viewer", "organizationId": bravo.id], "organizationId"),
                ("POST", "/v1/sites/\(alpha.siteID)/deploy", owner, ["releaseId": alpha.releaseID, "state": "succeeded"],
                 "state"),
                ("POST", "/v1/tokens", owner,
                 ["name": "mass", "abilities": ["sites:read"], "expiresAt": expiry, "userId": bravo.owner.userID], "userId"),
                ("POST", "/v1/tokens", owner,
                 ["name": "mass", "abilities": ["sites:read"], "expiresAt": expiry, "kind": "session"], "kind"),
                ("POST", "/v1/auth/login", nil,
                 ["email": alpha.viewer.email, "password": IdentityFixtures.password, "isOperator": true], "isOperator"),
                ("POST", "/v1/me/password", alpha.viewer.token,
                 ["currentPassword": IdentityFixtures.password, "newPassword": "another-password-0123",
                  "userId": bravo.owner.userID], "userId"),
                ("POST", "/v1/join-tokens", operatorToken, ["description": "mass", "uses": 0], "uses"),
            ]
            for (method, path, token, json, field) in refused {
                let reply = try await api.send(method, path, token: token, json: json)
                #expect(reply.status == 400, "\(method) \(path) with \(field): \(reply.status) \(reply.text)")
                #expect(IdentityFixtures.detail(reply) == "unknown field '\(field)'", "\(method) \(path): \(reply.text)")
            }
            // Nothing of it happened.
            #expect(try await api.send("GET", "/v1/sites/mass.alpha.test", token: owner).status == 404)
            let organizations = try await coordinator.client.allOrganizations().map(\.name)
            #expect(!organizations.contains("mass"))
            #expect(try await IdentityFixtures.signIn(coordinator, alpha.viewer.email).token.hasPrefix("chom_"))
            let site = try await coordinator.client(token: owner).site(alpha.siteID)
            #expect(site.state == "deploying")
            // The invitation still works, with the role it was made with.
            let accepted = try await coordinator.client(token: nil).acceptInvitation(
                token: alpha.openInvitationToken, password: IdentityFixtures.password)
            #expect(!accepted.user.isOperator)
            #expect(accepted.memberships.map(\.role) == ["viewer"])
            #expect(accepted.memberships.map(\.organizationId) == [alpha.id])

            // No answer carries a password hash, a token's digest or a sealed secret.
            let issued = try await api.send(
                "POST", "/v1/tokens", token: owner,
                json: ["name": "scan", "abilities": ["sites:read"], "expiresAt": expiry])
            #expect(issued.status == 201)
            let issuedToken = try #require(try issued.json()["token"] as? String)
            var replies = [issued]
            replies.append(try await api.send(
                "POST", "/v1/auth/login", token: nil,
                json: ["email": alpha.owner.email, "password": IdentityFixtures.password]))
            for path in [
                "/v1/me", "/v1/tokens", "/v1/organizations", "/v1/organizations/\(alpha.id)/members",
                "/v1/organizations/\(alpha.id)/invitations", "/v1/audit", "/v1/sites",
            ] {
                replies.append(try await api.send("GET", path, token: owner))
            }
            for path in ["/v1/join-tokens", "/v1/agents", "/v1/audit"] {
                replies.append(try await api.send("GET", path, token: operatorToken))
            }
            for reply in replies {
                #expect((200..<300).contains(reply.status), "\(reply.text)")
                let keys = IdentityFixtures.keys(in: try JSONSerialization.jsonObject(with: reply.body))
                #expect(keys.isDisjoint(with: IdentityFixtures.secretKeys), "secret keys in \(reply.text)")
                #expect(!reply.text.contains("$2b$") && !reply.text.contains("$2a$"), "a bcrypt hash in \(reply.text)")
                #expect(!reply.text.contains("chomsec:"), "a sealed secret in \(reply.text)")
                #expect(!reply.text.contains(IdentityFixtures.password), "a password in \(reply.text)")
            }
            // After the one answer that issued it, the token's secret is nowhere (not in lists, not in the audit log).
            for reply in replies.dropFirst() {
                let secret = String(issuedToken.dropFirst(27).prefix(43))
                #expect(!reply.text.contains(secret), "the token's secret in \(reply.text)")
            }
        }
    }
}
