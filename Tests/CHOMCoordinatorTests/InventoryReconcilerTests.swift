@testable import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("Inventory reconciler: what an agent holds against what is placed on it")
struct InventoryReconcilerTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let grace: TimeInterval = 90
    static let reconciler = InventoryReconciler(grace: grace)

    let site = SiteID()
    let release = ReleaseID()
    let other = AgentID()

    func placed(
        state: SiteState = .active, release: ReleaseID?, version: Int64 = 3, suspended: Bool = false, hasTree: Bool = true,
        inFlight: Bool = false
    ) -> InventoryReconciler.Placed {
        InventoryReconciler.Placed(
            siteID: site, state: state, currentRelease: release, configVersion: version, suspended: suspended,
            hasTree: hasTree, inFlight: inFlight)
    }

    func held(release: ReleaseID?, version: UInt64 = 3, suspended: Bool = false) -> InventoryReconciler.Held {
        InventoryReconciler.Held(
            siteID: site, releaseID: release?.description ?? "", configVersion: version, suspended: suspended)
    }

    func elsewhere(placedSecondsAgo: TimeInterval, inFlight: Bool = false, agent: AgentID? = AgentID())
        -> InventoryReconciler.Elsewhere
    {
        InventoryReconciler.Elsewhere(
            siteID: site, agent: agent, placedAt: Self.now.addingTimeInterval(-placedSecondsAgo), inFlight: inFlight)
    }

    func reconcile(
        holds: [InventoryReconciler.Held], placed: [InventoryReconciler.Placed] = [],
        elsewhere: [InventoryReconciler.Elsewhere] = []
    ) -> [InventoryReconciler.Action] {
        Self.reconciler.reconcile(holds: holds, placed: placed, elsewhere: elsewhere, now: Self.now)
    }

    @Test("a site held with the live release, config version and suspension needs nothing")
    func inSync() {
        #expect(reconcile(holds: [held(release: release)], placed: [placed(release: release)]).isEmpty)
        // A site only created (no tree expected) and not held: nothing either.
        #expect(reconcile(holds: [], placed: [placed(state: .created, release: nil, version: 1, hasTree: false)]).isEmpty)
        // Configured but never deployed, held without a release: in sync.
        #expect(reconcile(holds: [held(release: nil)], placed: [placed(state: .created, release: nil)]).isEmpty)
    }

    @Test("a site placed here but missing is configured, then its live release deployed")
    func missing() {
        #expect(reconcile(holds: [], placed: [placed(release: release)]) == [.configure(site), .deploy(site, release)])
        // Configured but never deployed: configured only.
        #expect(reconcile(holds: [], placed: [placed(state: .created, release: nil)]) == [.configure(site)])
    }

    @Test("an older config version or another suspension is configured again")
    func outdatedConfig() {
        #expect(reconcile(holds: [held(release: release, version: 2)], placed: [placed(release: release)]) == [.configure(site)])
        // An agent that kept no record reports version 0.
        #expect(reconcile(holds: [held(release: release, version: 0)], placed: [placed(release: release)]) == [.configure(site)])
        #expect(
            reconcile(holds: [held(release: release, suspended: false)], placed: [placed(release: release, suspended: true)])
                == [.configure(site)])
        // A newer version than the coordinator's (a restored database) is not "outdated".
        #expect(reconcile(holds: [held(release: release, version: 9)], placed: [placed(release: release)]).isEmpty)
    }

    @Test("another release, or none, is replaced by a deploy of the live one")
    func otherRelease() {
        #expect(reconcile(holds: [held(release: ReleaseID())], placed: [placed(release: release)]) == [.deploy(site, release)])
        #expect(reconcile(holds: [held(release: nil)], placed: [placed(release: release)]) == [.deploy(site, release)])
        #expect(
            reconcile(holds: [held(release: ReleaseID(), version: 1)], placed: [placed(release: release)])
                == [.configure(site), .deploy(site, release)])
        // Upper-case ids on the wire compare equal.
        let upper = InventoryReconciler.Held(
            siteID: site, releaseID: release.uuid.uuidString.uppercased(), configVersion: 3, suspended: false)
        #expect(reconcile(holds: [upper], placed: [placed(release: release)]).isEmpty)
    }

    @Test("a site with work in flight on this agent waits, held or missing")
    func placedInFlight() {
        #expect(reconcile(holds: [], placed: [placed(release: release, inFlight: true)]) == [.wait(site, until: nil)])
        #expect(
            reconcile(holds: [held(release: ReleaseID(), version: 1)], placed: [placed(release: release, inFlight: true)])
                == [.wait(site, until: nil)])
    }

    @Test("removing, failed and moving sites are never configured or deployed", arguments: [
        SiteState.removing, .removeFailed, .configFailed, .deployFailed, .migrating, .failingOver,
    ])
    func leftAlone(state: SiteState) {
        #expect(reconcile(holds: [], placed: [placed(state: state, release: release)]).isEmpty)
        #expect(reconcile(holds: [held(release: ReleaseID(), version: 1)], placed: [placed(state: state, release: release)]).isEmpty)
    }

    @Test("a stale copy waits for the grace after the site was placed elsewhere")
    func staleBeforeGrace() {
        let actions = reconcile(holds: [held(release: release)], elsewhere: [elsewhere(placedSecondsAgo: 30)])
        #expect(actions == [.wait(site, until: Self.now.addingTimeInterval(60))])
    }

    @Test("after the grace the stale copy is removed")
    func staleAfterGrace() {
        #expect(reconcile(holds: [held(release: release)], elsewhere: [elsewhere(placedSecondsAgo: 90)]) == [.removeStaleCopy(site)])
        #expect(reconcile(holds: [held(release: release)], elsewhere: [elsewhere(placedSecondsAgo: 3600)]) == [.removeStaleCopy(site)])
    }

    @Test("a stale copy is never removed while a migration or restore involving the agent is in flight")
    func staleInFlight() {
        #expect(
            reconcile(holds: [held(release: release)], elsewhere: [elsewhere(placedSecondsAgo: 3600, inFlight: true)])
                == [.wait(site, until: nil)])
        // A site placed on no agent may have no other copy: it waits for a person.
        #expect(
            reconcile(holds: [held(release: release)], elsewhere: [elsewhere(placedSecondsAgo: 3600, agent: nil)])
                == [.wait(site, until: nil)])
    }

    @Test("a removed site still held by its own agent is removed (not while its removal is in flight)")
    func removedOwnSite() {
        #expect(reconcile(holds: [held(release: release)], placed: [placed(state: .removed, release: release)]) == [.removeStaleCopy(site)])
        #expect(
            reconcile(holds: [held(release: release)], placed: [placed(state: .removed, release: release, inFlight: true)])
                == [.wait(site, until: nil)])
        #expect(reconcile(holds: [], placed: [placed(state: .removed, release: release)]).isEmpty)
    }

    @Test("a site reported twice is answered once; sites not held and placed elsewhere are not the agent's business")
    func duplicatesAndForeign() {
        #expect(reconcile(holds: [held(release: ReleaseID()), held(release: release)], placed: [placed(release: release)]) == [.deploy(site, release)])
        #expect(reconcile(holds: [], elsewhere: [elsewhere(placedSecondsAgo: 3600)]).isEmpty)
    }

    @Test("several sites: placed ones first, in id order, then copies held elsewhere; deterministic")
    func ordering() {
        let sites = (0..<5).map { _ in SiteID() }
        let placed = sites.map {
            InventoryReconciler.Placed(
                siteID: $0, state: .active, currentRelease: release, configVersion: 1, suspended: false, hasTree: true,
                inFlight: false)
        }
        let stale = SiteID()
        let holds = [InventoryReconciler.Held(siteID: stale, releaseID: "", configVersion: 1, suspended: false)]
        let copies = [InventoryReconciler.Elsewhere(siteID: stale, agent: other, placedAt: .distantPast, inFlight: false)]
        let first = Self.reconciler.reconcile(holds: holds, placed: placed.shuffled(), elsewhere: copies, now: Self.now)
        let second = Self.reconciler.reconcile(holds: holds, placed: placed.shuffled(), elsewhere: copies, now: Self.now)
        #expect(first == second)
        #expect(first.count == 11 && first.last == .removeStaleCopy(stale))
        let order = sites.sorted { $0.uuid.uuidString < $1.uuid.uuidString }
        #expect(Array(first.prefix(2)) == [.configure(order[0]), .deploy(order[0], release)])
    }
}
