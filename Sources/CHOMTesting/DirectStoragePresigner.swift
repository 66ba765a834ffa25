package import CHOMAgent
package import CHOMBackup
package import CHOMCore
import Foundation
import Synchronization

/// A presigner for agent tests without a coordinator: it signs with the bucket's own credentials
/// (as the coordinator does, through `S3Target.presign`) for the one object it was made for, and
/// records what it was asked. `refuse` makes it fail every call, as a coordinator that says no.
package final class DirectStoragePresigner: StoragePresigner {
    package let target: S3Target
    package let objectKey: String
    package let lifetimeSeconds: Int
    private let state = Mutex<(asked: [String], refuse: String?)>(([], nil))

    package init(target: S3Target, objectKey: String, lifetimeSeconds: Int = 300, refuse: String? = nil) {
        self.target = target
        self.objectKey = objectKey
        self.lifetimeSeconds = lifetimeSeconds
        state.withLock { $0.refuse = refuse }
    }

    /// The operations asked for, in order.
    package var asked: [String] { state.withLock { $0.asked } }

    package func presign(taskID: String, _ operation: PresignedOperation) async throws -> [PresignedHTTPRequest] {
        let refusal = state.withLock { state in
            state.asked.append(operation.description)
            return state.refuse
        }
        if let refusal { throw CHOMError(.forbidden, refusal) }
        return try target.presign(operation, key: objectKey, lifetimeSeconds: lifetimeSeconds, now: Date())
    }
}
