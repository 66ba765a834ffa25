/// A site's lifecycle as a value: its state, the reasons it is suspended for, and whether it has a
/// release. `handle` is the only way a site changes state: routes, the task result recorder, the
/// backup schedule and the migration runner all go through it and carry out the actions it
/// returns, in the transaction that stores the new state (the pattern of postgres-nio's
/// `PoolStateMachine`: a `mutating` method that returns what to do, no I/O here).
///
/// The rules, in short (`SiteLifecycle+Transitions.swift` has them event by event):
/// - A site being removed (or removed) takes no deploy, configure, rollback, migration, failover,
///   suspend or resume; a removed one takes a restore.
/// - A moving site (migrating or failing over) takes no deploy, configure, rollback, restore, second
///   move or remove until the move ends: the copy on the new agent would miss it. A remove is
///   refused rather than cancelling the move, so that the move's runner is the only one to end it.
/// - A deploying site is not migrated (the copy would miss the release); it may fail over.
/// - Suspension is a set of reasons; every suspend or resume request sends the agent the suspension
///   the site should have, and only the request that empties the set resumes it (`suspend(false)`).
/// - Task results are facts, never refused; one that no longer applies (a deploy finishing on a
///   site being removed) changes nothing.
package struct SiteLifecycle: Sendable, Equatable {
    package var state: SiteState
    /// Why the site should be suspended; empty when it should be served.
    package var suspension: Set<SuspensionReason>
    /// Whether a release was ever made live: a settled site is `active` with one, `created` without.
    package var hasRelease: Bool

    package init(state: SiteState = .created, suspension: Set<SuspensionReason> = [], hasRelease: Bool = false) {
        self.state = state
        self.suspension = suspension
        self.hasRelease = hasRelease
    }

    /// Whether the site should be suspended (the suspension sent with every task's configuration).
    package var isSuspended: Bool { !suspension.isEmpty }

    /// The suspension reasons in a stable order, as stored.
    package var sortedSuspension: [SuspensionReason] { suspension.sorted() }

    /// Applies `event`: on success the lifecycle holds the next state and the actions say what to
    /// do; on refusal nothing changed and the refusal says why.
    package mutating func handle(_ event: SiteEvent) -> Result<[SiteAction], SiteTransitionRefusal> {
        var next = self
        let outcome = next.apply(event)
        if case .success = outcome { self = next }
        return outcome
    }

    /// The state a site settles in when nothing is under way: active with a release, else created.
    var settled: SiteState { hasRelease ? .active : .created }

    func refuse(_ event: SiteEvent, _ message: String) -> Result<[SiteAction], SiteTransitionRefusal> {
        .failure(SiteTransitionRefusal(state: state, event: event, message: message))
    }

    /// The usual refusal: "site is removing; it takes no deploy".
    func takesNo(_ event: SiteEvent, until: String? = nil) -> Result<[SiteAction], SiteTransitionRefusal> {
        var message = "site is \(state.rawValue); it takes no \(event.noun)"
        if let until { message += " until the \(until) ends" }
        return refuse(event, message)
    }
}

/// A request the site's state does not take. `message` is for the caller (a 409's detail).
package struct SiteTransitionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package var state: SiteState
    package var event: SiteEvent
    package var message: String

    package var description: String { message }
}
