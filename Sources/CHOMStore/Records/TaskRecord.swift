package import CHOMCore
package import Foundation
import Instrumentation

package struct TaskRecord: Sendable, Equatable {
    /// Re-sends answered from the agent's journal after which a task is failed all the same: each
    /// is a stream that ended without its answer recorded, ten times the delivery limit.
    package var answeredResendLimit: Int { maxAttempts * 10 }

    package var id: TaskID
    package var agentID: AgentID
    package var siteID: SiteID?
    package var releaseID: ReleaseID?
    package var kind: TaskKindName
    /// The serialized protobuf Task; the store does not interpret it.
    package var payload: [UInt8]
    package var state: TaskState
    package var sequence: Int64?
    package var envelope: [UInt8]?
    package var envelopeExpiresAt: Date?
    package var attempts: Int
    package var maxAttempts: Int
    /// Re-sends the agent was bound to answer from its journal (not delivery attempts). Bounded by
    /// `answeredResendLimit`: an answer that can never be recorded must not loop forever.
    package var answeredResends: Int = 0
    package var progressStep: String?
    package var progressLog: String?
    package var resultMessage: String?
    package var releasePath: String?
    package var createdAt: Date
    package var sentAt: Date?
    package var acceptedAt: Date?
    package var finishedAt: Date?
    /// The backup the task makes, checks or restores.
    package var backupID: BackupID? = nil
    /// The release the task made live, as the agent reported it.
    package var resultReleaseID: ReleaseID? = nil
    package var failedStep: String? = nil
    /// For a suspend task: whether it suspends (true) or resumes (false) the site.
    package var suspended: Bool? = nil
    /// The trace context of the API request that queued it; the envelope carries it to the agent.
    package var traceParent: TraceParent? = nil
}

package struct NewTask: Sendable {
    package var id: TaskID
    package var agentID: AgentID
    package var siteID: SiteID?
    package var releaseID: ReleaseID?
    package var kind: TaskKindName
    package var payload: [UInt8]
    package var maxAttempts: Int
    package var backupID: BackupID?
    package var suspended: Bool?
    /// The payload holds a secret (a TLS key, a backup key, a bucket secret).
    package var carriesSecret: Bool
    /// Seals the payload's secrets to the agent's raw X25519 public key; the queue calls it at insert
    /// when the agent has registered one, so the stored payload never holds them in clear.
    package var sealPayload: (@Sendable (_ agentKey: [UInt8]) throws -> [UInt8])? = nil
    /// Seals the whole payload at rest with the coordinator's own key; the queue calls it at insert
    /// when the task carries a secret and the agent has no key yet, so the stored payload never
    /// holds the secret in clear while the task waits.
    package var sealAtRest: (@Sendable (_ payload: [UInt8]) -> [UInt8])? = nil
    /// The trace context of the work that queues it: by default the request's, bound in the
    /// task-local `ServiceContext` by the admin API (nil for the coordinator's own timers).
    package var traceParent: TraceParent? = ServiceContext.current?.traceParent

    package init(
        id: TaskID, agentID: AgentID, siteID: SiteID?, releaseID: ReleaseID?, kind: TaskKindName, payload: [UInt8],
        maxAttempts: Int, backupID: BackupID? = nil, suspended: Bool? = nil, carriesSecret: Bool = false
    ) {
        self.carriesSecret = carriesSecret
        self.backupID = backupID
        self.suspended = suspended
        self.id = id
        self.agentID = agentID
        self.siteID = siteID
        self.releaseID = releaseID
        self.kind = kind
        self.payload = payload
        self.maxAttempts = maxAttempts
    }
}
