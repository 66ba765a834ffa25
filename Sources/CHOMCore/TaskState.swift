/// The life of a task in the durable queue: queued → sent → accepted → succeeded | failed.
package enum TaskState: String, Sendable, Codable, CaseIterable {
    case queued
    case sent
    case accepted
    case succeeded
    case failed

    package var isFinal: Bool { self == .succeeded || self == .failed }
}

/// Every task kind is typed; there is no "run this shell" task.
package enum TaskKindName: String, Sendable, Codable, CaseIterable {
    case deploy
    case backup
    case restore
    case remove
    case rollback
    case configure
    case suspend
    case verifyBackup = "verify_backup"
    case pruneBackups = "prune_backups"
    case readSiteLogs = "read_site_logs"
    /// Touches nothing; the agent answers at once (`chom agents ping`).
    case ping
}
