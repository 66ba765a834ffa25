import CHOMArchive
package import CHOMCore
import Crypto
package import Foundation
import SwiftProtobuf

/// An envelope that passed every check.
package struct OpenedEnvelope: Sendable {
    package var header: Chom_Agent_V1_EnvelopeHeader
    package var task: Chom_Agent_V1_Task

    /// The W3C trace context of the API request the task came from; nil when there is none or
    /// the header's is not a valid `traceparent` (it is then ignored, never refused: tracing
    /// is for the logs, not a condition of the work).
    package var trace: TraceParent? {
        header.hasTrace ? TraceParent(header: header.trace.traceparent) : nil
    }
}

/// Opens envelopes on the agent. Checks run in the documented order and stop at
/// the first failure: size → key id → signature → audience → time → sequence →
/// decompress (declared size as hard bound, absolute cap) → decode.
package struct EnvelopeOpener: Sendable {
    package var trustedKeys: TrustedEnvelopeKeys
    package var expectedAgent: AgentID
    package var limits: EnvelopeLimits

    package init(trustedKeys: TrustedEnvelopeKeys, expectedAgent: AgentID, limits: EnvelopeLimits = EnvelopeLimits()) {
        self.trustedKeys = trustedKeys
        self.expectedAgent = expectedAgent
        self.limits = limits
    }

    /// Returns the task, or throws an `EnvelopeRefusal`. On success the sequence is
    /// recorded in `replay`; a refusal leaves `replay` unchanged.
    package func open(
        _ envelope: Chom_Agent_V1_Envelope, replay: inout ReplayWindow, now: Date
    ) throws(EnvelopeRefusal) -> OpenedEnvelope {
        let header = try checkSizesAndParseHeader(envelope)
        try checkSignature(envelope, header: header)
        guard header.audienceAgentID == expectedAgent.description else {
            throw .misaddressed(audience: String(header.audienceAgentID.prefix(64)))
        }
        try checkTime(header, now: now)
        switch replay.check(header.sequence) {
        case .fresh: break
        case .replayed: throw .replayed(sequence: header.sequence)
        case .stale: throw .stale(sequence: header.sequence)
        }
        let task = try decompressAndDecode(envelope.payload, header: header)
        replay.accept(header.sequence)
        return OpenedEnvelope(header: header, task: task)
    }

    /// Reads only the header, for an agent that must answer a replayed envelope from its journal.
    package func peekHeader(_ envelope: Chom_Agent_V1_Envelope) -> Chom_Agent_V1_EnvelopeHeader? {
        guard envelope.header.count <= limits.maxHeaderBytes else { return nil }
        return try? Chom_Agent_V1_EnvelopeHeader(serializedBytes: envelope.header)
    }

    private func checkSizesAndParseHeader(
        _ envelope: Chom_Agent_V1_Envelope
    ) throws(EnvelopeRefusal) -> Chom_Agent_V1_EnvelopeHeader {
        let total = envelope.header.count + envelope.payload.count + envelope.signature.count
        guard total <= limits.maxEnvelopeBytes else {
            throw .oversize(part: "envelope", size: total, limit: limits.maxEnvelopeBytes)
        }
        guard envelope.header.count <= limits.maxHeaderBytes else {
            throw .oversize(part: "header", size: envelope.header.count, limit: limits.maxHeaderBytes)
        }
        guard envelope.signature.count == 64 else {
            throw .oversize(part: "signature", size: envelope.signature.count, limit: 64)
        }
        guard let header = try? Chom_Agent_V1_EnvelopeHeader(serializedBytes: envelope.header) else {
            throw .malformedHeader
        }
        return header
    }

    private func checkSignature(
        _ envelope: Chom_Agent_V1_Envelope, header: Chom_Agent_V1_EnvelopeHeader
    ) throws(EnvelopeRefusal) {
        guard let key = trustedKeys.keys[header.signingKeyID] else {
            throw .unknownKey(keyID: String(header.signingKeyID.prefix(32)))
        }
        let signed = EnvelopeSigning.signedBytes(header: envelope.header, payload: envelope.payload)
        guard key.isValidSignature(envelope.signature, for: signed) else { throw .badSignature }
    }

    private func checkTime(_ header: Chom_Agent_V1_EnvelopeHeader, now: Date) throws(EnvelopeRefusal) {
        let nowMS = now.unixMilliseconds
        let skewMS = Int64(limits.clockSkewSeconds * 1000)
        // Arithmetic only on the local clock: `expiresAtMs + skewMS` would trap on a header near Int64.max.
        if header.issuedAtMs > nowMS + skewMS { throw .notYetValid }
        if header.expiresAtMs < nowMS - skewMS || header.expiresAtMs < header.issuedAtMs { throw .expired }
    }

    private func decompressAndDecode(
        _ payload: Data, header: Chom_Agent_V1_EnvelopeHeader
    ) throws(EnvelopeRefusal) -> Chom_Agent_V1_Task {
        guard header.uncompressedSize <= UInt64(limits.maxUncompressedBytes) else {
            throw .oversize(
                part: "declared uncompressed size", size: Int(clamping: header.uncompressedSize),
                limit: limits.maxUncompressedBytes)
        }
        let bytes: Data
        do {
            bytes = try Zstd.decompress(
                payload, declaredSize: Int(header.uncompressedSize), absoluteCap: limits.maxUncompressedBytes)
        } catch {
            throw .decompression(String(describing: error))
        }
        let task: Chom_Agent_V1_Task
        do {
            task = try Chom_Agent_V1_Task(serializedBytes: bytes)
        } catch {
            throw .undecodable("protobuf decoding failed")
        }
        guard task.taskID == header.envelopeID else { throw .undecodable("task id differs from envelope id") }
        guard task.protoKind == header.taskKind, task.protoKind != .unspecified else {
            throw .undecodable("task kind differs from header or is unknown")
        }
        return task
    }
}
