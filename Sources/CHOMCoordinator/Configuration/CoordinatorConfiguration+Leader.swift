extension CoordinatorConfiguration {
    /// The fleet leader (one replica, holding a PostgreSQL advisory lock): how often a replica that
    /// does not lead tries the lock, and how often the leader checks that its lock session is alive.
    /// A leader stopped gracefully is replaced within one poll interval.
    package struct Leader: Sendable, Codable, Equatable {
        package var pollIntervalSeconds = 2.0
        package init() {}
    }
}

extension CoordinatorConfiguration.Leader {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pollIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .pollIntervalSeconds) ?? pollIntervalSeconds
    }
}
