import CHOMAPI
import CHOMCore
import CHOMScheduler

/// What an operator may set as a site's own resource requests: positive amounts, within what one
/// VPS could plausibly offer (1,024 cores, 16 TiB of memory, 1 PiB of disk), so that a typo is
/// refused rather than making the site unplaceable everywhere.
enum SiteRequestsPolicy {
    static let maximum = Resources(cpuMillis: 1_024_000, memoryBytes: 16 << 40, diskBytes: 1 << 50, sites: 1)

    /// The override to store; nil when every field is absent (the kind's defaults apply again).
    static func override(_ body: SiteRequestsRequest) throws -> PartialResources? {
        for (name, value, dimension) in [
            ("cpuMillis", body.cpuMillis, ResourceDimension.cpu), ("memoryBytes", body.memoryBytes, .memory),
            ("diskBytes", body.diskBytes, .disk),
        ] {
            guard let value else { continue }
            guard value > 0, value <= maximum[dimension] else {
                throw CHOMError(.invalidInput, "\(name) must be between 1 and \(maximum[dimension]), got \(value)")
            }
        }
        guard body.cpuMillis != nil || body.memoryBytes != nil || body.diskBytes != nil else { return nil }
        return PartialResources(cpuMillis: body.cpuMillis, memoryBytes: body.memoryBytes, diskBytes: body.diskBytes)
    }

    static func auditDetails(_ override: PartialResources?) -> [String: String] {
        guard let override else { return ["requests": "defaults"] }
        var details: [String: String] = [:]
        if let cpu = override.cpuMillis { details["cpuMillis"] = "\(cpu)" }
        if let memory = override.memoryBytes { details["memoryBytes"] = "\(memory)" }
        if let disk = override.diskBytes { details["diskBytes"] = "\(disk)" }
        return details
    }
}
