/// A deploy that stopped at `step`. `reason` names paths and sizes, never file contents.
package struct DeployFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Step: String, Sendable {
        case validate
        case prepare
        case configure
        case fetch
        case verify
        case extract
        case link
        case hooks
        case `switch`
        case activate
        case health
        case rollback
        case prune
    }

    package var step: Step
    package var reason: String

    package init(step: Step, reason: String) {
        self.step = step
        self.reason = reason
    }

    package var description: String { "deploy failed at \(step.rawValue): \(reason)" }
}
