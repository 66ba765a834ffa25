import CHOMAPI
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// A site no agent can take: 409 `site-cannot-be-placed` with the reasons summarized; the list of
/// agents with each one's reasons goes to platform operators only (the fleet is not a tenant's).
@Suite("Placement refused: the reasons, and who sees the fleet's agents")
struct PlacementRefusalTests {
    @Test("with every agent cordoned, an operator sees each agent and its reason, a tenant owner only the summary")
    func refusalShownByAudience() async throws {
        try await TestCoordinator.with { coordinator in
            let agent = try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Refused", operatorToken: coordinator.operatorToken)
            _ = try await coordinator.client.setScheduling(agent: agent, "cordon")
            let api = RawAPI(coordinator)
            let path = "/v1/tenants/\(organization.tenantID)/sites"

            let asOperator = try await api.send("POST", path, token: coordinator.operatorToken, json: ["domain": "op.refused.test"])
            #expect(asOperator.status == 409, "\(asOperator.text)")
            let operatorBody = try asOperator.json()
            #expect(operatorBody["type"] as? String == "https://chom.dev/problems/site-cannot-be-placed")
            #expect(IdentityFixtures.detail(asOperator).contains("cordoned"), "\(asOperator.text)")
            let listed = try #require(operatorBody["agents"] as? [[String: Any]], "\(asOperator.text)")
            let entry = try #require(listed.first { $0["agentId"] as? String == agent })
            #expect((entry["reasons"] as? [String])?.contains { $0.contains("cordoned") } == true, "\(entry)")

            let asOwner = try await api.send("POST", path, token: organization.owner.token, json: ["domain": "owner.refused.test"])
            #expect(asOwner.status == 409, "\(asOwner.text)")
            let ownerBody = try asOwner.json()
            #expect(ownerBody["type"] as? String == "https://chom.dev/problems/site-cannot-be-placed")
            #expect(ownerBody["agents"] == nil, "a tenant owner was shown the fleet's agents: \(asOwner.text)")
            #expect(!asOwner.text.contains(agent) && !asOwner.text.contains("db-agent-"), "\(asOwner.text)")
            #expect(IdentityFixtures.detail(asOwner).contains("cordoned"), "\(asOwner.text)")

            // Uncordoned, the same request succeeds; nothing was created by the refused ones.
            _ = try await coordinator.client.setScheduling(agent: agent, "uncordon")
            let created = try await api.send("POST", path, token: organization.owner.token, json: ["domain": "owner.refused.test"])
            #expect(created.status == 201, "\(created.text)")
            #expect(try await TestDatabase.count(
                "SELECT count(*) FROM sites WHERE domain = 'op.refused.test'", dataDirectory: coordinator.dataDirectory) == 0)
        }
    }

    @Test("a move with a backup destination only the source agent reaches is refused with what to configure, and changes nothing")
    func moveWithoutSharedDestination() async throws {
        try await TestCoordinator.with { coordinator in
            let first = try await IdentityFixtures.addAgent(coordinator)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Unshared", operatorToken: coordinator.operatorToken)
            let second = try await IdentityFixtures.addAgent(coordinator)
            let api = RawAPI(coordinator)
            let refused = try await api.send(
                "POST", "/v1/sites/\(organization.siteID)/move", token: coordinator.operatorToken, json: ["agentId": second])
            #expect(refused.status == 409, "\(refused.text)")
            let detail = IdentityFixtures.detail(refused)
            #expect(detail.contains("backups.destination.s3") && detail.contains("fleet.sharedBackupDirectory"), "\(detail)")
            #expect(try await coordinator.client.migrations().isEmpty)
            let site = try await coordinator.client.site(organization.siteID)
            #expect(site.agentId == first && site.state != "migrating", "\(site)")
        }
    }
}
