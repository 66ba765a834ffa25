import CHOMCore
import CHOMProtocol

extension HostFacts {
    init(_ facts: Chom_Agent_V1_HostFacts) {
        self.init(
            hostname: String(facts.hostname.prefix(253)), cpuCount: Int(facts.cpuCount),
            memoryTotalBytes: facts.memoryTotalBytes, memoryAvailableBytes: facts.memoryAvailableBytes,
            diskTotalBytes: facts.diskTotalBytes, diskFreeBytes: facts.diskFreeBytes, load1: facts.load1,
            load5: facts.load5, load15: facts.load15)
    }
}
