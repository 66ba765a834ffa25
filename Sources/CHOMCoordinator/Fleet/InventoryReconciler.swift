import CHOMCore
import Foundation

/// The difference between what an agent holds (its inventory) and what the coordinator placed on
/// it, as actions. Pure: no I/O, the time is passed in; `InventoryApplier` reads the facts and
/// applies the answer.
///
/// | the agent holds | the site is | answer |
/// |---|---|---|
/// | the site | placed here, same release, config version and suspension | nothing |
/// | the site | placed here, older config version or other suspension | `configure` |
/// | the site | placed here, another release (or none) than the live one | `deploy` of the live one |
/// | nothing | placed here, configured or deployed once | `configure` (+ `deploy` of the live release) |
/// | the site | placed elsewhere, for less than the grace | `wait` until placed + grace |
/// | the site | placed elsewhere, for longer than the grace | `removeStaleCopy` (backed up first) |
/// | the site | removed, still placed here | `removeStaleCopy` |
/// | anything | work on it with this agent in flight (a task, a migration) | `wait` |
///
/// Never a configure or deploy for a site being removed, removed or whose removal failed, nor for
/// one moving (a migration or failover has its own steps), nor for one whose last configure or
/// deploy failed (`config_failed`, `deploy_failed`): repeating a failing task every inventory helps
/// nobody; the site's next change or deploy tries again. A copy is never removed while the site
/// has no agent at all (it may be the only one left).
struct InventoryReconciler: Sendable {
    /// A site as the agent reported it.
    struct Held: Sendable, Equatable {
        var siteID: SiteID
        /// The release `current` points at; empty when none is live.
        var releaseID: String
        /// The config version the agent last applied (0: unknown).
        var configVersion: UInt64
        var suspended: Bool
    }

    /// A site placed on the reporting agent.
    struct Placed: Sendable, Equatable {
        var siteID: SiteID
        var state: SiteState
        var currentRelease: ReleaseID?
        var configVersion: Int64
        var suspended: Bool
        /// Configured or deployed at least once: the agent should hold it.
        var hasTree: Bool
        /// A task of the site on this agent is open (queued, sent or accepted), or a migration.
        var inFlight: Bool
    }

    /// A site the agent holds that is placed on another agent (or on none).
    struct Elsewhere: Sendable, Equatable {
        var siteID: SiteID
        var agent: AgentID?
        /// When the site was placed on `agent`.
        var placedAt: Date
        /// A migration or restore of the site involving the reporting agent is still in flight.
        var inFlight: Bool
    }

    enum Action: Sendable, Equatable, Hashable {
        /// Back the copy up (`stale_copy`) and remove it from the reporting agent.
        case removeStaleCopy(SiteID)
        case configure(SiteID)
        case deploy(SiteID, ReleaseID)
        /// Nothing yet: after `until` (a grace), or once the work in flight is done (nil).
        case wait(SiteID, until: Date?)

        var siteID: SiteID {
            switch self {
            case .removeStaleCopy(let id), .configure(let id), .deploy(let id, _), .wait(let id, _): id
            }
        }

        var isWait: Bool {
            if case .wait = self { return true }
            return false
        }
    }

    /// How long a copy outlives its site's placement elsewhere (the DNS TTL plus a margin).
    var grace: TimeInterval

    /// States in which a site placed here is never configured or deployed by reconciliation.
    static let leftAlone: Set<SiteState> = [
        .removing, .removed, .removeFailed, .configFailed, .deployFailed, .migrating, .failingOver,
    ]

    /// The actions for one inventory, placed sites first (in id order), then the copies held elsewhere.
    func reconcile(holds: [Held], placed: [Placed], elsewhere: [Elsewhere], now: Date) -> [Action] {
        var held: [SiteID: Held] = [:]
        for entry in holds where held[entry.siteID] == nil { held[entry.siteID] = entry }
        var actions: [Action] = []
        for site in placed.sorted(by: { $0.siteID.uuid.uuidString < $1.siteID.uuid.uuidString }) {
            actions += reconcile(placed: site, held: held[site.siteID])
        }
        let placedIDs = Set(placed.map(\.siteID))
        for copy in elsewhere.sorted(by: { $0.siteID.uuid.uuidString < $1.siteID.uuid.uuidString })
        where held[copy.siteID] != nil && !placedIDs.contains(copy.siteID) {
            actions.append(reconcile(copy: copy, now: now))
        }
        return actions
    }

    private func reconcile(placed site: Placed, held: Held?) -> [Action] {
        if site.state == .removed {
            guard held != nil else { return [] }
            return [site.inFlight ? .wait(site.siteID, until: nil) : .removeStaleCopy(site.siteID)]
        }
        guard held != nil || site.hasTree else { return [] }
        if site.inFlight { return [.wait(site.siteID, until: nil)] }
        guard !Self.leftAlone.contains(site.state) else { return [] }
        guard let held else {
            return [.configure(site.siteID)] + (site.currentRelease.map { [.deploy(site.siteID, $0)] } ?? [])
        }
        var actions: [Action] = []
        if held.configVersion < UInt64(max(0, site.configVersion)) || held.suspended != site.suspended {
            actions.append(.configure(site.siteID))
        }
        if let release = site.currentRelease, ReleaseID(held.releaseID) != release {
            actions.append(.deploy(site.siteID, release))
        }
        return actions
    }

    private func reconcile(copy: Elsewhere, now: Date) -> Action {
        if copy.inFlight || copy.agent == nil { return .wait(copy.siteID, until: nil) }
        let due = copy.placedAt.addingTimeInterval(grace)
        return now < due ? .wait(copy.siteID, until: due) : .removeStaleCopy(copy.siteID)
    }
}
