import CHOMCore
import Foundation
import Testing

/// Every state × event pair against a table written out here (not derived from the machine), then
/// the suspension-set rules and the stored strings.
@Suite("SiteLifecycle")
struct SiteLifecycleTests {
    /// What one event does to a site in one state: its next state and actions, or the refusal's message.
    enum Expect: Sendable, Equatable {
        case ok(SiteState, [SiteAction])
        case no(String)
    }

    static let agentB = AgentID(UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!)
    static let release = ReleaseID(UUID(uuidString: "00000000-0000-0000-0000-0000000000e1")!)

    static let configure: [SiteAction] = [.enqueue(.configure), .audit("site.configure"), .wakeAgent]
    static let deploy: [SiteAction] = [.enqueue(.deploy), .audit("site.deploy"), .wakeAgent]
    static let rollback: [SiteAction] = [.enqueue(.rollback), .audit("site.rollback"), .wakeAgent]
    static let restore: [SiteAction] = [.enqueue(.restore(onto: agentB)), .audit("backup.restore"), .wakeAgent]
    static let remove: [SiteAction] = [.enqueue(.remove), .audit("site.remove"), .wakeAgent]
    static let suspend: [SiteAction] = [.enqueue(.suspend(true)), .audit("site.suspend"), .wakeAgent]
    static let resume: [SiteAction] = [.enqueue(.suspend(false)), .audit("site.resume"), .wakeAgent]
    static let live: [SiteAction] = [.recordRelease(release)]
    static let restored: [SiteAction] = [.recordRelease(release), .placeOn(agentB), .updateDNS]
    static let gone: [SiteAction] = [.releaseClaims, .removeDNS]

    /// The events, one sample of each case, named for the test report.
    static let events: [(String, SiteEvent)] = [
        ("placed", .placed(agentB)),
        ("configureRequested", .configureRequested),
        ("configureSucceeded", .configureSucceeded),
        ("configureFailed", .configureFailed),
        ("deployRequested", .deployRequested),
        ("deploySucceeded", .deploySucceeded(release)),
        ("deployFailed", .deployFailed(step: "build")),
        ("rollbackRequested", .rollbackRequested),
        ("restoreRequested", .restoreRequested(onto: agentB)),
        ("restoreSucceeded", .restoreSucceeded(on: agentB, release: release)),
        ("restoreFailed", .restoreFailed),
        ("suspendRequested", .suspendRequested(.manual)),
        ("resumeRequested", .resumeRequested(.manual)),
        ("suspensionApplied", .suspensionApplied(true)),
        ("migrationStarted", .migrationStarted(to: agentB)),
        ("migrationSwitched", .migrationSwitched(to: agentB)),
        ("migrationFailed", .migrationFailed(step: "copy")),
        ("failoverStarted", .failoverStarted(to: agentB)),
        ("failoverSucceeded", .failoverSucceeded(on: agentB)),
        ("failoverFailed", .failoverFailed),
        ("removeRequested", .removeRequested),
        ("removeSucceeded", .removeSucceeded),
        ("removeFailed", .removeFailed),
    ]

    /// The table: for each event, every state's outcome. Sites start with no suspension, and with a
    /// release in every state but `created`.
    static let table: [String: [SiteState: Expect]] = [
        "placed": [
            .created: .ok(.created, [.updateDNS, .audit("site.create")]),
            .deploying: .no("site is deploying; it is placed already (a move is a migration)"),
            .active: .no("site is active; it is placed already (a move is a migration)"),
            .deployFailed: .no("site is deploy_failed; it is placed already (a move is a migration)"),
            .configFailed: .no("site is config_failed; it is placed already (a move is a migration)"),
            .removing: .no("site is removing; it is placed already (a move is a migration)"),
            .removed: .no("site is removed; it is placed already (a move is a migration)"),
            .removeFailed: .no("site is remove_failed; it is placed already (a move is a migration)"),
            .migrating: .no("site is migrating; it is placed already (a move is a migration)"),
            .failingOver: .no("site is failing_over; it is placed already (a move is a migration)"),
        ],
        "configureRequested": [
            .created: .ok(.created, configure),
            .deploying: .ok(.deploying, configure),
            .active: .ok(.active, configure),
            .deployFailed: .ok(.deployFailed, configure),
            .configFailed: .ok(.configFailed, configure),
            .removing: .no("site is removing; it takes no configure"),
            .removed: .no("site is removed; it takes no configure"),
            .removeFailed: .ok(.removeFailed, configure),
            .migrating: .no("site is migrating; it takes no configure until the migration ends"),
            .failingOver: .no("site is failing_over; it takes no configure until the failover ends"),
        ],
        "configureSucceeded": [
            .created: .ok(.created, []),
            .deploying: .ok(.deploying, []),
            .active: .ok(.active, []),
            .deployFailed: .ok(.deployFailed, []),
            .configFailed: .ok(.active, []),
            .removing: .ok(.removing, []),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.removeFailed, []),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
        "configureFailed": [
            .created: .ok(.configFailed, []),
            .deploying: .ok(.deploying, []),
            .active: .ok(.configFailed, []),
            .deployFailed: .ok(.configFailed, []),
            .configFailed: .ok(.configFailed, []),
            .removing: .ok(.removing, []),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.configFailed, []),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
        "deployRequested": [
            .created: .ok(.deploying, deploy),
            .deploying: .ok(.deploying, deploy),
            .active: .ok(.deploying, deploy),
            .deployFailed: .ok(.deploying, deploy),
            .configFailed: .ok(.deploying, deploy),
            .removing: .no("site is removing; it takes no deploy"),
            .removed: .no("site is removed; it takes no deploy"),
            .removeFailed: .ok(.deploying, deploy),
            .migrating: .no("site is migrating; it takes no deploy until the migration ends"),
            .failingOver: .no("site is failing_over; it takes no deploy until the failover ends"),
        ],
        "deploySucceeded": [
            .created: .ok(.active, live),
            .deploying: .ok(.active, live),
            .active: .ok(.active, live),
            .deployFailed: .ok(.active, live),
            .configFailed: .ok(.active, live),
            .removing: .ok(.removing, live),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.active, live),
            .migrating: .ok(.migrating, live),
            .failingOver: .ok(.failingOver, live),
        ],
        "deployFailed": [
            .created: .ok(.deployFailed, []),
            .deploying: .ok(.deployFailed, []),
            .active: .ok(.deployFailed, []),
            .deployFailed: .ok(.deployFailed, []),
            .configFailed: .ok(.deployFailed, []),
            .removing: .ok(.removing, []),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.deployFailed, []),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
        "rollbackRequested": [
            .created: .ok(.created, rollback),
            .deploying: .ok(.deploying, rollback),
            .active: .ok(.active, rollback),
            .deployFailed: .ok(.deployFailed, rollback),
            .configFailed: .ok(.configFailed, rollback),
            .removing: .no("site is removing; it takes no rollback"),
            .removed: .no("site is removed; it takes no rollback"),
            .removeFailed: .ok(.removeFailed, rollback),
            .migrating: .no("site is migrating; it takes no rollback until the migration ends"),
            .failingOver: .no("site is failing_over; it takes no rollback until the failover ends"),
        ],
        "restoreRequested": [
            .created: .ok(.created, restore),
            .deploying: .ok(.deploying, restore),
            .active: .ok(.active, restore),
            .deployFailed: .ok(.deployFailed, restore),
            .configFailed: .ok(.configFailed, restore),
            .removing: .no("site is removing; it takes no restore"),
            .removed: .ok(.removed, restore),
            .removeFailed: .ok(.removeFailed, restore),
            .migrating: .no("site is migrating; it takes no restore until the migration ends"),
            .failingOver: .no("site is failing_over; it takes no restore until the failover ends"),
        ],
        "restoreSucceeded": [
            .created: .ok(.active, restored),
            .deploying: .ok(.active, restored),
            .active: .ok(.active, restored),
            .deployFailed: .ok(.active, restored),
            .configFailed: .ok(.active, restored),
            .removing: .ok(.removing, []),
            .removed: .ok(.active, restored),
            .removeFailed: .ok(.active, restored),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
        "restoreFailed": [
            .created: .ok(.created, []),
            .deploying: .ok(.deploying, []),
            .active: .ok(.active, []),
            .deployFailed: .ok(.deployFailed, []),
            .configFailed: .ok(.configFailed, []),
            .removing: .ok(.removing, []),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.removeFailed, []),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
        "suspendRequested": [
            .created: .ok(.created, suspend),
            .deploying: .ok(.deploying, suspend),
            .active: .ok(.active, suspend),
            .deployFailed: .ok(.deployFailed, suspend),
            .configFailed: .ok(.configFailed, suspend),
            .removing: .no("site is removing; it takes no suspend"),
            .removed: .no("site is removed; it takes no suspend"),
            .removeFailed: .ok(.removeFailed, suspend),
            .migrating: .ok(.migrating, suspend),
            .failingOver: .ok(.failingOver, suspend),
        ],
        // With no reason held, a resume sends "served" again (as before reasons existed).
        "resumeRequested": [
            .created: .ok(.created, resume),
            .deploying: .ok(.deploying, resume),
            .active: .ok(.active, resume),
            .deployFailed: .ok(.deployFailed, resume),
            .configFailed: .ok(.configFailed, resume),
            .removing: .no("site is removing; it takes no resume"),
            .removed: .no("site is removed; it takes no resume"),
            .removeFailed: .ok(.removeFailed, resume),
            .migrating: .ok(.migrating, resume),
            .failingOver: .ok(.failingOver, resume),
        ],
        "suspensionApplied": [
            .created: .ok(.created, [.setSuspended(true)]),
            .deploying: .ok(.deploying, [.setSuspended(true)]),
            .active: .ok(.active, [.setSuspended(true)]),
            .deployFailed: .ok(.deployFailed, [.setSuspended(true)]),
            .configFailed: .ok(.configFailed, [.setSuspended(true)]),
            .removing: .ok(.removing, [.setSuspended(true)]),
            .removed: .ok(.removed, [.setSuspended(true)]),
            .removeFailed: .ok(.removeFailed, [.setSuspended(true)]),
            .migrating: .ok(.migrating, [.setSuspended(true)]),
            .failingOver: .ok(.failingOver, [.setSuspended(true)]),
        ],
        "migrationStarted": [
            .created: .ok(.migrating, [.audit("site.migration.started")]),
            .deploying: .no("site is deploying; it takes no migration until the deploy ends"),
            .active: .ok(.migrating, [.audit("site.migration.started")]),
            .deployFailed: .ok(.migrating, [.audit("site.migration.started")]),
            .configFailed: .ok(.migrating, [.audit("site.migration.started")]),
            .removing: .no("site is removing; it takes no migration"),
            .removed: .no("site is removed; it takes no migration"),
            .removeFailed: .ok(.migrating, [.audit("site.migration.started")]),
            .migrating: .no("site is migrating; it takes no second migration"),
            .failingOver: .no("site is failing_over; it takes no migration until the failover ends"),
        ],
        "migrationSwitched": [
            .created: .no("site is created; no migration is under way"),
            .deploying: .no("site is deploying; no migration is under way"),
            .active: .no("site is active; no migration is under way"),
            .deployFailed: .no("site is deploy_failed; no migration is under way"),
            .configFailed: .no("site is config_failed; no migration is under way"),
            .removing: .no("site is removing; no migration is under way"),
            .removed: .no("site is removed; no migration is under way"),
            .removeFailed: .no("site is remove_failed; no migration is under way"),
            .migrating: .ok(.active, [.placeOn(agentB), .updateDNS, .audit("site.migration.switched")]),
            .failingOver: .no("site is failing_over; no migration is under way"),
        ],
        "migrationFailed": [
            .created: .no("site is created; no migration is under way"),
            .deploying: .no("site is deploying; no migration is under way"),
            .active: .no("site is active; no migration is under way"),
            .deployFailed: .no("site is deploy_failed; no migration is under way"),
            .configFailed: .no("site is config_failed; no migration is under way"),
            .removing: .no("site is removing; no migration is under way"),
            .removed: .no("site is removed; no migration is under way"),
            .removeFailed: .no("site is remove_failed; no migration is under way"),
            .migrating: .ok(.active, [.audit("site.migration.failed")]),
            .failingOver: .no("site is failing_over; no migration is under way"),
        ],
        "failoverStarted": [
            .created: .ok(.failingOver, [.audit("site.failover.started")]),
            .deploying: .ok(.failingOver, [.audit("site.failover.started")]),
            .active: .ok(.failingOver, [.audit("site.failover.started")]),
            .deployFailed: .ok(.failingOver, [.audit("site.failover.started")]),
            .configFailed: .ok(.failingOver, [.audit("site.failover.started")]),
            .removing: .no("site is removing; it takes no failover"),
            .removed: .no("site is removed; it takes no failover"),
            .removeFailed: .ok(.failingOver, [.audit("site.failover.started")]),
            .migrating: .ok(.failingOver, [.audit("site.failover.started")]),
            .failingOver: .no("site is failing_over; it takes no second failover"),
        ],
        "failoverSucceeded": [
            .created: .no("site is created; no failover is under way"),
            .deploying: .no("site is deploying; no failover is under way"),
            .active: .no("site is active; no failover is under way"),
            .deployFailed: .no("site is deploy_failed; no failover is under way"),
            .configFailed: .no("site is config_failed; no failover is under way"),
            .removing: .no("site is removing; no failover is under way"),
            .removed: .no("site is removed; no failover is under way"),
            .removeFailed: .no("site is remove_failed; no failover is under way"),
            .migrating: .no("site is migrating; no failover is under way"),
            .failingOver: .ok(.active, [.placeOn(agentB), .updateDNS, .audit("site.failover.succeeded")]),
        ],
        "failoverFailed": [
            .created: .no("site is created; no failover is under way"),
            .deploying: .no("site is deploying; no failover is under way"),
            .active: .no("site is active; no failover is under way"),
            .deployFailed: .no("site is deploy_failed; no failover is under way"),
            .configFailed: .no("site is config_failed; no failover is under way"),
            .removing: .no("site is removing; no failover is under way"),
            .removed: .no("site is removed; no failover is under way"),
            .removeFailed: .no("site is remove_failed; no failover is under way"),
            .migrating: .no("site is migrating; no failover is under way"),
            .failingOver: .ok(.active, [.audit("site.failover.failed")]),
        ],
        "removeRequested": [
            .created: .ok(.removing, remove),
            .deploying: .ok(.removing, remove),
            .active: .ok(.removing, remove),
            .deployFailed: .ok(.removing, remove),
            .configFailed: .ok(.removing, remove),
            .removing: .no("site is removing; it takes no remove"),
            .removed: .no("site is removed; it takes no remove"),
            .removeFailed: .ok(.removing, remove),
            .migrating: .no("site is migrating; it takes no remove until the migration ends"),
            .failingOver: .no("site is failing_over; it takes no remove until the failover ends"),
        ],
        "removeSucceeded": [
            .created: .ok(.removed, gone),
            .deploying: .ok(.removed, gone),
            .active: .ok(.removed, gone),
            .deployFailed: .ok(.removed, gone),
            .configFailed: .ok(.removed, gone),
            .removing: .ok(.removed, gone),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.removed, gone),
            .migrating: .ok(.removed, gone),
            .failingOver: .ok(.removed, gone),
        ],
        "removeFailed": [
            .created: .ok(.created, []),
            .deploying: .ok(.deploying, []),
            .active: .ok(.active, []),
            .deployFailed: .ok(.deployFailed, []),
            .configFailed: .ok(.configFailed, []),
            .removing: .ok(.removeFailed, []),
            .removed: .ok(.removed, []),
            .removeFailed: .ok(.removeFailed, []),
            .migrating: .ok(.migrating, []),
            .failingOver: .ok(.failingOver, []),
        ],
    ]

    static func start(_ state: SiteState) -> SiteLifecycle {
        SiteLifecycle(state: state, suspension: [], hasRelease: state != .created)
    }

    @Test("the table names every event and, for each, every state")
    func tableIsComplete() {
        #expect(Self.table.count == Self.events.count)
        for (name, _) in Self.events {
            #expect(Set(Self.table[name]?.keys.map { $0 } ?? []) == Set(SiteState.allCases), "\(name)")
        }
    }

    @Test("every state × event pair does what the table says", arguments: SiteState.allCases, SiteLifecycleTests.events.map(\.0))
    func pair(state: SiteState, name: String) throws {
        let event = try #require(Self.events.first { $0.0 == name }?.1)
        let expected = try #require(Self.table[name]?[state], "\(name) in \(state)")
        var lifecycle = Self.start(state)
        let before = lifecycle
        switch (lifecycle.handle(event), expected) {
        case (.success(let actions), .ok(let next, let expectedActions)):
            #expect(lifecycle.state == next, "\(name) in \(state)")
            #expect(actions == expectedActions, "\(name) in \(state)")
        case (.failure(let refusal), .no(let message)):
            #expect(refusal.message == message, "\(name) in \(state)")
            #expect(refusal.state == state && refusal.event == event)
            #expect(lifecycle == before, "a refusal changes nothing")
        case (let outcome, _):
            Issue.record("\(name) in \(state): got \(outcome), expected \(expected)")
        }
    }

    @Test("the events list holds one sample of each event, with distinct names")
    func eventsAreDistinct() {
        #expect(Self.events.count == 23)
        #expect(Set(Self.events.map(\.0)).count == Self.events.count)
    }
}
