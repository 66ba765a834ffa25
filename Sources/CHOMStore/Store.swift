import CHOMCore
import Foundation
package import Logging
package import PostgresNIO

/// CHOM's PostgreSQL: a client pool plus the repositories over it.
/// Run `client.run()` in a task (or the coordinator's ServiceGroup) for the store's lifetime.
package struct Store: Sendable {
    package let client: PostgresClient
    package let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package var agents: AgentRepository { AgentRepository(client: client, logger: logger) }
    package var joinTokens: JoinTokenRepository { JoinTokenRepository(client: client, logger: logger) }
    package var sites: SiteRepository { SiteRepository(client: client, logger: logger) }
    package var releases: ReleaseRepository { ReleaseRepository(client: client, logger: logger) }
    package var tasks: TaskQueue { TaskQueue(client: client, logger: logger) }

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
