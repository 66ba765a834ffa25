package import CHOMAudit
import CHOMCore
package import Logging
package import PostgresNIO
import Synchronization

/// A database transaction that carries the audit log with it. Every mutating repository
/// method takes one, and `Store.write` refuses to commit a transaction that recorded no
/// entry: a change cannot be written without its audit entry, and both commit or neither.
package final class AuditedTransaction: Sendable {
    package let connection: PostgresConnection
    package let logger: Logger
    private let recorded = Mutex<[StoredAuditEntry]>([])

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Appends `entry` to the hash chain inside this transaction; its sequence is assigned here.
    @discardableResult
    package func record(_ entry: AuditEntry) async throws -> StoredAuditEntry {
        let stored = try await AuditLog.append(entry, on: connection, logger: logger)
        recorded.withLock { $0.append(stored) }
        return stored
    }

    var entries: [StoredAuditEntry] { recorded.withLock { $0 } }
}
