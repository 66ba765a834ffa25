#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
package import CHOMCore
import CHOMSiteFiles
package import Foundation

/// Reads the last lines of a site's nginx log from the agent's log directory
/// (`<logs directory>/<domain>/access.log` or `error.log`, root's, outside every site tree).
///
/// The file is named only by a validated domain and a ``Kind``, never by a path from a task. It is
/// reached through descriptors (`SiteDirectory`: `O_NOFOLLOW` at each component, the file opened
/// `O_NOFOLLOW | O_NONBLOCK` and `fstat`ed as a regular file owned by the agent's user) and read
/// backwards from its end in `chunkSize` chunks, never more than `maxBytes`: a log of any size
/// costs at most one chunk plus the bytes returned.
package struct SiteLogReader: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case access
        case error

        package var fileName: String { "\(rawValue).log" }
    }

    package struct Lines: Sendable, Equatable {
        /// Oldest first.
        package var lines: [String]
        /// The byte cap was reached before `tail` lines or the start of the file.
        package var truncated: Bool
    }

    /// Bounds a task may ask for.
    package static let maximumTail = 1000
    package static let defaultMaxBytes = 256 << 10
    package static let maximumMaxBytes = 1 << 20

    package let logsDirectory: URL
    package var chunkSize = 64 << 10

    package init(logsDirectory: URL) {
        self.logsDirectory = logsDirectory
    }

    /// The last `tail` (1…``maximumTail``) complete lines of the domain's `kind` log, at most
    /// `maxBytes` of them. A missing log is `.notFound`; a symlink, FIFO or anything but a regular
    /// file in its place is `.refused`.
    package func tail(domain: String, kind: Kind, lines tail: Int, maxBytes: Int = defaultMaxBytes) throws(CHOMError) -> Lines {
        guard DomainName.isValid(domain) else { throw CHOMError(.invalidInput, "not a lowercase DNS name") }
        guard (1...Self.maximumTail).contains(tail) else {
            throw CHOMError(.invalidInput, "tail must be between 1 and \(Self.maximumTail) lines")
        }
        let cap = min(max(1, maxBytes), Self.maximumMaxBytes)
        let directory: SiteDirectory
        do {
            directory = try SiteDirectory.openTrusted(logsDirectory.path).openDirectory(domain)
        } catch {
            // No log directory yet (no site configured here), or none for this domain.
            let root = try? SiteDirectory.openTrusted(logsDirectory.path)
            if root == nil || (try? root?.status(domain)) == .some(nil) {
                throw CHOMError(.notFound, "there is no \(kind.rawValue) log for \(domain) on this agent yet")
            }
            throw error
        }
        guard try directory.status(kind.fileName) != nil else {
            throw CHOMError(.notFound, "there is no \(kind.rawValue) log for \(domain) on this agent yet")
        }
        let fd = try directory.openFileForReading(kind.fileName, owner: geteuid())
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw CHOMError(.unavailable, "cannot stat the \(kind.rawValue) log of \(domain)") }
        return try Self.lastLines(fd: fd, size: Int64(status.st_size), tail: tail, maxBytes: cap, chunkSize: chunkSize)
    }

    /// Reads backwards from `size` until `tail` lines are complete, the file starts or `maxBytes`
    /// were read.
    static func lastLines(fd: Int32, size: Int64, tail: Int, maxBytes: Int, chunkSize: Int) throws(CHOMError) -> Lines {
        let newline = UInt8(ascii: "\n")
        var data: [UInt8] = []
        var position = size
        // Newlines in `data`, not counting one that ends the file.
        var breaks = 0
        while position > 0, breaks < tail, data.count < maxBytes {
            let count = Int(min(Int64(min(chunkSize, maxBytes - data.count)), position))
            position -= Int64(count)
            var chunk = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let result = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(position) + off_t(filled)) }
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { throw CHOMError(.unavailable, "the log shrank or could not be read while reading it") }
                filled += result
            }
            let endsFile = data.isEmpty && position + Int64(count) == size
            breaks += chunk.count { $0 == newline } - (endsFile && chunk.last == newline ? 1 : 0)
            data = chunk + data
        }
        if data.last == newline { data.removeLast() }
        var pieces = data.split(separator: newline, omittingEmptySubsequences: false)
        // A read that stopped before the start of the file began mid-line: that fragment goes.
        let reachedStart = position == 0
        if !reachedStart, !pieces.isEmpty { pieces.removeFirst() }
        let lines = pieces.suffix(tail).map { String(decoding: $0, as: UTF8.self) }
        let truncated = !reachedStart && lines.count < tail
        return Lines(lines: data.isEmpty ? [] : lines, truncated: truncated)
    }
}
