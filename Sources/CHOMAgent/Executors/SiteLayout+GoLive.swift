#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a release that went live was taken back: the step that failed (activate or health), what
/// it saw, and what `current` is now.
package struct GoLiveFailure: Error, Sendable, CustomStringConvertible {
    package var step: DeployFailure.Step
    package var reason: String
    package var restored: String

    package var description: String { "\(reason); \(restored)" }
}

extension SiteLayout {
    /// Going live, for deploys, rollbacks and restores alike: `current` moves to `releaseID`,
    /// then (with hosting) the site is activated and its health checked through nginx. When
    /// either fails, `current` goes back to the release it pointed at before (activated again),
    /// or is removed when there was none, and `GoLiveFailure` says what happened. Progress:
    /// `switch`, then `health` or `rollback`.
    package func goLive(
        _ releaseID: String, site: HostedSite, hosting: (any SiteHosting)?, progress: ProgressReporter
    ) async throws {
        let previous = currentRelease()
        try switchCurrent(to: releaseID)
        await progress(DeployFailure.Step.switch.rawValue, "current -> releases/\(releaseID)")
        guard let hosting else { return }
        let step: DeployFailure.Step
        let reason: String
        do {
            try await hosting.activate(site, layout: self)
            do {
                let seen = try await hosting.checkHealth(site)
                await progress(DeployFailure.Step.health.rawValue, seen)
                return
            } catch {
                (step, reason) = (.health, "\(error)")
            }
        } catch {
            (step, reason) = (.activate, "\(error)")
        }
        let restored: String
        if let previous {
            do {
                try switchCurrent(to: previous)
                try await hosting.activate(site, layout: self)
            } catch {
                throw DeployFailure(step: .rollback, reason: "going back to release \(previous) failed: \(error)")
            }
            restored = "rolled back: release \(previous) is live again"
        } else {
            try? removeCurrent()
            restored = "no earlier release to go back to: the site has no current release"
        }
        await progress(DeployFailure.Step.rollback.rawValue, restored)
        throw GoLiveFailure(step: step, reason: reason, restored: restored)
    }
}
