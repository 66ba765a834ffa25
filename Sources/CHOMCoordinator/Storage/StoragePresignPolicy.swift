package import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import Foundation

/// Which object storage requests the coordinator presigns for an agent. Pure: the gateway reads
/// the task, this decides, the storage signs.
///
/// A request is signed only for a task that exists, belongs to the calling agent, has been sent
/// and has no result yet, and names a presigned object; and only for what its kind needs: the
/// writes of an upload for a backup (or the backup before a removal), GetObject for a restore or
/// a verify drill. The object is always the task's own, read from the task the coordinator
/// stored, never from the request.
package enum StoragePresignPolicy {
    /// What the policy needs to know about the task named in the request.
    package struct TaskFacts: Equatable {
        package var agent: AgentID
        package var state: TaskState
        package var kind: TaskKindName
        /// The presigned object the stored task names; nil when its destination is not presigned.
        package var objectKey: String?

        package init(agent: AgentID, state: TaskState, kind: TaskKindName, objectKey: String?) {
            self.agent = agent
            self.state = state
            self.kind = kind
            self.objectKey = objectKey
        }
    }

    package enum Decision: Equatable {
        case sign(objectKey: String)
        case refuse(Refusal)
    }

    package enum Refusal: Equatable, CustomStringConvertible {
        /// No such task, or another agent's (the same answer, so task ids cannot be probed).
        case noSuchTask
        case notRunning(TaskState)
        case noPresignedObject
        case notAllowed(kind: TaskKindName, operation: String)

        package var description: String {
            switch self {
            case .noSuchTask: "no such task for this agent"
            case .notRunning(let state): "the task is \(state.rawValue), not running: nothing is presigned for it"
            case .noPresignedObject: "the task does not name a presigned storage object"
            case .notAllowed(let kind, let operation): "a \(kind.rawValue) task may not \(operation)"
            }
        }
    }

    package static func decide(task: TaskFacts?, caller: AgentID, operation: PresignedOperation) -> Decision {
        guard let task, task.agent == caller else { return .refuse(.noSuchTask) }
        guard task.state == .sent || task.state == .accepted else { return .refuse(.notRunning(task.state)) }
        guard let key = task.objectKey, !key.isEmpty else { return .refuse(.noPresignedObject) }
        let allowed: Bool = switch task.kind {
        case .backup, .remove: operation.writes
        case .restore, .verifyBackup: operation == .get
        case .deploy, .rollback, .configure, .suspend, .pruneBackups, .readSiteLogs, .ping: false
        }
        guard allowed else { return .refuse(.notAllowed(kind: task.kind, operation: operation.description)) }
        return .sign(objectKey: key)
    }

    /// The presigned object a stored task payload names, if any.
    package static func objectKey(ofPayload payload: [UInt8]) -> String? {
        guard let task = try? Chom_Agent_V1_Task(serializedBytes: payload) else { return nil }
        let destination: Chom_Agent_V1_BackupDestination? = switch task.kind {
        case .backup(let backup): backup.destination
        case .remove(let remove): remove.hasBackup ? remove.backup.destination : nil
        case .restore(let restore): restore.source
        case .verifyBackup(let verify): verify.source
        default: nil
        }
        guard case .presigned(let object)? = destination?.target else { return nil }
        return object.objectKey
    }
}
