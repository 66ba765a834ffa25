import CHOMAgent
import Foundation
import Testing

/// The site lease as a value: every state (no lease, held, run out; fenced or not on disk) × every
/// event (an answer with a lease, an answer with none, time passing, the fence carried out, a restart).
@Suite("Site lease")
struct SiteLeaseTests {
    let start = ContinuousClock.now
    let wall = Date(timeIntervalSince1970: 1_800_000_000)

    func fresh(fenced: Bool = false) -> SiteLease {
        SiteLease(record: nil, fenced: fenced, now: start, wallNow: wall)
    }

    @Test("a new agent with no lease never fences, whatever time passes")
    func noLease() {
        let lease = fresh()
        #expect(lease.term == .unlimited)
        #expect(lease.due(at: start) == nil)
        #expect(lease.due(at: start + .seconds(86_400)) == nil)
        #expect(lease.remaining(at: start) == nil)
    }

    @Test("an answer holds the lease for its seconds; past them the sites are fenced, at the instant and not before")
    func expiry() {
        var lease = fresh()
        lease.answered(leaseSeconds: 10, at: start)
        #expect(lease.due(at: start + .seconds(9)) == nil)
        #expect(lease.remaining(at: start + .seconds(4)) == 6)
        #expect(lease.due(at: start + .milliseconds(9_999)) == nil)
        #expect(lease.due(at: start + .seconds(10)) == .fence)
        #expect(lease.remaining(at: start + .seconds(12)) == -2)
    }

    @Test("every answer renews from its own arrival")
    func renewal() {
        var lease = fresh()
        lease.answered(leaseSeconds: 10, at: start)
        lease.answered(leaseSeconds: 10, at: start + .seconds(8))
        #expect(lease.due(at: start + .seconds(17)) == nil)
        #expect(lease.due(at: start + .seconds(18)) == .fence)
    }

    @Test("a fence not yet carried out stays due; once carried out nothing more is due until an answer")
    func levelTriggered() {
        var lease = fresh()
        lease.answered(leaseSeconds: 1, at: start)
        let later = start + .seconds(5)
        #expect(lease.due(at: later) == .fence)
        #expect(lease.due(at: later + .seconds(1)) == .fence)  // the I/O failed: still due
        lease.carriedOut(.fence)
        #expect(lease.fenced)
        #expect(lease.due(at: later + .seconds(60)) == nil)
        lease.answered(leaseSeconds: 1, at: later + .seconds(61))
        #expect(lease.due(at: later + .seconds(61)) == .unfence)
        lease.carriedOut(.unfence)
        #expect(!lease.fenced)
        #expect(lease.due(at: later + .milliseconds(61_500)) == nil)
    }

    @Test("an answer of 0 (failover off) lifts a fence and leaves no lease")
    func zeroLifts() {
        var lease = fresh()
        lease.answered(leaseSeconds: 1, at: start)
        lease.carriedOut(.fence)
        lease.answered(leaseSeconds: 0, at: start + .seconds(3))
        #expect(lease.term == .unlimited)
        #expect(lease.due(at: start + .seconds(3)) == .unfence)
        lease.carriedOut(.unfence)
        #expect(lease.due(at: start + .seconds(86_400)) == nil)
    }

    @Test("a restart keeps what is left of the lease by the wall clock")
    func restartWithinLease() {
        let record = LeaseRecord(leaseSeconds: 40, renewedAt: wall.addingTimeInterval(-30))
        let lease = SiteLease(record: record, fenced: false, now: start, wallNow: wall)
        #expect(lease.due(at: start + .seconds(9)) == nil)
        #expect(lease.due(at: start + .seconds(10)) == .fence)
    }

    @Test("a lease that ran out while the agent was down fences at once")
    func restartAfterLease() {
        let record = LeaseRecord(leaseSeconds: 40, renewedAt: wall.addingTimeInterval(-3600))
        let lease = SiteLease(record: record, fenced: false, now: start, wallNow: wall)
        #expect(lease.due(at: start) == .fence)
    }

    @Test("a wall clock that went back (behind the record) counts the lease as run out")
    func clockWentBack() {
        let record = LeaseRecord(leaseSeconds: 40, renewedAt: wall.addingTimeInterval(3600))
        let lease = SiteLease(record: record, fenced: false, now: start, wallNow: wall)
        #expect(lease.due(at: start) == .fence)
    }

    @Test("a fence left on disk holds at a restart until an answer, with or without a record")
    func fenceOnDiskHolds() {
        let noRecord = SiteLease(record: nil, fenced: true, now: start, wallNow: wall)
        #expect(noRecord.fenced)
        #expect(noRecord.due(at: start + .seconds(3600)) == nil)
        var expired = SiteLease(
            record: LeaseRecord(leaseSeconds: 5, renewedAt: wall.addingTimeInterval(-60)), fenced: true, now: start,
            wallNow: wall)
        #expect(expired.due(at: start) == nil)
        expired.answered(leaseSeconds: 5, at: start + .seconds(1))
        #expect(expired.due(at: start + .seconds(1)) == .unfence)
    }

    @Test("a fence on disk holds even when the record says the lease has time left or there is none; an answer of 0 lifts it")
    func fenceOnDiskBeatsRecord() {
        for seconds in [0, 40] {
            var lease = SiteLease(
                record: LeaseRecord(leaseSeconds: seconds, renewedAt: wall), fenced: true, now: start, wallNow: wall)
            #expect(lease.due(at: start) == nil, "\(seconds)")
            #expect(lease.due(at: start + .seconds(3600)) == nil, "\(seconds)")
            lease.answered(leaseSeconds: 0, at: start + .seconds(1))
            #expect(lease.due(at: start + .seconds(1)) == .unfence)
        }
    }
}
