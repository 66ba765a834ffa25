import CHOMCore
package import Foundation
package import Logging
package import PostgresNIO

/// CHOM's PostgreSQL: a client pool plus the repositories over it.
/// Run `client.run()` in a task (or the coordinator's ServiceGroup) for the store's lifetime.
package struct Store: Sendable {
    package let client: PostgresClient
    package let logger: Logger
    package let auditSettings: AuditSettings

    package init(client: PostgresClient, logger: Logger, audit: AuditSettings = AuditSettings()) {
        self.client = client
        self.logger = logger
        self.auditSettings = audit
    }

    /// Runs `body` in one transaction that must record at least one audit entry; the entries
    /// and the change commit together or not at all. Right after the commit the entries join the
    /// hash chain (`chainAudit`), and a checkpoint due by count is signed with them.
    @discardableResult
    package func write<Result: Sendable>(
        now: Date, _ body: (AuditedTransaction) async throws -> Result
    ) async throws -> Result {
        let result = try await client.transaction(logger: logger) { connection in
            let transaction = AuditedTransaction(connection: connection, logger: logger)
            let result = try await body(transaction)
            guard transaction.entries > 0 else {
                throw CHOMError(.internal, "a write must record an audit entry")
            }
            return result
        }
        await chainAudit(now: now)
        return result
    }

    /// Chains the audit entries staged by a committed write. The change is committed whatever
    /// happens here: a failure is logged and the entries stay staged, durable, for the next write,
    /// the next reader or the leader's housekeeping to chain.
    /// Concurrent writers share runs (`AuditChainGate`): each returns once a run that started after
    /// its commit has finished, or after the gate's patience if that run is stuck.
    package func chainAudit(now: Date) async {
        await auditSettings.gate.chain {
            do {
                try await AuditLog.chainPending(client: client, settings: auditSettings, now: now, logger: logger)
                return true
            } catch {
                logger.warning(
                    "committed audit entries could not be chained yet; they stay staged and the next write chains them",
                    metadata: [LogKey.error: "\(String(reflecting: error))"])
                return false
            }
        }
    }

    package var audit: AuditLog { AuditLog(client: client, logger: logger, settings: auditSettings) }
    package var users: UserRepository { UserRepository(client: client, logger: logger) }
    package var organizations: OrganizationRepository { OrganizationRepository(client: client, logger: logger) }
    package var memberships: MembershipRepository { MembershipRepository(client: client, logger: logger) }
    package var tokens: TokenRepository { TokenRepository(client: client, logger: logger) }
    package var twoFactor: TwoFactorRepository { TwoFactorRepository(client: client, logger: logger) }

    /// Sites, releases and tasks, seen through a tenant scope: the only way to reach them.
    package func sites(in scope: TenantScope) -> ScopedSiteRepository {
        ScopedSiteRepository(client: client, logger: logger, scope: scope)
    }

    /// Backups, schedules and tenant backup keys, seen through a tenant scope.
    package func backups(in scope: TenantScope) -> ScopedBackupRepository {
        ScopedBackupRepository(client: client, logger: logger, scope: scope)
    }

    package var sealedSecrets: SealedSecretRepository { SealedSecretRepository(client: client, logger: logger) }
    package var backupSchedules: BackupScheduleRepository { BackupScheduleRepository(client: client, logger: logger) }
    package var agents: AgentRepository { AgentRepository(client: client, logger: logger) }
    package var alertGauges: AlertGaugeQueries { AlertGaugeQueries(client: client, logger: logger) }
    package var alerts: AlertRepository { AlertRepository(client: client, logger: logger) }
    package var fleet: FleetRepository { FleetRepository(client: client, logger: logger) }
    package var migrations: SiteMigrationRepository { SiteMigrationRepository(client: client, logger: logger) }
    package var joinTokens: JoinTokenRepository {
        JoinTokenRepository(client: client, logger: logger, auditSettings: auditSettings)
    }
    package var releases: ReleaseRepository { ReleaseRepository(client: client, logger: logger) }
    package var billing: BillingRepository { BillingRepository(client: client, logger: logger) }
    package var invoices: InvoiceRepository { InvoiceRepository(client: client, logger: logger) }
    package var notifications: NotificationRepository { NotificationRepository(client: client, logger: logger) }
    package var notificationChannels: NotificationChannelRepository {
        NotificationChannelRepository(client: client, logger: logger)
    }
    package var stripe: StripeLedgerRepository { StripeLedgerRepository(client: client, logger: logger) }
    package var tasks: TaskQueue { TaskQueue(client: client, logger: logger, auditSettings: auditSettings) }

    /// Parses `postgres://user[:password]@host[:port]/database` into a client configuration.
    package static func configuration(databaseURL: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: databaseURL),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let user = components.user
        else {
            throw CHOMError(.configuration, "database URL must look like postgres://user[:password]@host[:port]/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if let host = components.host, !host.isEmpty {
            return PostgresClient.Configuration(
                host: host, port: components.port ?? 5432, username: user, password: components.password,
                database: database.isEmpty ? nil : database, tls: .disable)
        }
        let socket = components.queryItems?.first { $0.name == "host" }?.value ?? "/var/run/postgresql"
        return PostgresClient.Configuration(
            unixSocketPath: "\(socket)/.s.PGSQL.\(components.port ?? 5432)", username: user,
            password: components.password, database: database.isEmpty ? nil : database)
    }
}

extension PostgresRandomAccessRow {
    /// Decodes a column or throws a CHOM error naming it.
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try self[column].decode(T.self)
        } catch {
            throw CHOMError(.internal, "cannot decode column \(column)", underlying: error)
        }
    }
}

extension PostgresClient {
    /// `withTransaction`, but an error thrown by `body` reaches the caller as itself
    /// (a `CHOMError` stays a `CHOMError`), not wrapped in PostgresTransactionError.
    func transaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }
}
