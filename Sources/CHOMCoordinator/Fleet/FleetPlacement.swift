import CHOMAPI
import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation

/// A site no agent can take: 409 with the reasons summarized and, for platform operators, every
/// agent's own (`Problem`). Tenants see only the summary: the fleet's agents are not theirs to list.
struct PlacementRefused: Error, CustomStringConvertible {
    static let problemType = "https://chom.dev/problems/site-cannot-be-placed"
    let refusal: PlacementRefusal
    let names: [AgentID: String]
    /// Whether the answer lists each agent (its id, name and reasons).
    var listsAgents = true

    /// The same refusal, listing agents only when `caller` is a platform operator.
    func shown(to principal: Principal) -> PlacementRefused {
        var shown = self
        shown.listsAgents = principal.isOperator
        return shown
    }

    var description: String { "the site cannot be placed: \(refusal.description)" }

    var agents: [PlacementRefusalAgent] {
        refusal.perAgent.map { agent, reasons in
            PlacementRefusalAgent(
                agentId: agent.description, agentName: names[agent] ?? "", reasons: reasons.map(\.description))
        }.sorted { ($0.agentName, $0.agentId) < ($1.agentName, $1.agentId) }
    }
}

/// Placement over the stored fleet: reads the fleet, asks the scheduler. Callers that then write
/// the placement hold the placement lock (`FleetRepository.lockPlacement`) in their transaction.
struct FleetPlacement: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration.Fleet

    var scheduler: Scheduler { Scheduler(policy: configuration.scheduler) }

    func view() async throws -> FleetView {
        FleetView(
            agents: try await store.agents.list(), sites: try await store.fleet.placedSites(),
            openMigrations: try await store.migrations.open(), defaults: configuration.siteRequests)
    }

    /// The agent for a site (a new one, or one moving off `excluding`), or `PlacementRefused`.
    func place(
        site: SiteID, tenant: TenantID, kind: SiteSettings.Kind, requests: Resources? = nil,
        excluding: Set<AgentID> = [], in view: FleetView
    ) throws -> AgentID {
        let demand = SiteDemand(
            siteID: site, tenantID: tenant, kind: kind,
            requests: requests ?? configuration.siteRequests.requests(for: kind))
        switch scheduler.place(demand, on: view.agents, excluding: excluding) {
        case .success(let choice): return choice.agentID
        case .failure(let refusal):
            throw PlacementRefused(refusal: refusal, names: view.records.mapValues(\.name))
        }
    }
}
