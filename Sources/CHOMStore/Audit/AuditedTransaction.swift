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
    private let recorded = Mutex(0)

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Stages `entry` inside this transaction; it joins the hash chain (gets its sequence) right
    /// after the commit (`AuditLog.chainPending`).
    package func record(_ entry: AuditEntry) async throws {
        try await AuditLog.stage(entry, on: connection, logger: logger)
        recorded.withLock { $0 += 1 }
    }

    /// How many entries this transaction recorded.
    var entries: Int { recorded.withLock { $0 } }
}
