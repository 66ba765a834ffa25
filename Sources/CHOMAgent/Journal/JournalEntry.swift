package import Foundation
/// What the journal knows about one task (by envelope id = task id).
package struct JournalEntry: Sendable, Codable, Equatable {
    package enum State: String, Sendable, Codable {
        /// Journaled before execution; still running, or interrupted by a crash.
        case accepted
        case succeeded
        case failed
        /// Opened fine but refused by its executor (e.g. an invalid domain).
        case refused

        package var isFinal: Bool { self != .accepted }
    }

    package var taskID: String
    package var sequence: UInt64
    /// `TaskKindName` raw value ("deploy", …).
    package var kind: String
    package var state: State
    package var message: String
    /// For deploys: the absolute path of the release directory.
    package var releasePath: String
    /// A serialized `TaskResult` with the task's report fields (see `ExecutionResult.report`).
    package var report: Data?
    package var acceptedAtMS: Int64
    package var finishedAtMS: Int64?

    package init(
        taskID: String, sequence: UInt64, kind: String, state: State, message: String = "", releasePath: String = "",
        acceptedAtMS: Int64, finishedAtMS: Int64? = nil
    ) {
        self.taskID = taskID
        self.sequence = sequence
        self.kind = kind
        self.state = state
        self.message = message
        self.releasePath = releasePath
        self.acceptedAtMS = acceptedAtMS
        self.finishedAtMS = finishedAtMS
    }
}
