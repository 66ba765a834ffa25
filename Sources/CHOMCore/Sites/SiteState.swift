/// Where a site is in its life, as `sites.state` stores it and the API shows it. The raw values are
/// stored: never rename one (rows written by an older coordinator keep theirs). Only
/// `SiteLifecycle` moves a site from one state to another.
///
/// A configure does not have a state of its own: the site keeps serving what it served while its
/// agent applies the new configuration, and only a failure shows (`config_failed`).
package enum SiteState: String, Sendable, Codable, CaseIterable {
    /// Placed on an agent; nothing deployed yet (it may be configured).
    case created
    /// A deploy is queued or running.
    case deploying
    /// Serving its current release.
    case active
    /// The last deploy failed; the site serves its previous release, if any.
    case deployFailed = "deploy_failed"
    /// The last configure failed on the agent.
    case configFailed = "config_failed"
    /// A remove is queued or running: the site takes nothing new but a suspension's result.
    case removing
    /// Gone from its agent; only a restore brings it back.
    case removed
    /// The remove failed (its backup could not be taken): the site is still there and serving.
    case removeFailed = "remove_failed"
    /// Moving to another agent (`CHOMCoordinator/Fleet`): still served by its old agent until the switch.
    case migrating
    /// Its agent is lost; the site is being brought up on another one from its last backup.
    case failingOver = "failing_over"

    /// A state this build does not know (a newer coordinator wrote it) reads as `active`: the site
    /// is shown and served as it is, and the next event settles its state. Known values map exactly.
    package init(stored: String) {
        self = SiteState(rawValue: stored) ?? .active
    }

    /// Removing or removed: the site takes no new task but a restore (once removed).
    package var isRemoved: Bool { self == .removing || self == .removed }

    /// Moving between agents (a migration or a failover): the site takes no deploy, configure,
    /// rollback, restore or remove until the move ends, since the copy on the new agent would miss it.
    package var isMoving: Bool { self == .migrating || self == .failingOver }

    /// Whether the backup schedule takes a backup of a site in this state: not once it is being
    /// removed (its remove takes the last one), nor while it moves (the move takes its own backup
    /// and the schedule catches up once the site is settled on its agent).
    package var takesScheduledBackups: Bool { !isRemoved && !isMoving }
}

/// Why a site is suspended. A site is suspended while it holds at least one reason; each reason is
/// lifted on its own, so lifting one never resumes a site that another still holds. Stored by raw
/// value in `sites.suspension_reasons`.
package enum SuspensionReason: String, Sendable, Codable, CaseIterable, Comparable {
    /// An administrator's `POST /v1/sites/{site}/suspend`.
    case manual
    /// Unpaid: set and lifted by billing.
    case billing
    /// The site's agent is fenced off (it may still be running a copy elsewhere).
    case fencing

    package static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
