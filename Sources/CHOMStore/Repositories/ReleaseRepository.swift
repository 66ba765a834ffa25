package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Release artifacts, stored in PostgreSQL in 1 MiB chunks so that uploads and
/// downloads stream with bounded memory and any coordinator replica can serve them.
package struct ReleaseRepository: Sendable {
    package static let chunkSize = 1 << 20

    let client: PostgresClient
    let logger: Logger

    /// Writes chunks inside the release's transaction.
    package final class ChunkWriter {
        let connection: PostgresConnection
        let releaseID: ReleaseID
        let logger: Logger
        var pending: [UInt8] = []
        var index = 0
        var format: String

        init(connection: PostgresConnection, releaseID: ReleaseID, format: String, logger: Logger) {
            self.connection = connection
            self.releaseID = releaseID
            self.format = format
            self.logger = logger
        }

        package func append(_ bytes: some Collection<UInt8>) async throws {
            pending.append(contentsOf: bytes)
            while pending.count >= ReleaseRepository.chunkSize {
                try await flush(Array(pending.prefix(ReleaseRepository.chunkSize)))
                pending.removeFirst(ReleaseRepository.chunkSize)
            }
        }

        /// Records the archive format once the first bytes have shown it.
        package func setFormat(_ format: String) async throws {
            try await connection.query(
                "UPDATE releases SET format = \(format) WHERE id = \(releaseID.uuid)", logger: logger)
            self.format = format
        }

        func finish() async throws {
            if !pending.isEmpty { try await flush(pending) }
            pending = []
        }

        private func flush(_ chunk: [UInt8]) async throws {
            try await connection.query(
                "INSERT INTO release_chunks (release_id, index, data) VALUES (\(releaseID.uuid), \(index), \(ByteBuffer(bytes: chunk)))",
                logger: logger)
            index += 1
        }
    }

    /// Creates a release whose bytes `write` streams into the writer; `write` returns the
    /// SHA-256 and size it computed. Nothing is kept if `write` throws.
    package func create(
        id: ReleaseID, siteID: SiteID, format: String, now: Date, in transaction: AuditedTransaction,
        write: (ChunkWriter) async throws -> (sha256: String, size: Int64)
    ) async throws -> ReleaseRecord {
        let connection = transaction.connection
        do {
            // The upload streams the request body inside this transaction: its session waits on the
            // client between chunks, so the coordinator's `idle_in_transaction_session_timeout`
            // (leader.idleTransactionTimeoutSeconds) is lifted for it. It holds no lock another
            // replica's lead or audit needs (audit entries are staged, the chain's lock is taken
            // after the commit).
            try await connection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
            try await connection.query("""
                INSERT INTO releases (id, site_id, sha256, size_bytes, format, created_at)
                VALUES (\(id.uuid), \(siteID.uuid), '', 0, \(format), \(now))
                """, logger: logger)
            let writer = ChunkWriter(connection: connection, releaseID: id, format: format, logger: logger)
            let (sha256, size) = try await write(writer)
            try await writer.finish()
            try await connection.query(
                "UPDATE releases SET sha256 = \(sha256), size_bytes = \(size) WHERE id = \(id.uuid)", logger: logger)
            return ReleaseRecord(
                id: id, siteID: siteID, sha256: sha256, sizeBytes: size, format: writer.format, createdAt: now)
        }
    }

    package func get(_ id: ReleaseID) async throws -> ReleaseRecord? {
        let rows = try await client.query(
            "SELECT id, site_id, sha256, size_bytes, format, created_at FROM releases WHERE id = \(id.uuid)",
            logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> ReleaseRecord {
        let id: UUID = try row.value("id")
        let site: UUID = try row.value("site_id")
        return ReleaseRecord(
            id: ReleaseID(id), siteID: SiteID(site), sha256: try row.value("sha256"),
            sizeBytes: try row.value("size_bytes"), format: try row.value("format"),
            createdAt: try row.value("created_at"))
    }

    /// Streams the artifact chunk by chunk to `body`, one query per chunk.
    package func read(_ id: ReleaseID, body: ([UInt8]) async throws -> Void) async throws {
        var index = 0
        while true {
            let rows = try await client.query(
                "SELECT data FROM release_chunks WHERE release_id = \(id.uuid) AND index = \(index)", logger: logger)
            var found = false
            for try await data in rows.decode(ByteBuffer.self) {
                found = true
                try await body(Array(buffer: data))
            }
            guard found else { return }
            index += 1
        }
    }
}
