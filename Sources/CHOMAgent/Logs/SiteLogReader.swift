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
        /// Where a follow read goes on: after the last complete line (a line still being written
        /// at the end is returned, and returned again, whole, by the next follow read).
        package var position: SiteLogPosition? = nil
        /// The offset after the file's last newline, as `lastLines` saw it.
        var end: Int64 = 0

        package init(lines: [String], truncated: Bool, position: SiteLogPosition? = nil) {
            self.lines = lines
            self.truncated = truncated
            self.position = position
        }

        package static func == (a: Lines, b: Lines) -> Bool {
            a.lines == b.lines && a.truncated == b.truncated && a.position == b.position
        }
    }

    /// Bounds a task may ask for.
    package static let maximumTail = 1000
    package static let defaultMaxBytes = 256 << 10
    package static let maximumMaxBytes = 1 << 20

    package let logsDirectory: URL
    package var chunkSize = 64 << 10
    /// How long a follow stays on a rotated log after its last write before it moves on to the
    /// new one: nginx's old workers, after the reload that reopens the logs, still write the
    /// lines of requests they were serving (a long download) to the renamed file.
    package var rotatedGraceSeconds = 15

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
        let directory = try logDirectory(domain: domain, kind: kind)
        guard let file = try LogFile.named(kind.fileName, in: directory) else {
            throw CHOMError(.notFound, "there is no \(kind.rawValue) log for \(domain) on this agent yet")
        }
        defer { close(file.fd) }
        var read = try Self.lastLines(fd: file.fd, size: file.size, tail: tail, maxBytes: cap, chunkSize: chunkSize)
        read.position = file.position(at: UInt64(read.end))
        return read
    }

    /// The domain's directory in the log directory; `.notFound` when there is none (no site
    /// configured here yet), so a read answers "no log yet" rather than an error.
    func logDirectory(domain: String, kind: Kind) throws(CHOMError) -> SiteDirectory {
        do {
            return try SiteDirectory.openTrusted(logsDirectory.path).openDirectory(domain)
        } catch {
            let root = try? SiteDirectory.openTrusted(logsDirectory.path)
            if root == nil || (try? root?.status(domain)) == .some(nil) {
                throw CHOMError(.notFound, "there is no \(kind.rawValue) log for \(domain) on this agent yet")
            }
            throw error
        }
    }

    /// An open log: a regular file owned by the agent's user (``SiteDirectory/openFileForReading``
    /// refuses a symlink, FIFO or anything else), its identity and size at opening.
    struct LogFile {
        let fd: Int32
        let device: UInt64
        let inode: UInt64
        let size: Int64
        /// Last modification, seconds since the epoch.
        let modified: Int

        /// Nil when `name` does not exist.
        static func named(_ name: String, in directory: SiteDirectory) throws(CHOMError) -> LogFile? {
            guard try directory.status(name) != nil else { return nil }
            let fd = try directory.openFileForReading(name, owner: geteuid())
            var status = stat()
            guard fstat(fd, &status) == 0 else {
                close(fd)
                throw CHOMError(.unavailable, "cannot stat \(name)")
            }
            return LogFile(
                fd: fd, device: UInt64(truncatingIfNeeded: status.st_dev), inode: UInt64(truncatingIfNeeded: status.st_ino),
                size: Int64(status.st_size), modified: Int(status.st_mtim.tv_sec))
        }

        func position(at offset: UInt64) -> SiteLogPosition {
            SiteLogPosition(device: device, inode: inode, offset: offset)
        }
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
        // The bytes after the last newline are a line still being written.
        // A read that stopped before the start without a newline is inside one line longer than
        // the cap: the position skips it rather than point into its middle.
        let partial =
            data.last == newline
            ? 0 : (data.lastIndex(of: newline).map { data.count - $0 - 1 } ?? (position == 0 ? data.count : 0))
        let end = size - Int64(partial)
        if data.last == newline { data.removeLast() }
        var pieces = data.split(separator: newline, omittingEmptySubsequences: false)
        // A read that stopped before the start of the file began mid-line: that fragment goes.
        let reachedStart = position == 0
        if !reachedStart, !pieces.isEmpty { pieces.removeFirst() }
        let lines = pieces.suffix(tail).map { String(decoding: $0, as: UTF8.self) }
        let truncated = !reachedStart && lines.count < tail
        var result = Lines(lines: data.isEmpty ? [] : lines, truncated: truncated)
        result.end = end
        return result
    }
}
