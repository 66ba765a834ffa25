/// One site's move from agent A (the source) to agent B (the target), as a value-type state machine:
/// each event returns the actions the migration runner carries out (`MigrationRunner`). Pure.
///
/// The steps, in order (ARCHITECTURE.md "Migration"):
/// configure on B → backup on A → restore on B → health on B → for php/app sites a final pass
/// (maintenance on A → backup on A → restore on B) → switch (placement, then DNS) → proxy (A
/// forwards to B) → wait for the DNS TTL → cleanup (A removes its copy) → done.
/// A failure before the switch leaves the site serving from A: maintenance on A is lifted and B's
/// partial copy removed. A failure after it leaves the site on B (reconciliation removes A's copy).
///
/// A **failover** is the same walk for a site whose agent A was declared failed: nothing can be
/// asked of A, so B restores from the site's latest backup (chosen when the failover opened):
/// configure on B → restore on B → health on B → switch → done. A's copy is removed by
/// reconciliation if A ever comes back.
struct MigrationLifecycle: Sendable, Equatable {
    enum Step: String, Sendable, CaseIterable {
        case configure, backup, restore, health, maintenance
        case finalBackup = "final_backup"
        case finalRestore = "final_restore"
        case switchover = "switch"
        case proxy
        case dnsWait = "dns_wait"
        case cleanup, done
    }

    enum Phase: String, Sendable, CaseIterable {
        case running, succeeded, failed
    }

    enum Event: Sendable, Equatable {
        case begin
        case taskSucceeded
        case taskFailed(String)
        case healthPassed
        case healthFailed(String)
        case switched
        /// The DNS TTL (plus margin) has passed since the switch.
        case dnsExpired
        /// The failure detector declared the source failed: before the switch the move stops (the
        /// site then fails over), and nothing is asked of the source any more.
        case sourceFailed
        /// The failure detector declared the target failed: before the switch the move stops.
        case targetFailed
        /// A failover's source was heard from again before the switch: it still serves the site
        /// (and takes its writes), so the failover stops and the site stays there.
        case sourceRecovered
    }

    enum Action: Sendable, Equatable {
        /// A configure task on B (the site's user, directories and server block).
        case configureTarget
        /// A backup task on A; its backup is what the next restore uses.
        case backupSource
        /// A restore task on B from the last backup of this migration.
        case restoreTarget
        /// An HTTP request to B for the site's health check path, with its Host header.
        case probeTarget
        /// A suspend task on A: true puts it in maintenance (503), false lifts it.
        case maintenanceOnSource(Bool)
        /// Placement to B in PostgreSQL, then DNS to B's addresses.
        case switchPlacement
        /// A configure task on A with `forward_to` B: A proxies what still reaches it.
        case forwardFromSource
        /// Nothing to send: the runner waits until the DNS TTL has passed since the switch.
        case waitForDNS
        /// A remove task on A (no longer the site's agent: the site's state is not touched).
        case removeFromSource
        /// A remove task on B for the partial copy of a migration that failed before the switch.
        case removeFromTarget
        case finish(succeeded: Bool)
    }

    private(set) var step: Step
    private(set) var phase: Phase
    /// php and app sites take writes on A until it is in maintenance: they get a final pass.
    let finalPass: Bool
    /// The source is gone: no backup, maintenance, proxy or cleanup on it.
    let failover: Bool
    private(set) var failedStep: Step?
    private(set) var message: String

    init(
        step: Step = .configure, phase: Phase = .running, finalPass: Bool, failover: Bool = false,
        failedStep: Step? = nil, message: String = ""
    ) {
        self.step = step
        self.phase = phase
        self.finalPass = finalPass && !failover
        self.failover = failover
        self.failedStep = failedStep
        self.message = message
    }

    /// Whether the site has switched to B (placement and DNS): from then on it serves from B.
    var switched: Bool {
        switch step {
        case .proxy, .dnsWait, .cleanup, .done: true
        case .switchover, .configure, .backup, .restore, .health, .maintenance, .finalBackup, .finalRestore: false
        }
    }

    /// Whether A is in maintenance because of this migration (and must be lifted on a failure).
    var sourceInMaintenance: Bool {
        switch step {
        case .maintenance, .finalBackup, .finalRestore, .switchover: true
        case .configure, .backup, .restore, .health, .proxy, .dnsWait, .cleanup, .done: false
        }
    }

    /// The actions for `event`; an event the current step does not expect changes nothing and
    /// returns no action (a late or repeated task result, say).
    mutating func handle(_ event: Event) -> [Action] {
        guard phase == .running else { return [] }
        switch (step, event) {
        case (.configure, .begin):
            return [.configureTarget]
        case (.configure, .taskSucceeded):
            return failover ? advance(to: .restore, [.restoreTarget]) : advance(to: .backup, [.backupSource])
        case (.backup, .taskSucceeded):
            return advance(to: .restore, [.restoreTarget])
        case (.restore, .taskSucceeded):
            return advance(to: .health, [.probeTarget])
        case (.health, .healthPassed):
            return finalPass
                ? advance(to: .maintenance, [.maintenanceOnSource(true)]) : advance(to: .switchover, [.switchPlacement])
        case (.health, .healthFailed(let why)):
            return fail("the site did not answer its health check on the target: \(why)")
        case (.maintenance, .taskSucceeded):
            return advance(to: .finalBackup, [.backupSource])
        case (.finalBackup, .taskSucceeded):
            return advance(to: .finalRestore, [.restoreTarget])
        case (.finalRestore, .taskSucceeded):
            return advance(to: .switchover, [.switchPlacement])
        case (.switchover, .switched):
            guard !failover else {
                step = .done
                phase = .succeeded
                return [.finish(succeeded: true)]
            }
            return advance(to: .proxy, [.forwardFromSource])
        case (.proxy, .taskSucceeded):
            return advance(to: .dnsWait, [.waitForDNS])
        case (.dnsWait, .dnsExpired):
            return advance(to: .cleanup, [.removeFromSource])
        case (.cleanup, .taskSucceeded):
            step = .done
            phase = .succeeded
            return [.finish(succeeded: true)]
        case (.configure, .taskFailed(let why)), (.backup, .taskFailed(let why)), (.restore, .taskFailed(let why)),
            (.maintenance, .taskFailed(let why)), (.finalBackup, .taskFailed(let why)),
            (.finalRestore, .taskFailed(let why)), (.proxy, .taskFailed(let why)), (.cleanup, .taskFailed(let why)):
            return fail(why)
        case (.switchover, .taskFailed(let why)):
            // The switch's own write failed (a stale leader, a lost database): nothing moved.
            return fail(why)
        case (_, .sourceFailed) where !switched && !failover:
            failedStep = step
            message = "the source agent was declared failed"
            phase = .failed
            return [.removeFromTarget, .finish(succeeded: false)]
        case (_, .targetFailed) where !switched:
            return fail("the target agent was declared failed")
        case (_, .sourceRecovered) where !switched && failover:
            return fail("the source agent was heard from again; the site stays on it")
        default:
            return []
        }
    }

    private mutating func advance(to next: Step, _ actions: [Action]) -> [Action] {
        step = next
        return actions
    }

    private mutating func fail(_ why: String) -> [Action] {
        let lifted = sourceInMaintenance
        let wasSwitched = switched
        failedStep = step
        message = why
        phase = .failed
        if wasSwitched { return [.finish(succeeded: false)] }
        var actions: [Action] = []
        if lifted { actions.append(.maintenanceOnSource(false)) }
        actions.append(.removeFromTarget)
        actions.append(.finish(succeeded: false))
        return actions
    }
}
