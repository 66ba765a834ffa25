import CHOMProtocol
import Foundation
import Testing

@Suite("Replay window")
struct ReplayWindowTests {
    /// A window that has accepted 1…10.
    static func oneToTen() -> ReplayWindow {
        var window = ReplayWindow()
        for sequence: UInt64 in 1...10 { window.accept(sequence) }
        return window
    }

    @Test("a sequence above the highest is fresh", arguments: [11, 12, 74, 75, 1_000_000, UInt64.max] as [UInt64])
    func freshAboveHighest(sequence: UInt64) {
        #expect(Self.oneToTen().check(sequence) == .fresh)
    }

    @Test("an accepted sequence inside the window is replayed", arguments: Array(1...10) as [UInt64])
    func replayedWithinWindow(sequence: UInt64) {
        let window = Self.oneToTen()
        #expect(window.highest == 10)
        #expect(window.bitmap == 0b11_1111_1111)
        #expect(window.check(sequence) == .replayed)
    }

    @Test("a sequence 64 or more below the highest is stale; 63 below is still judged by its bit")
    func staleBelowWindow() {
        var window = ReplayWindow()
        window.accept(100)
        #expect(window.check(36) == .stale)  // offset 64
        #expect(window.check(1) == .stale)
        #expect(window.check(37) == .fresh)  // offset 63, never accepted
        window.accept(37)
        #expect(window.check(37) == .replayed)
        #expect(window.bitmap == UInt64(1) | 1 << 63)
    }

    @Test("an out-of-order sequence inside the window is accepted once")
    func outOfOrderOnce() {
        var window = ReplayWindow()
        window.accept(10)
        #expect(window.check(7) == .fresh)
        window.accept(7)
        #expect(window.highest == 10)
        #expect(window.bitmap == 0b1001)
        #expect(window.check(7) == .replayed)
        #expect(window.check(8) == .fresh)
        #expect(window.check(9) == .fresh)
    }

    @Test("a jump of more than 64 forgets the old bitmap", arguments: [65, 100, 1 << 40] as [UInt64])
    func jumpBeyondWidth(jump: UInt64) {
        var window = Self.oneToTen()
        window.accept(10 + jump)
        #expect(window.highest == 10 + jump)
        #expect(window.bitmap == 1)
        #expect(window.check(10) == .stale)
        #expect(window.check(10 + jump) == .replayed)
        #expect(window.check(10 + jump - 1) == .fresh)
    }

    @Test("a jump of exactly 64 drops the old highest out of the window; 63 keeps it")
    func jumpAtWidth() {
        var sixtyFour = ReplayWindow()
        sixtyFour.accept(1)
        sixtyFour.accept(65)
        #expect(sixtyFour.bitmap == 1)
        #expect(sixtyFour.check(1) == .stale)

        var sixtyThree = ReplayWindow()
        sixtyThree.accept(1)
        sixtyThree.accept(64)
        #expect(sixtyThree.bitmap == UInt64(1) | 1 << 63)
        #expect(sixtyThree.check(1) == .replayed)
    }

    @Test(
        "sequence 0 is stale in any window", arguments: [ReplayWindow(), ReplayWindowTests.oneToTen(), ReplayWindow(highest: 5, bitmap: 0)])
    func sequenceZero(window: ReplayWindow) {
        #expect(window.check(0) == .stale)
    }

    @Test("a fresh window accepts 1 and then refuses it")
    func firstSequence() {
        var window = ReplayWindow()
        #expect(window.check(1) == .fresh)
        window.accept(1)
        #expect(window == ReplayWindow(highest: 1, bitmap: 1))
        #expect(window.check(1) == .replayed)
    }

    @Test("a long shuffled run accepts each sequence exactly once")
    func shuffledRun() {
        var generator = SeededGenerator(seed: 7)
        // Sequences 1…500 delivered in small shuffled batches, each sent twice.
        var deliveries: [UInt64] = []
        for start in stride(from: 1, through: 500, by: 20) {
            let batch = (UInt64(start)...UInt64(start + 19)).shuffled(using: &generator)
            deliveries += (batch + batch).shuffled(using: &generator)
        }
        var window = ReplayWindow()
        var accepted: [UInt64] = []
        for sequence in deliveries where window.check(sequence) == .fresh {
            window.accept(sequence)
            accepted.append(sequence)
        }
        #expect(accepted.sorted() == Array(1...500 as ClosedRange<UInt64>))
        #expect(window.highest == 500)
        #expect(window.bitmap == .max)
    }

    @Test("the window round-trips through Codable, as the agent persists it")
    func codable() throws {
        let window = ReplayWindow(highest: 1_000, bitmap: 0xDEAD_BEEF_0000_0001)
        let decoded = try JSONDecoder().decode(ReplayWindow.self, from: JSONEncoder().encode(window))
        #expect(decoded == window)
        #expect(decoded.check(1_000) == .replayed)
    }
}
