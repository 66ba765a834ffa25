/// The transitions, grouped by what they are about. Each function reads the current state and
/// either refuses or sets the next state and returns the actions.
extension SiteLifecycle {
    mutating func apply(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        switch event {
        case .placed:
            guard state == .created else {
                return refuse(event, "site is \(state.rawValue); it is placed already (a move is a migration)")
            }
            return .success([.updateDNS, .audit("site.create")])
        case .configureRequested, .deployRequested, .rollbackRequested, .removeRequested:
            return request(event)
        case .restoreRequested(let agent):
            if state == .removing { return takesNo(event) }
            if state.isMoving { return takesNo(event, until: moveName) }
            return .success([.enqueue(.restore(onto: agent)), .audit("backup.restore"), .wakeAgent])
        case .configureSucceeded, .configureFailed, .deploySucceeded, .deployFailed, .restoreSucceeded,
            .restoreFailed, .removeSucceeded, .removeFailed, .suspensionApplied:
            return .success(result(event))
        case .suspendRequested, .resumeRequested:
            return suspension(event)
        case .migrationStarted, .migrationSwitched, .migrationFailed, .failoverStarted, .failoverSucceeded,
            .failoverFailed:
            return move(event)
        }
    }

    private var moveName: String { state == .migrating ? "migration" : "failover" }

    /// Configure, deploy, rollback and remove: refused while removing, removed or moving.
    private mutating func request(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        if state.isRemoved { return takesNo(event) }
        if state.isMoving { return takesNo(event, until: moveName) }
        switch event {
        case .configureRequested:
            return .success([.enqueue(.configure), .audit("site.configure"), .wakeAgent])
        case .deployRequested:
            state = .deploying
            return .success([.enqueue(.deploy), .audit("site.deploy"), .wakeAgent])
        case .rollbackRequested:
            return .success([.enqueue(.rollback), .audit("site.rollback"), .wakeAgent])
        default:  // .removeRequested
            state = .removing
            return .success([.enqueue(.remove), .audit("site.remove"), .wakeAgent])
        }
    }

    /// Task results: never refused; one that no longer applies returns no action.
    private mutating func result(_ event: SiteEvent) -> [SiteAction] {
        switch event {
        case .configureSucceeded:
            if state == .configFailed { state = settled }
            return []
        case .configureFailed:
            if !state.isRemoved, !state.isMoving, state != .deploying { state = .configFailed }
            return []
        case .deploySucceeded(let release):
            if state == .removed { return [] }
            hasRelease = true
            if !state.isRemoved, !state.isMoving { state = .active }
            return [.recordRelease(release)]
        case .deployFailed:
            if !state.isRemoved, !state.isMoving { state = .deployFailed }
            return []
        case .restoreSucceeded(let agent, let release):
            if state == .removing || state.isMoving { return [] }
            hasRelease = true
            state = .active
            return [.recordRelease(release), .placeOn(agent), .updateDNS]
        case .removeSucceeded:
            if state == .removed { return [] }
            state = .removed
            return [.releaseClaims, .removeDNS]
        case .removeFailed:
            if state == .removing { state = .removeFailed }
            return []
        case .suspensionApplied(let suspended):
            return [.setSuspended(suspended)]
        default:  // .restoreFailed: the restore's claims are let go by the recorder; the state stays.
            return []
        }
    }

    /// Suspend and resume requests: a set of reasons; each request sends the wanted suspension.
    private mutating func suspension(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        if state.isRemoved { return takesNo(event) }
        switch event {
        case .suspendRequested(let reason):
            suspension.insert(reason)
            return .success([.enqueue(.suspend(true)), .audit("site.suspend"), .wakeAgent])
        case .resumeRequested(let reason):
            if !suspension.contains(reason), !suspension.isEmpty {
                let held = sortedSuspension.map(\.rawValue).joined(separator: ", ")
                return refuse(event, "site is suspended for \(held), not \(reason.rawValue); resuming it lifts nothing")
            }
            suspension.remove(reason)
            return .success([.enqueue(.suspend(isSuspended)), .audit("site.resume"), .wakeAgent])
        default:
            return .success([])
        }
    }

    /// Migration and failover steps.
    private mutating func move(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        switch event {
        case .migrationStarted:
            if state.isRemoved { return takesNo(event) }
            if state == .migrating { return refuse(event, "site is migrating; it takes no second migration") }
            if state == .failingOver { return takesNo(event, until: "failover") }
            if state == .deploying { return takesNo(event, until: "deploy") }
            state = .migrating
            return .success([.audit("site.migration.started")])
        case .failoverStarted:
            if state.isRemoved { return takesNo(event) }
            if state == .failingOver { return refuse(event, "site is failing_over; it takes no second failover") }
            state = .failingOver
            return .success([.audit("site.failover.started")])
        case .migrationSwitched(let agent), .failoverSucceeded(on: let agent):
            let expected: SiteState = if case .migrationSwitched = event { .migrating } else { .failingOver }
            guard state == expected else { return noMove(event) }
            state = settled
            let audit = expected == .migrating ? "site.migration.switched" : "site.failover.succeeded"
            var actions: [SiteAction] = [.placeOn(agent), .updateDNS, .audit(audit)]
            // A suspension requested during the move went to the old agent: the new one hears it here.
            if isSuspended { actions.append(.enqueue(.suspend(true))) }
            return .success(actions)
        case .migrationFailed:
            guard state == .migrating else { return noMove(event) }
            state = settled
            return .success([.audit("site.migration.failed")])
        default:  // .failoverFailed
            guard state == .failingOver else { return noMove(event) }
            state = settled
            return .success([.audit("site.failover.failed")])
        }
    }

    private func noMove(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        refuse(event, "site is \(state.rawValue); no \(event.noun) is under way")
    }
}
