import CHOMCore
import CHOMStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The leader's session advisory lock, on a PostgreSQL connection of its own rather than one of
/// the pool's: the lock lives exactly as long as this connection, so closing it (or PostgreSQL
/// ending the session) releases the lock, and a pooled connection can never carry it off.
final class LeaderLock: Sendable {
    let connection: PostgresConnection
    private let logger: Logger
    private let closing = Mutex(false)

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens the lock session with the same server, user and database as the pool. PostgreSQL
    /// ends it (releasing the lock) once it has been idle for `idleTimeout`: a leader cut off from
    /// the database cannot close it, and PostgreSQL would otherwise keep a silent client's session,
    /// and the lock, until TCP gave up (hours with the default keepalive). The replica asks every
    /// poll interval, so a session that answers is never idle that long
    /// (`LeaderService.idleTimeout`).
    static func open(_ pool: PostgresClient.Configuration, idleTimeout: Duration, logger: Logger) async throws -> LeaderLock {
        let connection = try await DedicatedConnection.open(pool, logger: logger)
        let lock = LeaderLock(connection: connection, logger: logger)
        let milliseconds = max(1, idleTimeout.components.seconds * 1000 + idleTimeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            // An integer, not a parameter: SET takes none.
            _ = try await lock.query("SET idle_session_timeout = \(milliseconds)", within: answerTimeout)
        } catch is BoundedWaitError {
            await lock.close()
            throw CHOMError(.unavailable, "the leader's lock session did not answer within \(answerTimeout)")
        } catch {
            // PostgreSQL before 14: the lock then outlives a partitioned leader until TCP gives up.
            logger.warning(
                "idle_session_timeout cannot be set on the leader's lock session (PostgreSQL 14 or later has it)",
                metadata: [LogKey.error: "\(String(reflecting: error))"])
        }
        return lock
    }

    /// How long a query or a close on the lock session may take before the session counts as lost.
    static let answerTimeout: Duration = .seconds(5)

    /// `pg_try_advisory_lock`: true when this session holds the leader's lock now.
    func tryLock() async throws -> Bool {
        let rows = try await query("SELECT pg_try_advisory_lock(\(LeadershipRepository.lockKey))", within: Self.answerTimeout)
        return try rows.first?.decode(Bool.self) ?? false
    }

    /// Records a new leadership epoch on this session, which holds the lock: one more than the last.
    /// On this session rather than through the pool: the upsert waits for leader writes in flight
    /// (they share-lock the row; one of a replica cut off mid-transaction until PostgreSQL ends it,
    /// `leader.idleTransactionTimeoutSeconds`), and a session waiting on a lock is not idle, so
    /// `idle_session_timeout` cannot end it meanwhile. Not answered within `timeout`, it is closed.
    func acquire(holder: String, now: Date, within timeout: Duration) async throws -> Int64 {
        do {
            let rows = try await query(LeadershipRepository.acquireQuery(holder: holder, now: now), within: timeout)
            guard let epoch = try rows.first?.decode(Int64.self) else { throw LeadershipError.noLeadership(held: 0) }
            return epoch
        } catch let error as BoundedWaitError {
            await close()
            throw error
        }
    }

    /// What one check of the lock session found.
    enum Check: Sendable, Equatable {
        /// The session holds the lock and the fleet's epoch is still this leader's.
        case held
        /// The session did not answer in time (it is closed), failed, or no longer holds the lock.
        case lost(String)
        /// Another replica's epoch superseded this one.
        case superseded(LeadershipError)
    }

    /// One query on this session, answered within `timeout`: does it still hold the lock, and is
    /// `epoch` still the fleet's? A plain read: it never waits for a leader write's row lock, so a
    /// busy leader is not taken for a lost one. Through this session rather than the pool, so a
    /// replica cut off from the database learns it within `timeout` even when every pooled
    /// connection hangs. A session that does not answer in time is closed, so it is lost.
    func check(epoch: Int64, within timeout: Duration) async -> Check {
        let key = LeadershipRepository.lockKey
        do {
            // A bigint advisory key shows in pg_locks as classid (high half) and objid (low half).
            let rows = try await query("""
                SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                        AND granted AND classid::bigint = \(key >> 32) AND objid::bigint = \(key & 0xFFFF_FFFF)),
                    (SELECT epoch FROM fleet_leadership WHERE id = 1)
                """, within: timeout)
            guard let row = rows.first else { return .lost("the lock session answered nothing") }
            let (held, current) = try row.decode((Bool, Int64?).self)
            guard held else { return .lost("the lock session no longer holds the lock") }
            guard let current else { return .superseded(.noLeadership(held: epoch)) }
            guard current == epoch else { return .superseded(.staleEpoch(held: epoch, current: current)) }
            return .held
        } catch is BoundedWaitError {
            await close()
            return .lost("the lock session did not answer within \(timeout)")
        } catch {
            return .lost("the lock session failed: \(String(reflecting: error))")
        }
    }

    /// Returns when the connection has closed, whoever closed it, or when the caller is cancelled.
    func closed() async {
        _ = await BoundedWait.outcome(of: connection.closeFuture, within: nil)
    }

    /// Closes the session, which releases the lock on the server. A close that the driver does not
    /// finish within `closeTimeout` is left to it (the channel close is under way).
    /// Only the first call waits: the lead's end, its watch and the service's shutdown may each
    /// close the session.
    func close() async {
        guard closing.withLock({ started in defer { started = true }; return !started }) else { return }
        await DedicatedConnection.close(connection, logger: logger)
    }

    /// A query through the driver's future API, which `BoundedWait` can stop waiting for.
    private func query(_ sql: String, within timeout: Duration) async throws -> [PostgresRow] {
        try await query(PostgresQuery(unsafeSQL: sql), within: timeout)
    }

    private func query(_ query: PostgresQuery, within timeout: Duration) async throws -> [PostgresRow] {
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        return try await BoundedWait.value(of: future, within: timeout).rows
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
        configuration.options.additionalStartupParameters = pool.options.additionalStartupParameters
        // The future-returning `connect`, not the async one: cancelled in the middle of its
        // handshake, the async one closes the channel and its future can then never complete
        // (postgres-nio's `ConnectCancelHandler`), so a coordinator stopped while its leader
        // connected hung forever. This one ends when connected, or failed by the connect timeout.
        let connection = try await PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 0, logger: logger
        ).get()
        if Task.isCancelled {
            await close(connection, logger: logger)
            throw CancellationError()
        }
        return connection
    }

    /// How long a close waits for the connection to end before it is left to the driver.
    static let closeTimeout: Duration = .seconds(2)

    /// Closes `connection`, waiting at most `closeTimeout` (and not past cancellation) for the
    /// driver to finish: see `BoundedWait` for why a close cannot simply be awaited.
    /// A close is given its time even when the caller is cancelled (a shutdown): the connection
    /// must not be dropped while its channel is open. One that outlives the wait is kept until
    /// its channel closes.
    static func close(_ connection: PostgresConnection, logger: Logger) async {
        let closing: EventLoopFuture<Void> = connection.close()
        if case .timedOut = await BoundedWait.outcome(of: closing, within: closeTimeout, cancellable: false) {
            logger.warning("a dedicated PostgreSQL connection did not close within \(closeTimeout); left to the driver")
            connection.closeFuture.whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }
}
