import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import SwiftProtobuf

/// One golden case as the generator builds it, before it becomes a file and a cases.json entry.
struct GoldenSpec {
    var name: String
    var description: String
    var envelope: Chom_Agent_V1_Envelope
    var nowMs: Int64 = Fixtures.issuedAtMs
    var replay = ReplayWindow()
    /// "accept" or an `EnvelopeRefusal.reason`.
    var outcome: String
    var task: Chom_Agent_V1_Task?
}

/// The golden cases. Only the generator (`GoldenGeneratorTests`) calls this; the golden tests read
/// the committed files instead, so a change in libzstd's output cannot hide a change in behaviour.
enum GoldenSpecs {
    static func all() throws -> [GoldenSpec] {
        try accepted() + refusedBeforeSignature() + refusedAfterSignature() + refusedWhileDecoding()
    }

    private static func accepted() throws -> [GoldenSpec] {
        var trace = Chom_Agent_V1_TraceContext()
        trace.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        trace.tracestate = "chom=golden"
        let second = Fixtures.deployTask(2)
        let third = Fixtures.deployTask(3)
        let fourth = Fixtures.deployTask(4)
        return [
            GoldenSpec(
                name: "accept_deploy_first", description: "A deploy task, sequence 1, opened at its issue time.",
                envelope: try Fixtures.seal(Fixtures.deployTask(1), sequence: 1), outcome: "accept",
                task: Fixtures.deployTask(1)),
            GoldenSpec(
                name: "accept_deploy_with_trace",
                description: "A deploy task with a trace context, sequence 42, after 41, halfway through its TTL.",
                envelope: try Fixtures.seal(second, sequence: 42, trace: trace),
                nowMs: Fixtures.issuedAtMs + 300_000, replay: ReplayWindow(highest: 41, bitmap: 1),
                outcome: "accept", task: second),
            GoldenSpec(
                name: "accept_out_of_order", description: "Sequence 8 after 9 and 7: inside the window, not seen yet.",
                envelope: try Fixtures.seal(third, sequence: 8), replay: ReplayWindow(highest: 9, bitmap: 0b101),
                outcome: "accept", task: third),
            GoldenSpec(
                name: "accept_frame_without_content_size",
                description: "The payload is a zstd frame of raw blocks that does not record its content size.",
                envelope: try Fixtures.resign(try Fixtures.seal(fourth, sequence: 1)) { _, payload in
                    payload = ZstdFrame.raw(try fourth.serializedBytes(), recordContentSize: false)
                },
                outcome: "accept", task: fourth),
        ]
    }

    private static func refusedBeforeSignature() throws -> [GoldenSpec] {
        let valid = try Fixtures.seal(Fixtures.deployTask(10), sequence: 1)
        var shortSignature = valid
        shortSignature.signature.removeLast()
        var tamperedPayload = valid
        tamperedPayload.payload[tamperedPayload.payload.count - 1] ^= 0x01
        return [
            GoldenSpec(
                name: "oversize_signature_63_bytes", description: "A valid envelope whose signature lost its last byte.",
                envelope: shortSignature, outcome: "oversize"),
            GoldenSpec(
                name: "oversize_header", description: "A signed header of more than 4096 bytes (a huge tracestate).",
                envelope: try Fixtures.resign(valid) { header, _ in
                    header.trace.tracestate = String(repeating: "x", count: 5000)
                },
                outcome: "oversize"),
            GoldenSpec(
                name: "malformed_header", description: "Signed header bytes that are not a protobuf EnvelopeHeader.",
                envelope: try Fixtures.sign(headerBytes: Data("not a protobuf header".utf8), payload: valid.payload),
                outcome: "malformed_header"),
            GoldenSpec(
                name: "unknown_key", description: "Signed correctly by a key the agent does not trust, named in the header.",
                envelope: try Fixtures.seal(Fixtures.deployTask(11), sequence: 1, signer: Fixtures.otherSigner),
                outcome: "unknown_key"),
            GoldenSpec(
                name: "bad_signature_payload_byte", description: "A valid envelope with one payload bit flipped.",
                envelope: tamperedPayload, outcome: "bad_signature"),
            GoldenSpec(
                name: "bad_signature_wrong_key",
                description: "The header names the trusted key but another key signed it.",
                envelope: try Fixtures.resign(valid, signer: Fixtures.otherSigner) { header, _ in
                    header.signingKeyID = Fixtures.signer.keyID
                },
                outcome: "bad_signature"),
        ]
    }

    private static func refusedAfterSignature() throws -> [GoldenSpec] {
        [
            GoldenSpec(
                name: "misaddressed", description: "Sealed for agent 00000000-0000-4000-8000-000000000002.",
                envelope: try Fixtures.seal(Fixtures.deployTask(20), sequence: 1, audience: Fixtures.otherAgent),
                outcome: "misaddressed"),
            GoldenSpec(
                name: "not_yet_valid", description: "Opened 120 s before its issue time (skew allowance 60 s).",
                envelope: try Fixtures.seal(Fixtures.deployTask(21), sequence: 1),
                nowMs: Fixtures.issuedAtMs - 120_000, outcome: "not_yet_valid"),
            GoldenSpec(
                name: "expired", description: "Opened 120 s after its expiry (skew allowance 60 s).",
                envelope: try Fixtures.seal(Fixtures.deployTask(22), sequence: 1),
                nowMs: Fixtures.expiresAtMs + 120_000, outcome: "expired"),
            GoldenSpec(
                name: "replayed", description: "Sequence 7 when the window already holds 9 and 7.",
                envelope: try Fixtures.seal(Fixtures.deployTask(23), sequence: 7),
                replay: ReplayWindow(highest: 9, bitmap: 0b101), outcome: "replayed"),
            GoldenSpec(
                name: "stale", description: "Sequence 3 when the highest accepted is 100: below the 64-wide window.",
                envelope: try Fixtures.seal(Fixtures.deployTask(24), sequence: 3),
                replay: ReplayWindow(highest: 100, bitmap: 1), outcome: "stale"),
        ]
    }

    private static func refusedWhileDecoding() throws -> [GoldenSpec] {
        let task = Fixtures.deployTask(30)
        let taskBytes: Data = try task.serializedBytes()
        let valid = try Fixtures.seal(task, sequence: 1)
        var otherID = Fixtures.deployTask(31)
        otherID.taskID = Fixtures.taskID(99)
        let noKind = {
            var task = Chom_Agent_V1_Task()
            task.taskID = Fixtures.taskID(32)
            return task
        }()
        return [
            GoldenSpec(
                name: "oversize_declared_size", description: "The signed header declares 2^40 uncompressed bytes.",
                envelope: try Fixtures.resign(valid) { header, _ in header.uncompressedSize = 1 << 40 },
                outcome: "oversize"),
            GoldenSpec(
                name: "decompression_declared_smaller",
                description: "The header declares one byte less than the frame holds.",
                envelope: try Fixtures.resign(valid) { header, _ in header.uncompressedSize -= 1 },
                outcome: "decompression"),
            GoldenSpec(
                name: "decompression_declared_larger",
                description: "A frame without a content size that ends one byte before the declared size.",
                envelope: try Fixtures.resign(valid) { header, payload in
                    header.uncompressedSize += 1
                    payload = ZstdFrame.raw(taskBytes, recordContentSize: false)
                },
                outcome: "decompression"),
            GoldenSpec(
                name: "decompression_bomb",
                description: "2 KiB of RLE blocks that inflate to 64 MiB, no content size, declared 4 MiB (the cap).",
                envelope: try Fixtures.resign(valid) { header, payload in
                    header.uncompressedSize = 4 << 20
                    payload = ZstdFrame.rle(byte: 0, count: 64 << 20)
                },
                outcome: "decompression"),
            GoldenSpec(
                name: "decompression_truncated", description: "The valid frame without its last byte, signed.",
                envelope: try Fixtures.resign(valid) { _, payload in payload.removeLast() },
                outcome: "decompression"),
            GoldenSpec(
                name: "undecodable_not_a_task", description: "A valid zstd frame of 16 0xff bytes: not a protobuf Task.",
                envelope: try Fixtures.resign(valid) { header, payload in
                    header.uncompressedSize = 16
                    payload = ZstdFrame.raw(Data(repeating: 0xFF, count: 16))
                },
                outcome: "undecodable"),
            GoldenSpec(
                name: "undecodable_kind_mismatch", description: "The header says TASK_KIND_BACKUP; the task is a deploy.",
                envelope: try Fixtures.resign(valid) { header, _ in header.taskKind = .backup },
                outcome: "undecodable"),
            GoldenSpec(
                name: "undecodable_task_id_mismatch", description: "The task's id differs from the envelope id.",
                envelope: try Fixtures.resign(try Fixtures.seal(otherID, sequence: 1)) { header, _ in
                    header.envelopeID = Fixtures.taskID(31)
                },
                outcome: "undecodable"),
            GoldenSpec(
                name: "undecodable_no_kind", description: "A task with no kind, header TASK_KIND_UNSPECIFIED.",
                envelope: try Fixtures.seal(noKind, sequence: 1), outcome: "undecodable"),
        ]
    }
}
