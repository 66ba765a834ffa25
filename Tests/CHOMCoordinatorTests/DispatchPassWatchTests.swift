@testable import CHOMCoordinator
import Testing

@Suite("A stream's dispatch pass that never ends is seen, so its agent is moved to a fresh stream")
struct DispatchPassWatchTests {
    @Test("stuck only while a pass is in progress and has lasted the limit; the wait between passes never counts")
    func stuck() {
        let watch = DispatchPassWatch()
        let start = ContinuousClock.now
        #expect(!watch.isStuck(after: .seconds(30), now: start + .seconds(3600)), "between passes: idle, not stuck")
        watch.begin(at: start)
        #expect(!watch.isStuck(after: .seconds(30), now: start + .seconds(29)))
        #expect(watch.isStuck(after: .seconds(30), now: start + .seconds(30)))
        watch.end()
        #expect(!watch.isStuck(after: .seconds(30), now: start + .seconds(3600)), "the pass ended")
        watch.begin(at: start + .seconds(100))
        #expect(!watch.isStuck(after: .seconds(30), now: start + .seconds(101)), "a new pass times from its own start")
    }
}
