@testable import CHOMCoordinator
import Testing

@Suite("Migration lifecycle: every step × event")
struct MigrationLifecycleTests {
    typealias Step = MigrationLifecycle.Step
    typealias Event = MigrationLifecycle.Event
    typealias Action = MigrationLifecycle.Action

    static let events: [Event] = [
        .begin, .taskSucceeded, .taskFailed("boom"), .healthPassed, .healthFailed("502"), .switched, .dnsExpired,
        .sourceFailed, .targetFailed, .sourceRecovered,
    ]

    static let beforeSwitch: Set<Step> = [.configure, .backup, .restore, .health, .maintenance, .finalBackup, .finalRestore, .switchover]
    static let inMaintenance: Set<Step> = [.maintenance, .finalBackup, .finalRestore, .switchover]

    struct Expected {
        var step: Step
        var phase: MigrationLifecycle.Phase
        var actions: [Action]
    }

    static let failBeforeSwitch: [Action] = [.removeFromTarget, .finish(succeeded: false)]
    static let failInMaintenance: [Action] = [.maintenanceOnSource(false), .removeFromTarget, .finish(succeeded: false)]

    /// The pairs that do something, written out; every other pair changes nothing.
    static func expected(_ step: Step, _ event: Event, finalPass: Bool, failover: Bool = false) -> Expected? {
        if failover {
            // The source is gone: no backup on it, no final pass, nothing after the switch.
            switch (step, event) {
            case (.configure, .taskSucceeded): return Expected(step: .restore, phase: .running, actions: [.restoreTarget])
            case (.health, .healthPassed): return Expected(step: .switchover, phase: .running, actions: [.switchPlacement])
            case (.switchover, .switched):
                return Expected(step: .done, phase: .succeeded, actions: [.finish(succeeded: true)])
            // A failover's source is already gone.
            case (_, .sourceFailed): return nil
            // Heard from again before the switch: the site stays on it.
            case (_, .sourceRecovered) where beforeSwitch.contains(step):
                return Expected(
                    step: step, phase: .failed, actions: inMaintenance.contains(step) ? failInMaintenance : failBeforeSwitch)
            default: return expected(step, event, finalPass: false)
            }
        }
        return switch (step, event) {
        case (_, .sourceFailed) where beforeSwitch.contains(step):
            // Nothing is asked of a failed source, not even to lift its maintenance.
            Expected(step: step, phase: .failed, actions: failBeforeSwitch)
        case (_, .targetFailed) where beforeSwitch.contains(step):
            Expected(step: step, phase: .failed, actions: inMaintenance.contains(step) ? failInMaintenance : failBeforeSwitch)
        case (.configure, .begin): Expected(step: .configure, phase: .running, actions: [.configureTarget])
        case (.configure, .taskSucceeded): Expected(step: .backup, phase: .running, actions: [.backupSource])
        case (.configure, .taskFailed): Expected(step: .configure, phase: .failed, actions: failBeforeSwitch)
        case (.backup, .taskSucceeded): Expected(step: .restore, phase: .running, actions: [.restoreTarget])
        case (.backup, .taskFailed): Expected(step: .backup, phase: .failed, actions: failBeforeSwitch)
        case (.restore, .taskSucceeded): Expected(step: .health, phase: .running, actions: [.probeTarget])
        case (.restore, .taskFailed): Expected(step: .restore, phase: .failed, actions: failBeforeSwitch)
        case (.health, .healthPassed):
            finalPass
                ? Expected(step: .maintenance, phase: .running, actions: [.maintenanceOnSource(true)])
                : Expected(step: .switchover, phase: .running, actions: [.switchPlacement])
        case (.health, .healthFailed): Expected(step: .health, phase: .failed, actions: failBeforeSwitch)
        case (.maintenance, .taskSucceeded): Expected(step: .finalBackup, phase: .running, actions: [.backupSource])
        case (.maintenance, .taskFailed): Expected(step: .maintenance, phase: .failed, actions: failInMaintenance)
        case (.finalBackup, .taskSucceeded): Expected(step: .finalRestore, phase: .running, actions: [.restoreTarget])
        case (.finalBackup, .taskFailed): Expected(step: .finalBackup, phase: .failed, actions: failInMaintenance)
        case (.finalRestore, .taskSucceeded): Expected(step: .switchover, phase: .running, actions: [.switchPlacement])
        case (.finalRestore, .taskFailed): Expected(step: .finalRestore, phase: .failed, actions: failInMaintenance)
        case (.switchover, .switched): Expected(step: .proxy, phase: .running, actions: [.forwardFromSource])
        case (.switchover, .taskFailed): Expected(step: .switchover, phase: .failed, actions: failInMaintenance)
        case (.proxy, .taskSucceeded): Expected(step: .dnsWait, phase: .running, actions: [.waitForDNS])
        case (.proxy, .taskFailed): Expected(step: .proxy, phase: .failed, actions: [.finish(succeeded: false)])
        case (.dnsWait, .dnsExpired): Expected(step: .cleanup, phase: .running, actions: [.removeFromSource])
        case (.cleanup, .taskSucceeded): Expected(step: .done, phase: .succeeded, actions: [.finish(succeeded: true)])
        case (.cleanup, .taskFailed): Expected(step: .cleanup, phase: .failed, actions: [.finish(succeeded: false)])
        default: nil
        }
    }

    @Test(
        "each pair moves to the written step and phase with the written actions, for moves and failovers",
        arguments: Step.allCases, [(false, false), (true, false), (false, true), (true, true)])
    func pairs(step: Step, kind: (finalPass: Bool, failover: Bool)) {
        let (finalPass, failover) = kind
        for event in Self.events {
            var lifecycle = MigrationLifecycle(step: step, finalPass: finalPass, failover: failover)
            let actions = lifecycle.handle(event)
            if let expected = Self.expected(step, event, finalPass: finalPass, failover: failover) {
                #expect(actions == expected.actions, "\(step) × \(event)")
                #expect(lifecycle.step == expected.step, "\(step) × \(event)")
                #expect(lifecycle.phase == expected.phase, "\(step) × \(event)")
                if expected.phase == .failed {
                    #expect(lifecycle.failedStep == step)
                    #expect(!lifecycle.message.isEmpty)
                }
            } else {
                #expect(actions.isEmpty, "\(step) × \(event) should be ignored")
                #expect(lifecycle.step == step && lifecycle.phase == .running)
            }
        }
    }

    @Test("a finished migration takes no event", arguments: [MigrationLifecycle.Phase.succeeded, .failed])
    func finished(phase: MigrationLifecycle.Phase) {
        for step in Step.allCases {
            for event in Self.events {
                var lifecycle = MigrationLifecycle(step: step, phase: phase, finalPass: true)
                #expect(lifecycle.handle(event).isEmpty)
                #expect(lifecycle.step == step && lifecycle.phase == phase)
            }
        }
    }

    @Test("a static site walks configure → done without a maintenance window; a php site through its final pass")
    func walks() {
        var lifecycle = MigrationLifecycle(finalPass: false)
        var all: [Action] = lifecycle.handle(.begin)
        for event in [Event.taskSucceeded, .taskSucceeded, .taskSucceeded, .healthPassed, .switched, .taskSucceeded,
            .dnsExpired, .taskSucceeded]
        {
            all += lifecycle.handle(event)
        }
        #expect(all == [
            .configureTarget, .backupSource, .restoreTarget, .probeTarget, .switchPlacement, .forwardFromSource,
            .waitForDNS, .removeFromSource, .finish(succeeded: true),
        ])
        #expect(lifecycle.phase == .succeeded && lifecycle.step == .done)
        var php = MigrationLifecycle(finalPass: true)
        var phpActions: [Action] = php.handle(.begin)
        for event in [Event.taskSucceeded, .taskSucceeded, .taskSucceeded, .healthPassed, .taskSucceeded,
            .taskSucceeded, .taskSucceeded, .switched]
        {
            phpActions += php.handle(event)
        }
        #expect(phpActions == [
            .configureTarget, .backupSource, .restoreTarget, .probeTarget, .maintenanceOnSource(true), .backupSource,
            .restoreTarget, .switchPlacement, .forwardFromSource,
        ])
        #expect(php.switched)
    }

    @Test("a failover walks configure → restore → health → switch → done, for php sites too, and never acts on the source")
    func failoverWalk() {
        for finalPass in [false, true] {
            var lifecycle = MigrationLifecycle(finalPass: finalPass, failover: true)
            var all: [Action] = lifecycle.handle(.begin)
            for event in [Event.taskSucceeded, .taskSucceeded, .healthPassed, .switched] { all += lifecycle.handle(event) }
            #expect(all == [.configureTarget, .restoreTarget, .probeTarget, .switchPlacement, .finish(succeeded: true)])
            #expect(lifecycle.phase == .succeeded && lifecycle.step == .done && lifecycle.switched)
            // Failing before the switch removes the target's partial copy only.
            var failing = MigrationLifecycle(step: .restore, finalPass: finalPass, failover: true)
            #expect(failing.handle(.taskFailed("restore failed")) == [.removeFromTarget, .finish(succeeded: false)])
        }
    }
}
