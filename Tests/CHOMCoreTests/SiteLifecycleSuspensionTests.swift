import CHOMCore
import Foundation
import Testing

/// Suspension as a set of reasons, the states a site settles in after a move or a configure, and
/// the strings the database and the API store.
@Suite("SiteLifecycle suspension and stored values")
struct SiteLifecycleSuspensionTests {
    static let agentB = AgentID(UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!)

    @Test("lifting billing leaves a site suspended for manual; lifting manual then resumes it")
    func liftingOneReasonKeepsTheOther() throws {
        var site = SiteLifecycle(state: .active, hasRelease: true)
        #expect(try site.handle(.suspendRequested(.manual)).get().contains(.enqueue(.suspend(true))))
        #expect(try site.handle(.suspendRequested(.billing)).get().contains(.enqueue(.suspend(true))))
        #expect(site.suspension == [.manual, .billing] && site.isSuspended)

        let liftBilling = try site.handle(.resumeRequested(.billing)).get()
        #expect(liftBilling == [.enqueue(.suspend(true)), .audit("site.resume"), .wakeAgent])
        #expect(!liftBilling.contains(.enqueue(.suspend(false))), "billing lifted, manual still holds")
        #expect(site.suspension == [.manual] && site.isSuspended)

        let liftManual = try site.handle(.resumeRequested(.manual)).get()
        #expect(liftManual == [.enqueue(.suspend(false)), .audit("site.resume"), .wakeAgent])
        #expect(site.suspension.isEmpty && !site.isSuspended && site.state == .active)
    }

    @Test("the same order reversed: lifting manual first keeps the billing suspension")
    func liftingManualFirst() throws {
        var site = SiteLifecycle(state: .active, suspension: [.billing, .manual], hasRelease: true)
        #expect(try site.handle(.resumeRequested(.manual)).get().first == .enqueue(.suspend(true)))
        #expect(site.suspension == [.billing])
        #expect(try site.handle(.resumeRequested(.billing)).get().first == .enqueue(.suspend(false)))
    }

    @Test("resuming a reason the site is not held for, while another holds it, is refused and changes nothing")
    func resumingAnotherReason() {
        var site = SiteLifecycle(state: .active, suspension: [.billing, .fencing], hasRelease: true)
        let before = site
        guard case .failure(let refusal) = site.handle(.resumeRequested(.manual)) else {
            Issue.record("resuming manual on a site suspended for billing was accepted")
            return
        }
        #expect(refusal.message == "site is suspended for billing, fencing, not manual; resuming it lifts nothing")
        #expect(site == before)
    }

    @Test("suspending twice for one reason holds it once; both requests send the suspension")
    func suspendTwice() throws {
        var site = SiteLifecycle(state: .created)
        _ = try site.handle(.suspendRequested(.fencing)).get()
        let again = try site.handle(.suspendRequested(.fencing)).get()
        #expect(again == [.enqueue(.suspend(true)), .audit("site.suspend"), .wakeAgent])
        #expect(site.suspension == [.fencing])
        #expect(try site.handle(.resumeRequested(.fencing)).get().first == .enqueue(.suspend(false)))
    }

    @Test("a suspension survives a removal request's refusal and a move; the new agent is told after the switch")
    func suspensionAcrossAMove() throws {
        var site = SiteLifecycle(state: .active, suspension: [.billing], hasRelease: true)
        _ = try site.handle(.migrationStarted(to: Self.agentB)).get()
        if case .success = site.handle(.removeRequested) { Issue.record("a migrating site took a remove") }
        let switched = try site.handle(.migrationSwitched(to: Self.agentB)).get()
        #expect(switched == [
            .placeOn(Self.agentB), .updateDNS, .audit("site.migration.switched"), .enqueue(.suspend(true)),
        ])
        #expect(site.state == .active && site.suspension == [.billing])

        var failing = SiteLifecycle(state: .active, suspension: [.fencing], hasRelease: true)
        _ = try failing.handle(.failoverStarted(to: Self.agentB)).get()
        #expect(try failing.handle(.failoverSucceeded(on: Self.agentB)).get().last == .enqueue(.suspend(true)))
    }

    @Test("a site with no release settles in created: after a fixed configure, a failed or finished move")
    func settlesWithoutARelease() throws {
        var configured = SiteLifecycle(state: .configFailed, hasRelease: false)
        _ = try configured.handle(.configureSucceeded).get()
        #expect(configured.state == .created)

        var moved = SiteLifecycle(state: .created)
        _ = try moved.handle(.migrationStarted(to: Self.agentB)).get()
        _ = try moved.handle(.migrationFailed(step: "health")).get()
        #expect(moved.state == .created)
        _ = try moved.handle(.migrationStarted(to: Self.agentB)).get()
        _ = try moved.handle(.migrationSwitched(to: Self.agentB)).get()
        #expect(moved.state == .created)

        var deployed = SiteLifecycle(state: .created)
        _ = try deployed.handle(.deployRequested).get()
        _ = try deployed.handle(.deploySucceeded(nil)).get()
        #expect(deployed.state == .active && deployed.hasRelease)
        _ = try deployed.handle(.configureFailed).get()
        _ = try deployed.handle(.configureSucceeded).get()
        #expect(deployed.state == .active)
    }

    @Test("a removed site comes back only through a restore, which places it and points its DNS there")
    func removedThenRestored() throws {
        var site = SiteLifecycle(state: .active, suspension: [.manual], hasRelease: true)
        #expect(try site.handle(.removeRequested).get().first == .enqueue(.remove))
        #expect(try site.handle(.removeSucceeded).get() == [.releaseClaims, .removeDNS])
        if case .success = site.handle(.deployRequested) { Issue.record("a removed site took a deploy") }
        _ = try site.handle(.restoreRequested(onto: Self.agentB)).get()
        #expect(site.state == .removed)
        let restored = try site.handle(.restoreSucceeded(on: Self.agentB, release: nil)).get()
        #expect(restored == [.recordRelease(nil), .placeOn(Self.agentB), .updateDNS])
        #expect(site.state == .active && site.suspension == [.manual], "a restore lifts no suspension")
    }

    @Test("the stored strings of every state and reason", arguments: [
        (SiteState.created, "created"), (.deploying, "deploying"), (.active, "active"),
        (.deployFailed, "deploy_failed"), (.configFailed, "config_failed"), (.removing, "removing"),
        (.removed, "removed"), (.removeFailed, "remove_failed"), (.migrating, "migrating"),
        (.failingOver, "failing_over"),
    ])
    func stateStrings(state: SiteState, stored: String) {
        #expect(state.rawValue == stored)
        #expect(SiteState(stored: stored) == state)
    }

    @Test("every state has a stored string in the list above, and reasons keep theirs")
    func allStoredStrings() {
        #expect(SiteState.allCases.map(\.rawValue) == [
            "created", "deploying", "active", "deploy_failed", "config_failed", "removing", "removed",
            "remove_failed", "migrating", "failing_over",
        ])
        #expect(SuspensionReason.allCases.map(\.rawValue) == ["manual", "billing", "fencing"])
        #expect(Set<SuspensionReason>([.fencing, .manual, .billing]).sorted() == [.manual, .billing, .fencing])
    }

    @Test("a state this build does not know reads as active", arguments: ["", "Active", "paused", "configuring"])
    func unknownState(stored: String) {
        #expect(SiteState(stored: stored) == .active)
    }

    @Test("which states the backup schedule and the task routes skip")
    func stateGroups() {
        #expect(SiteState.allCases.filter(\.isRemoved) == [.removing, .removed])
        #expect(SiteState.allCases.filter(\.isMoving) == [.migrating, .failingOver])
        #expect(SiteState.allCases.filter { !$0.takesScheduledBackups }
            == [.removing, .removed, .migrating, .failingOver])
    }
}
