extension CoordinatorConfiguration {
    /// The fleet leader (one replica, holding a PostgreSQL advisory lock): how often a replica that
    /// does not lead tries the lock, and how often the leader checks that its lock session is alive.
    /// A leader stopped gracefully is replaced within one poll interval.
    package struct Leader: Sendable, Codable, Equatable {
        package var pollIntervalSeconds = 2.0
        /// PostgreSQL ends a pooled connection of this replica that sits this long inside a
        /// transaction without sending a statement (`idle_in_transaction_session_timeout`): a
        /// replica cut off from the database in the middle of a transaction would otherwise keep
        /// its row locks (the leadership row, which a new leader must update) and the audit
        /// chain's lock until TCP gives up, and no other replica could lead or audit meanwhile.
        package var idleTransactionTimeoutSeconds = 30.0
        package init() {}
    }
}

extension CoordinatorConfiguration.Leader {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pollIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .pollIntervalSeconds) ?? pollIntervalSeconds
        idleTransactionTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .idleTransactionTimeoutSeconds) ?? idleTransactionTimeoutSeconds
    }
}
