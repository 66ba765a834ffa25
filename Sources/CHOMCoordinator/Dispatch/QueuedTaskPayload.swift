package import CHOMCore
import Foundation

/// A queued task's payload while its secrets cannot be sealed to its agent yet (the agent has no
/// X25519 key): the whole serialized task is sealed at rest with the coordinator's key ring
/// (``SecretBox``, context `task-payload:<task id>`, so a payload copied to another row does not
/// open), and stored as that sealed text's bytes. When the agent has a key, the dispatcher opens
/// it and seals the secrets to the agent (`TaskSecrets`) before the first send; the row's payload
/// is replaced in the same transaction.
///
/// The two forms cannot be confused: a sealed text starts with `chomsec:`, and a serialized
/// `Task` never starts with `c` (0x63 would be field 12 with the group wire type, which proto3
/// never writes).
package enum QueuedTaskPayload {
    package static func context(_ task: TaskID) -> String { "task-payload:\(task)" }

    package static func isSealedAtRest(_ payload: [UInt8]) -> Bool {
        payload.starts(with: Array((SealedSecretText.scheme + ":").utf8))
    }

    package static func seal(_ payload: [UInt8], box: SecretBox, task: TaskID) -> [UInt8] {
        Array(box.seal(plaintext: Data(payload), context: context(task)).utf8)
    }

    /// The serialized task as stored by a coordinator with `configuration` (its key ring read
    /// from the configuration or key file): for tools and tests that read the queue directly.
    package static func open(_ payload: [UInt8], configuration: CoordinatorConfiguration, task: TaskID) throws -> [UInt8] {
        guard isSealedAtRest(payload) else { return payload }
        let box = SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false))
        do {
            return try open(payload, box: box, task: task)
        } catch {
            throw CHOMError(.integrity, "the queued payload of task \(task) cannot be opened: \(error)")
        }
    }

    /// The serialized task: opened when sealed at rest, else as stored.
    package static func open(_ payload: [UInt8], box: SecretBox, task: TaskID) throws(SecretBoxError) -> [UInt8] {
        guard isSealedAtRest(payload) else { return payload }
        return Array(try box.open(String(decoding: payload, as: UTF8.self), context: context(task)))
    }
}
