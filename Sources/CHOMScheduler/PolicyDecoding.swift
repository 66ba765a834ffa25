// Settings read from the coordinator's configuration file: every key may be left out and keeps
// its default, so an operator writes only what they change.

extension SchedulerPolicy {
    private enum DecodingKeys: String, CodingKey {
        case algorithm, candidateLimit, tenantAntiAffinityWeight, reserveFraction
    }

    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: DecodingKeys.self)
        algorithm = try c.decodeIfPresent(ScoringAlgorithm.self, forKey: .algorithm) ?? algorithm
        candidateLimit = try c.decodeIfPresent(Int.self, forKey: .candidateLimit) ?? candidateLimit
        tenantAntiAffinityWeight =
            try c.decodeIfPresent(Double.self, forKey: .tenantAntiAffinityWeight) ?? tenantAntiAffinityWeight
        reserveFraction = try c.decodeIfPresent(Double.self, forKey: .reserveFraction) ?? reserveFraction
    }
}

extension RebalancePolicy {
    private enum DecodingKeys: String, CodingKey {
        case utilizationThreshold, maxMoves, hysteresis, dimensions
    }

    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: DecodingKeys.self)
        utilizationThreshold =
            try c.decodeIfPresent(Double.self, forKey: .utilizationThreshold) ?? utilizationThreshold
        maxMoves = try c.decodeIfPresent(Int.self, forKey: .maxMoves) ?? maxMoves
        hysteresis = try c.decodeIfPresent(Double.self, forKey: .hysteresis) ?? hysteresis
        dimensions = try c.decodeIfPresent([ResourceDimension].self, forKey: .dimensions) ?? dimensions
    }
}

extension SiteRequestDefaults {
    private enum DecodingKeys: String, CodingKey {
        case `static`, php, app
    }

    /// Each kind's requests are overridden dimension by dimension (`PartialResources`).
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: DecodingKeys.self)
        func merge(_ key: DecodingKeys, into base: Resources) throws -> Resources {
            guard let partial = try c.decodeIfPresent(PartialResources.self, forKey: key) else { return base }
            var merged = base
            if let cpu = partial.cpuMillis { merged.cpuMillis = cpu }
            if let memory = partial.memoryBytes { merged.memoryBytes = memory }
            if let disk = partial.diskBytes { merged.diskBytes = disk }
            merged.sites = 1
            return merged
        }
        self.static = try merge(.static, into: self.static)
        php = try merge(.php, into: php)
        app = try merge(.app, into: app)
    }
}
