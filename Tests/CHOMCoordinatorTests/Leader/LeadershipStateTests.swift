import CHOMCoordinator
import Foundation
import Testing

@Suite("The leadership state machine")
struct LeadershipStateTests {
    @Test("a follower tries the lock on a tick, and leads with the epoch it records")
    func acquire() {
        var state = LeadershipState()
        #expect(state.tick() == .tryLock)
        #expect(state.phase == .acquiring)
        #expect(state.tick() == .none, "no second try while one is under way")
        #expect(state.lockAcquired(epoch: 7) == .startLeading(epoch: 7))
        #expect(state.epoch == 7)
        #expect(state.tick() == .checkLock(epoch: 7))
    }

    @Test("a busy lock leaves the replica following, and the next tick tries again")
    func busy() {
        var state = LeadershipState()
        _ = state.tick()
        #expect(state.lockBusy() == .none)
        #expect(state.phase == .following)
        #expect(state.epoch == nil)
        #expect(state.tick() == .tryLock)
    }

    @Test("a lost lock stops the loops at once and the replica polls again")
    func lost() {
        var state = LeadershipState()
        _ = state.tick()
        _ = state.lockAcquired(epoch: 3)
        #expect(state.lockLost() == .stopLeading(epoch: 3))
        #expect(state.epoch == nil)
        #expect(state.lockLost() == .none, "losing twice stops nothing twice")
        #expect(state.tick() == .tryLock)
        #expect(state.lockAcquired(epoch: 4) == .startLeading(epoch: 4))
    }

    @Test("a session lost while trying the lock is closed, not led with")
    func lostWhileAcquiring() {
        var state = LeadershipState()
        _ = state.tick()
        #expect(state.lockLost() == .releaseLock)
        #expect(state.phase == .following)
    }

    @Test("shutdown stops leading and releases; nothing starts afterwards")
    func shutdown() {
        var state = LeadershipState()
        _ = state.tick()
        _ = state.lockAcquired(epoch: 9)
        #expect(state.shutdown() == .stopLeading(epoch: 9))
        #expect(state.phase == .stopped)
        #expect(state.tick() == .none)
        #expect(state.lockAcquired(epoch: 10) == .releaseLock, "a lock taken after shutdown is given back")
        #expect(state.epoch == nil)
    }

    @Test("shutdown while trying releases the session; shutdown while following does nothing")
    func shutdownElsewhere() {
        var trying = LeadershipState()
        _ = trying.tick()
        #expect(trying.shutdown() == .releaseLock)
        var following = LeadershipState()
        #expect(following.shutdown() == .none)
    }

    @Test("an unexpected lock report to a follower gives the lock back")
    func unexpectedAcquire() {
        var state = LeadershipState()
        #expect(state.lockAcquired(epoch: 1) == .releaseLock)
        #expect(state.epoch == nil)
    }

    @Test("leader.pollIntervalSeconds is read from the file, 2 s by default, and unknown leader keys are refused")
    func configuration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-leader-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(CoordinatorConfiguration().leader.pollIntervalSeconds == 2)
        let file = directory.appendingPathComponent("c.json")
        try Data(#"{"leader": {"pollIntervalSeconds": 0.5}}"#.utf8).write(to: file)
        #expect(try ConfigurationLoader.load(file: file.path, environment: [:]).leader.pollIntervalSeconds == 0.5)
        try Data(#"{"leader": {"lockKey": 1}}"#.utf8).write(to: file)
        #expect(throws: (any Error).self) { try ConfigurationLoader.load(file: file.path, environment: [:]) }
    }
}
