/// What happens to a site: a request (from a route, the scheduler or the migration runner), or a
/// task's result. `SiteLifecycle.handle` turns one into the site's next state and the actions that
/// carry it out.
///
/// Requests can be refused (the site is in a state that takes no such thing). Results are facts
/// and are never refused: a late one that no longer applies changes nothing. Migration and
/// failover steps are reported by the code that runs them, which refuses a step when no move is
/// under way (a bug in that code, or a second runner).
package enum SiteEvent: Sendable, Equatable {
    /// The site was created on `agent` (the initial placement; a later move is a migration).
    case placed(AgentID)
    case configureRequested
    case configureSucceeded
    case configureFailed
    case deployRequested
    /// A deploy or a rollback made `release` live (nil: the agent did not say which).
    case deploySucceeded(ReleaseID?)
    /// The step that failed, when the agent said.
    case deployFailed(step: String?)
    case rollbackRequested
    /// A restore of a backup onto `agent` (the site's own, or another one an operator names).
    case restoreRequested(onto: AgentID)
    /// The restore made `release` live on `agent`; the site now lives there.
    case restoreSucceeded(on: AgentID, release: ReleaseID?)
    case restoreFailed
    case suspendRequested(SuspensionReason)
    case resumeRequested(SuspensionReason)
    /// The agent applied a suspend task: the site is now suspended (true) or served (false) there.
    case suspensionApplied(Bool)
    case migrationStarted(to: AgentID)
    /// The site's placement (and DNS) switched to `to`: the migration's copy is live there.
    case migrationSwitched(to: AgentID)
    /// The migration stopped at `step`; the site stays on (and is served from) its old agent.
    case migrationFailed(step: String)
    case failoverStarted(to: AgentID)
    /// The site was brought up on `on`, which it now lives on.
    case failoverSucceeded(on: AgentID)
    case failoverFailed
    case removeRequested
    case removeSucceeded
    case removeFailed

    /// The event as a refusal names it ("it takes no deploy").
    package var noun: String {
        switch self {
        case .placed: "placement"
        case .configureRequested, .configureSucceeded, .configureFailed: "configure"
        case .deployRequested, .deploySucceeded, .deployFailed: "deploy"
        case .rollbackRequested: "rollback"
        case .restoreRequested, .restoreSucceeded, .restoreFailed: "restore"
        case .suspendRequested, .suspensionApplied: "suspend"
        case .resumeRequested: "resume"
        case .migrationStarted, .migrationSwitched, .migrationFailed: "migration"
        case .failoverStarted, .failoverSucceeded, .failoverFailed: "failover"
        case .removeRequested, .removeSucceeded, .removeFailed: "remove"
        }
    }
}

/// A task the caller queues for the site, in the transaction that records the transition.
package enum SiteTaskKind: Sendable, Equatable {
    case configure
    case deploy
    case rollback
    /// Onto this agent (the site's own, or the one the restore names).
    case restore(onto: AgentID)
    /// A suspend task asking the agent to suspend (true) or serve (false) the site.
    case suspend(Bool)
    case remove
}

/// What the caller does to carry out a transition. Everything but `wakeAgent` (and the DNS
/// actions, which talk to the DNS provider) belongs in the transaction that stores the new state,
/// so that a state never commits without what it implies.
package enum SiteAction: Sendable, Equatable {
    /// Queue this task for the site's agent (`restore`: for the agent it names).
    case enqueue(SiteTaskKind)
    /// After the commit, wake the agent's stream so that it takes the queued task now.
    case wakeAgent
    /// Record an audit entry with this action (the caller adds the actor and the details).
    case audit(String)
    /// Store the reported release (and its path) as the site's current one; nil keeps the one stored.
    case recordRelease(ReleaseID?)
    /// The site now lives on this agent: set its placement and let go of the app port it held on
    /// any other agent.
    case placeOn(AgentID)
    /// The site is gone: let go of every name and port it claimed.
    case releaseClaims
    /// Point the site's DNS records (its fleet name, and its domains in the fleet's zones) at its
    /// agent's public addresses.
    case updateDNS
    /// Delete the site's DNS records.
    case removeDNS
    /// Record what the agent applied: `sites.suspended`, which the API shows. The wanted state is
    /// the lifecycle's `suspension` set; the two differ while a suspend task is on its way.
    case setSuspended(Bool)
}

extension Array where Element == SiteAction {
    /// The audit action among these, if any.
    package var auditAction: String? {
        for case .audit(let action) in self { return action }
        return nil
    }
}
