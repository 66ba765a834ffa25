/// What an agent reports about its host in every heartbeat.
package struct HostFacts: Sendable, Codable, Equatable {
    package var hostname: String
    package var cpuCount: Int
    package var memoryTotalBytes: UInt64
    package var memoryAvailableBytes: UInt64
    package var diskTotalBytes: UInt64
    package var diskFreeBytes: UInt64
    package var load1: Double
    package var load5: Double
    package var load15: Double

    package init(
        hostname: String = "", cpuCount: Int = 0, memoryTotalBytes: UInt64 = 0, memoryAvailableBytes: UInt64 = 0,
        diskTotalBytes: UInt64 = 0, diskFreeBytes: UInt64 = 0, load1: Double = 0, load5: Double = 0, load15: Double = 0
    ) {
        self.hostname = hostname
        self.cpuCount = cpuCount
        self.memoryTotalBytes = memoryTotalBytes
        self.memoryAvailableBytes = memoryAvailableBytes
        self.diskTotalBytes = diskTotalBytes
        self.diskFreeBytes = diskFreeBytes
        self.load1 = load1
        self.load5 = load5
        self.load15 = load15
    }
}

/// Site slots an agent offers and uses.
package struct Capacity: Sendable, Codable, Equatable {
    package var maxSites: Int
    package var hostedSites: Int

    package init(maxSites: Int, hostedSites: Int) {
        self.maxSites = maxSites
        self.hostedSites = hostedSites
    }

    package var freeSites: Int { max(0, maxSites - hostedSites) }
}
