import CHOMCore
import CHOMProtocol
import Foundation
import SwiftProtobuf
import Testing

/// Deterministic random mutations: the same seed gives the same 2,000 inputs on every run.
@Suite("Envelope robustness")
struct EnvelopeFuzzTests {
    static let iterations = 2_000

    enum Mutation: CaseIterable {
        case flipBits, truncate, extend, overwriteByte, insertBytes, deleteRange
    }

    static func mutate(_ bytes: Data, using generator: inout SeededGenerator) -> Data {
        var bytes = [UInt8](bytes)
        switch Mutation.allCases[Int.random(in: 0..<Mutation.allCases.count, using: &generator)] {
        case .flipBits:
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 1 << UInt8.random(in: 0...7, using: &generator)
            }
        case .truncate:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
        case .extend:
            bytes += (0..<Int.random(in: 1...32, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case .overwriteByte where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        case .insertBytes:
            let insert = (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.insert(contentsOf: insert, at: Int.random(in: 0...bytes.count, using: &generator))
        case .deleteRange where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &generator)
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &generator)))
        case .overwriteByte, .deleteRange:
            bytes.append(0)
        }
        return Data(bytes)
    }

    @Test("2,000 mutations of a valid envelope's bytes never crash and never open to anything but the original")
    func mutatedWireBytes() throws {
        let task = Fixtures.deployTask(80)
        let original = try Fixtures.seal(task, sequence: 1)
        let originalBytes: Data = try original.serializedBytes()
        var generator = SeededGenerator(seed: 0xC0FFEE)
        var reasons: [String: Int] = [:]
        var unparsable = 0
        for _ in 0..<Self.iterations {
            let mutated = Self.mutate(originalBytes, using: &generator)
            guard mutated != originalBytes else { continue }
            guard let envelope = try? Chom_Agent_V1_Envelope(serializedBytes: mutated) else {
                unparsable += 1
                continue
            }
            var replay = ReplayWindow()
            let result = Fixtures.open(envelope, replay: &replay)
            reasons[result.reason, default: 0] += 1
            if case .success(let opened) = result {
                // Only a re-encoding of the same fields (e.g. an appended unknown field) may open.
                #expect(opened.task == task)
                #expect(envelope.header == original.header)
                #expect(envelope.payload == original.payload)
                #expect(envelope.signature == original.signature)
            } else {
                #expect(replay == ReplayWindow())
            }
        }
        #expect(unparsable + reasons.values.reduce(0, +) > Self.iterations * 9 / 10)
        #expect(reasons["bad_signature", default: 0] > 0)
        #expect(reasons["oversize", default: 0] > 0)
    }

    @Test("2,000 mutated headers and payloads, correctly signed, never crash and open only consistent tasks")
    func mutatedSignedContent() throws {
        let original = try Fixtures.seal(Fixtures.deployTask(81), sequence: 1)
        var generator = SeededGenerator(seed: 0xBADC0DE)
        var reasons: [String: Int] = [:]
        for iteration in 0..<Self.iterations {
            let mutateHeader = iteration.isMultiple(of: 2)
            let header = mutateHeader ? Self.mutate(original.header, using: &generator) : original.header
            let payload = mutateHeader ? original.payload : Self.mutate(original.payload, using: &generator)
            let envelope = try Fixtures.sign(headerBytes: header, payload: payload)
            var replay = ReplayWindow()
            let result = Fixtures.open(envelope, replay: &replay)
            reasons[result.reason, default: 0] += 1
            switch result {
            case .success(let opened):
                #expect(opened.task.taskID == opened.header.envelopeID)
                #expect(opened.task.protoKind == opened.header.taskKind)
                #expect(opened.header.audienceAgentID == Fixtures.agent.description)
                #expect(replay.check(opened.header.sequence) == .replayed)
            case .failure(let refusal):
                #expect(refusal != .badSignature, "every mutant here is signed correctly")
                #expect(replay == ReplayWindow())
            }
        }
        #expect(reasons.values.reduce(0, +) == Self.iterations)
        #expect(reasons["decompression", default: 0] > 0)
        #expect(reasons["malformed_header", default: 0] > 0)
    }

    @Test("random bytes as header, payload and signature are refused without a crash", arguments: 0..<4)
    func randomEnvelopes(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        for _ in 0..<250 {
            var envelope = Chom_Agent_V1_Envelope()
            let random = { (count: Int, generator: inout SeededGenerator) -> Data in
                Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
            envelope.header = random(Int.random(in: 0...300, using: &generator), &generator)
            envelope.payload = random(Int.random(in: 0...300, using: &generator), &generator)
            envelope.signature = random(Bool.random(using: &generator) ? 64 : Int.random(in: 0...80, using: &generator), &generator)
            #expect(Fixtures.outcome(envelope) != "accept")
        }
    }
}
