import CHOMArchive
package import CHOMCore
import Crypto
package import Foundation
import SwiftProtobuf

/// Seals a task into a signed, compressed envelope for one agent.
package enum EnvelopeSealer {
    /// - Parameters:
    ///   - task: the task; its `taskID` becomes the envelope id.
    ///   - audience: the only agent that may open it.
    ///   - sequence: the agent's next sequence number (≥ 1).
    ///   - ttl: seconds until it expires.
    package static func seal(
        task: Chom_Agent_V1_Task,
        audience: AgentID,
        sequence: UInt64,
        ttl: TimeInterval,
        signer: EnvelopeSigner,
        now: Date,
        trace: Chom_Agent_V1_TraceContext? = nil
    ) throws -> Chom_Agent_V1_Envelope {
        let taskBytes: Data = try task.serializedBytes()
        let payload = try Zstd.compress(taskBytes)
        var header = Chom_Agent_V1_EnvelopeHeader()
        header.envelopeID = task.taskID
        header.audienceAgentID = audience.description
        header.sequence = sequence
        header.issuedAtMs = now.unixMilliseconds
        header.expiresAtMs = now.addingTimeInterval(ttl).unixMilliseconds
        header.taskKind = task.protoKind
        header.uncompressedSize = UInt64(taskBytes.count)
        header.signingKeyID = signer.keyID
        if let trace { header.trace = trace }
        let headerBytes: Data = try header.serializedBytes()
        var envelope = Chom_Agent_V1_Envelope()
        envelope.header = headerBytes
        envelope.payload = payload
        envelope.signature = try signer.privateKey.signature(
            for: EnvelopeSigning.signedBytes(header: headerBytes, payload: payload))
        return envelope
    }
}

extension Chom_Agent_V1_Task {
    /// The header's task kind for this task's payload.
    package var protoKind: Chom_Agent_V1_TaskKind {
        switch kind {
        case .deploy: .deploy
        case .backup: .backup
        case .restore: .restore
        case .remove: .remove
        case .rollback: .rollback
        case .configure: .configure
        case .suspend: .suspend
        case .verifyBackup: .verifyBackup
        case .pruneBackups: .pruneBackups
        case .readSiteLogs: .readSiteLogs
        case .ping: .ping
        case nil: .unspecified
        }
    }
}
