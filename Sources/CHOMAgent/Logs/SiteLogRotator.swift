#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CHOMCore
import CHOMSiteFiles
package import Foundation
package import Logging
import ServiceLifecycle

/// Rotates nginx's per-site logs in the agent's root-owned log directory: every `period`, a
/// site's `access.log` or `error.log` larger than `maxBytes` becomes `.1` (`.1` → `.2` … up to
/// `keep`, the oldest removed), then nginx is asked to open its logs afresh
/// (``NginxController/reopenLogs()``: a reload, whose root master creates the files again). Everything goes through descriptors (`SiteDirectory`: `renameat`,
/// `removeTree`), though the directory is root's. ``AccessLogTail`` sees the new inode and goes on
/// counting from the new file.
package struct SiteLogRotator: Service {
    package struct Configuration: Sendable, Equatable {
        /// A log larger than this is rotated.
        package var maxBytes: Int64 = 64 << 20
        /// Rotated files kept per log (`.1` … `.keep`); 0 removes the log instead of keeping it.
        package var keep = 3
        package var period: Duration = .seconds(60)

        package init() {}
    }

    package let logsDirectory: URL
    package let configuration: Configuration
    /// Asks nginx to reopen its logs after a rotation.
    private let reopen: @Sendable () async throws -> Void
    private let logger: Logger

    package init(
        logsDirectory: URL, configuration: Configuration, logger: Logger,
        reopen: @escaping @Sendable () async throws -> Void
    ) {
        self.logsDirectory = logsDirectory
        self.configuration = configuration
        self.reopen = reopen
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await rotateOnce()
            } catch {
                logger.warning("site log rotation failed", metadata: [LogKey.error: "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.period) }
            } catch {
                return  // Cancelled or shutting down.
            }
        }
    }

    /// One pass over every site's logs; returns the logs rotated (`<domain>/<kind>.log`). nginx is
    /// asked to reopen once, when anything was rotated.
    @discardableResult
    package func rotateOnce() async throws -> [String] {
        guard let root = try? SiteDirectory.openTrusted(logsDirectory.path) else { return [] }  // No site yet.
        var rotated: [String] = []
        for domain in try root.entries().sorted() where DomainName.isValid(domain) {
            // One site's trouble (a log that cannot be renamed) does not hold up the others.
            do {
                guard try root.status(domain) == .directory else { continue }
                let directory = try root.openDirectory(domain)
                for kind in SiteLogReader.Kind.allCases where try rotate(kind.fileName, in: directory) {
                    rotated.append("\(domain)/\(kind.fileName)")
                }
            } catch {
                logger.warning("site log not rotated", metadata: [LogKey.error: "\(error)", LogKey.path: "\(domain)"])
            }
        }
        if !rotated.isEmpty {
            try await reopen()
            logger.info("site logs rotated", metadata: [LogKey.rotatedLogs: "\(rotated.joined(separator: " "))"])
        }
        return rotated
    }

    /// Shifts `name` → `name.1` → … → `name.<keep>` when `name` is a regular file over the limit.
    private func rotate(_ name: String, in directory: SiteDirectory) throws(CHOMError) -> Bool {
        guard let status = try directory.entryStatus(name), FileKind(status) == .file,
            Int64(status.st_size) > configuration.maxBytes
        else { return false }
        guard configuration.keep > 0 else {
            try directory.removeTree(name)
            return true
        }
        try directory.removeTree("\(name).\(configuration.keep)")
        for index in stride(from: configuration.keep - 1, through: 1, by: -1)
        where try directory.status("\(name).\(index)") != nil {
            try directory.rename("\(name).\(index)", to: "\(name).\(index + 1)")
        }
        try directory.rename(name, to: "\(name).1")
        return true
    }
}
