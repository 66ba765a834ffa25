@testable import CHOMCoordinator
import CHOMCore
import CHOMScheduler
import Testing

@Suite("Fleet view: an agent's usage is what its sites request, or what its heartbeat measured when more")
struct FleetViewUsageTests {
    static func facts(memoryTotal: UInt64, available: UInt64, diskTotal: UInt64, free: UInt64) -> HostFacts {
        var facts = HostFacts()
        facts.memoryTotalBytes = memoryTotal
        facts.memoryAvailableBytes = available
        facts.diskTotalBytes = diskTotal
        facts.diskFreeBytes = free
        return facts
    }

    @Test("measured memory and disk above the requests count; CPU and site slots stay the requests")
    func liveAboveRequests() {
        let requested = Resources(cpuMillis: 500, memoryBytes: 1 << 30, diskBytes: 10 << 30, sites: 3)
        let used = FleetView.withLiveUsage(
            requested, facts: Self.facts(memoryTotal: 8 << 30, available: 4 << 30, diskTotal: 100 << 30, free: 60 << 30))
        #expect(used == Resources(cpuMillis: 500, memoryBytes: 4 << 30, diskBytes: 40 << 30, sites: 3))
    }

    @Test("requests above what is measured stand; a heartbeat that says nothing or nonsense changes nothing")
    func requestsAboveLive() {
        let requested = Resources(cpuMillis: 500, memoryBytes: 6 << 30, diskBytes: 50 << 30, sites: 3)
        #expect(FleetView.withLiveUsage(
            requested, facts: Self.facts(memoryTotal: 8 << 30, available: 4 << 30, diskTotal: 100 << 30, free: 60 << 30))
            == requested)
        #expect(FleetView.withLiveUsage(requested, facts: HostFacts()) == requested)
        #expect(FleetView.withLiveUsage(
            requested, facts: Self.facts(memoryTotal: 1 << 30, available: 2 << 30, diskTotal: 1 << 30, free: 2 << 30))
            == requested)
    }
}
