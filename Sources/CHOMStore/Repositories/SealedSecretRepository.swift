import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// The sealed secrets of sites, tenants and notification channels (TLS private keys, backup keys,
/// webhook signing secrets), fleet-wide, for
/// `rotate-secrets-key`: list them, and replace one if it is still the value that was read.
package struct SealedSecretRepository: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case tlsKey = "tls_key"
        case backupKey = "backup_key"
        case webhookSecret = "webhook_secret"

        var table: String {
            switch self {
            case .tlsKey: "sites"
            case .backupKey: "tenant_backup_keys"
            case .webhookSecret: "notification_channels"
            }
        }
        var idColumn: String { self == .backupKey ? "tenant_id" : "id" }
        var column: String {
            switch self {
            case .tlsKey: "tls_key_sealed"
            case .backupKey: "sealed_key"
            case .webhookSecret: "secret_sealed"
            }
        }
        /// What the owner id names in an audit target.
        package var ownerNoun: String {
            switch self {
            case .tlsKey: "site"
            case .backupKey: "tenant"
            case .webhookSecret: "notification-channel"
            }
        }
    }

    let client: PostgresClient
    let logger: Logger

    /// (owner id, sealed text) of every secret of `kind`.
    package func all(_ kind: Kind) async throws -> [(UUID, String)] {
        let rows = try await client.query(
            "SELECT \(unescaped: kind.idColumn), \(unescaped: kind.column) FROM \(unescaped: kind.table) WHERE \(unescaped: kind.column) IS NOT NULL",
            logger: logger)
        var result: [(UUID, String)] = []
        for try await (id, sealed) in rows.decode((UUID, String).self) { result.append((id, sealed)) }
        return result
    }

    package func reseal(_ kind: Kind, owner: UUID, from old: String, to new: String, in transaction: AuditedTransaction)
        async throws -> Bool
    {
        let rows = try await transaction.connection.query("""
            UPDATE \(unescaped: kind.table) SET \(unescaped: kind.column) = \(new)
            WHERE \(unescaped: kind.idColumn) = \(owner) AND \(unescaped: kind.column) = \(old)
            RETURNING \(unescaped: kind.idColumn)
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
