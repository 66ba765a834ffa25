/// The four dimensions an agent offers and a site requests.
package enum ResourceDimension: String, Sendable, Hashable, CaseIterable, Codable {
    case cpu, memory, disk, sites
}

/// An amount on every dimension: an agent's capacity, what its sites use, or what one site
/// requests. CPU is in thousandths of a core (a 4-core VPS offers 4,000), memory and disk in
/// bytes, sites in site slots (one site requests 1).
package struct Resources: Sendable, Hashable, Codable {
    package var cpuMillis: Int64
    package var memoryBytes: Int64
    package var diskBytes: Int64
    package var sites: Int64

    package init(cpuMillis: Int64 = 0, memoryBytes: Int64 = 0, diskBytes: Int64 = 0, sites: Int64 = 0) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
        self.sites = sites
    }

    package static let zero = Resources()

    package subscript(dimension: ResourceDimension) -> Int64 {
        get {
            switch dimension {
            case .cpu: cpuMillis
            case .memory: memoryBytes
            case .disk: diskBytes
            case .sites: sites
            }
        }
        set {
            switch dimension {
            case .cpu: cpuMillis = newValue
            case .memory: memoryBytes = newValue
            case .disk: diskBytes = newValue
            case .sites: sites = newValue
            }
        }
    }

    package static func + (lhs: Resources, rhs: Resources) -> Resources {
        Resources(
            cpuMillis: lhs.cpuMillis + rhs.cpuMillis, memoryBytes: lhs.memoryBytes + rhs.memoryBytes,
            diskBytes: lhs.diskBytes + rhs.diskBytes, sites: lhs.sites + rhs.sites)
    }

    package static func - (lhs: Resources, rhs: Resources) -> Resources {
        Resources(
            cpuMillis: lhs.cpuMillis - rhs.cpuMillis, memoryBytes: lhs.memoryBytes - rhs.memoryBytes,
            diskBytes: lhs.diskBytes - rhs.diskBytes, sites: lhs.sites - rhs.sites)
    }

    package static func += (lhs: inout Resources, rhs: Resources) { lhs = lhs + rhs }
    package static func -= (lhs: inout Resources, rhs: Resources) { lhs = lhs - rhs }

    /// True when every dimension is at most the same dimension of `capacity`.
    package func fits(in capacity: Resources) -> Bool {
        cpuMillis <= capacity.cpuMillis && memoryBytes <= capacity.memoryBytes && diskBytes <= capacity.diskBytes
            && sites <= capacity.sites
    }

    /// `self` as usage: the fraction of `capacity` it takes on one dimension. A dimension the
    /// agent does not offer (capacity 0) counts as empty when nothing uses it and full otherwise.
    package func utilization(_ dimension: ResourceDimension, of capacity: Resources) -> Double {
        let total = capacity[dimension]
        guard total > 0 else { return self[dimension] > 0 ? 1 : 0 }
        return Double(self[dimension]) / Double(total)
    }

    /// The most utilized of `dimensions`, the figure the rebalance planner compares to its
    /// threshold (a VPS whose disk is full is full, however idle its CPU). Ties go to the first
    /// dimension in `dimensions`.
    package func peakUtilization(
        of capacity: Resources, over dimensions: [ResourceDimension] = ResourceDimension.allCases
    ) -> (dimension: ResourceDimension, value: Double) {
        var peak: (dimension: ResourceDimension, value: Double) = (dimensions.first ?? .cpu, 0)
        for dimension in dimensions {
            let value = utilization(dimension, of: capacity)
            if value > peak.value { peak = (dimension, value) }
        }
        return peak
    }
}

/// A per-site override of its kind's default requests: the dimensions given replace the
/// default, the others keep it.
package struct PartialResources: Sendable, Hashable, Codable {
    package var cpuMillis: Int64?
    package var memoryBytes: Int64?
    package var diskBytes: Int64?

    package init(cpuMillis: Int64? = nil, memoryBytes: Int64? = nil, diskBytes: Int64? = nil) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.diskBytes = diskBytes
    }
}
