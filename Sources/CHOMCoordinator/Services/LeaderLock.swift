import CHOMStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The leader's session advisory lock, on a PostgreSQL connection of its own rather than one of
/// the pool's: the lock lives exactly as long as this connection, so closing it (or PostgreSQL
/// ending the session) releases the lock, and a pooled connection can never carry it off.
final class LeaderLock: Sendable {
    let connection: PostgresConnection
    private let logger: Logger

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens the lock session with the same server, user and database as the pool.
    static func open(_ pool: PostgresClient.Configuration, logger: Logger) async throws -> LeaderLock {
        LeaderLock(connection: try await DedicatedConnection.open(pool, logger: logger), logger: logger)
    }

    /// `pg_try_advisory_lock`: true when this session holds the leader's lock now.
    func tryLock() async throws -> Bool {
        let rows = try await connection.query(
            "SELECT pg_try_advisory_lock(\(LeadershipRepository.lockKey))", logger: logger)
        for try await held in rows.decode(Bool.self) { return held }
        return false
    }

    /// Whether the session still answers within `timeout` and still holds the lock. A session that
    /// does not answer in time is closed (a query cannot be cancelled otherwise), so it is lost.
    func isHeld(within timeout: Duration) async -> Bool {
        let key = LeadershipRepository.lockKey
        return await withTaskGroup(of: Bool?.self) { group in
            group.addTask { [connection, logger] in
                do {
                    // A bigint advisory key shows in pg_locks as classid (high half) and objid (low half).
                    let rows = try await connection.query("""
                        SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                            AND granted AND classid::bigint = \(key >> 32) AND objid::bigint = \(key & 0xFFFF_FFFF)
                        """, logger: logger)
                    for try await held in rows.decode(Bool.self) { return held }
                    return false
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { await close() }
            group.cancelAll()
            return first ?? false
        }
    }

    /// Returns when the connection has closed, whoever closed it.
    func closed() async {
        try? await connection.closeFuture.get()
    }

    /// Closes the session, which releases the lock on the server.
    func close() async {
        try? await connection.close()
    }
}

/// A PostgreSQL connection of its own (not one of the pool's), to the pool's server, user and
/// database: for the leader's lock session and for LISTEN, whose state lives with the session.
enum DedicatedConnection {
    static func open(_ pool: PostgresClient.Configuration, logger: Logger) async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if let socket = pool.unixSocketPath {
            configuration = .init(
                unixSocketPath: socket, username: pool.username, password: pool.password, database: pool.database)
        } else {
            // The coordinator's URLs never ask for TLS (`Store.configuration(databaseURL:)`).
            configuration = .init(
                host: pool.host ?? "127.0.0.1", port: pool.port ?? 5432, username: pool.username,
                password: pool.password, database: pool.database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(5)
        // The future-returning `connect`, not the async one: cancelled in the middle of its
        // handshake, the async one closes the channel and its future can then never complete
        // (postgres-nio's `ConnectCancelHandler`), so a coordinator stopped while its leader
        // connected hung forever. This one ends when connected, or failed by the connect timeout.
        let connection = try await PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 0, logger: logger
        ).get()
        if Task.isCancelled {
            try? await connection.close()
            throw CancellationError()
        }
        return connection
    }
}
