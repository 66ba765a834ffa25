#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows one nginx access log across scrapes, like `tail -F`: remembers the file (device and
/// inode) and the byte offset reached, and on each `poll()` reads only the complete lines
/// appended since, at most `maxBytesPerPoll` of them (the rest waits for the next scrape).
///
/// Rotation: a different inode at the path (logrotate's rename + create) or a file shorter than
/// the offset (`copytruncate`) starts again from the beginning of the file now at the path.
/// Lines written to the old file after the last poll are not counted.
package struct AccessLogTail: Sendable {
    /// Status classes of the lines read by one poll.
    package struct Batch: Sendable, Equatable {
        package var counts: [StatusClass: Int] = [:]
        package var unparsed = 0
        /// The response body bytes of the lines read (bandwidth).
        package var bodyBytes: UInt64 = 0

        package init() {}
    }

    private struct FileIdentity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
    }

    package let path: String
    package let maxBytesPerPoll: Int
    private var identity: FileIdentity?
    private var offset: Int64 = 0

    /// Starts at the current end of the file: history from before the agent (re)started is not
    /// counted, as the counters start at zero. A file that does not exist yet is read from its start.
    package init(path: String, maxBytesPerPoll: Int = 8 << 20) {
        self.path = path
        self.maxBytesPerPoll = max(1, maxBytesPerPoll)
        var status = stat()
        if lstat(path, &status) == 0 {  // not a tenant path: the agent's log directory
            identity = Self.identity(status)
            offset = Int64(status.st_size)
        }
    }

    package mutating func poll() -> Batch {
        var batch = Batch()
        let (lines, skipped) = readLines()
        batch.unparsed = skipped
        for line in lines {
            if let statusClass = AccessLogLine.statusClass(line) {
                batch.counts[statusClass, default: 0] += 1
                batch.bodyBytes &+= AccessLogLine.bodyBytes(line) ?? 0
            } else {
                batch.unparsed += 1
            }
        }
        return batch
    }

    /// The complete lines appended since the last call (without their newlines, empty ones
    /// left out), and how many over-long lines were skipped: any log a site's nginx writes (the
    /// access and error logs alike), read the same way.
    package mutating func readLines() -> (lines: [ArraySlice<UInt8>], skipped: Int) {
        // Never through a final symlink, never blocking on a FIFO, only a regular file: the logs
        // are root's (outside every site tree), and this holds even if a path were misconfigured.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)  // not a tenant path: the agent's log directory
        guard fd >= 0 else { return ([], 0) }  // Between a rotation's rename and create: try next time.
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return ([], 0) }
        let current = Self.identity(status)
        if current != identity || Int64(status.st_size) < offset {
            identity = current
            offset = 0
        }
        let available = Int64(status.st_size) - offset
        guard available > 0 else { return ([], 0) }
        let bytes = Self.read(fd, at: offset, count: Int(min(available, Int64(maxBytesPerPoll))))
        guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
            // No complete line. A full chunk without a newline is one absurdly long line: skip it
            // rather than stall forever; a shorter one is a line still being written.
            if bytes.count == maxBytesPerPoll {
                offset += Int64(bytes.count)
                return ([], 1)
            }
            return ([], 0)
        }
        offset += Int64(lastNewline + 1)
        return (bytes[...lastNewline].split(separator: UInt8(ascii: "\n")), 0)
    }

    private static func identity(_ status: stat) -> FileIdentity {
        FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// Up to `count` bytes from `offset`; fewer if the file ends or a read fails.
    private static func read(_ fd: Int32, at offset: Int64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset + Int64(filled)))
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { break }
            filled += result
        }
        bytes.removeSubrange(filled...)
        return bytes
    }
}
