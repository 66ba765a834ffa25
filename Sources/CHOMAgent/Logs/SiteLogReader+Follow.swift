#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
package import CHOMCore
import CHOMSiteFiles

extension SiteLogReader {
    /// What a follow read found after a position.
    package struct Followed: Sendable, Equatable {
        /// Complete lines, oldest first (a line longer than the byte cap comes cut, as one line).
        package var lines: [String]
        /// Where the next follow read starts.
        package var position: SiteLogPosition
        /// The line or byte cap stopped the read: more lines are waiting.
        package var more: Bool
        /// The file of `after` was gone (rotated twice, removed) or shorter than its offset (cut):
        /// the read started the current log from its beginning, and lines may have been missed.
        package var gap: Bool
    }

    /// The complete lines of the domain's `kind` log written after `after` (at most `limit`,
    /// 1…``maximumTail``, and `maxBytes` of them), through rotations:
    ///
    /// - `after` names the current log: the lines after its offset (from its start, with `gap`,
    ///   when the file is now shorter: it was cut);
    /// - `after` names the rotated `<kind>.log.1` (``SiteLogRotator`` renamed it): its lines after
    ///   the offset while it has any or was written to within ``rotatedGraceSeconds`` (nginx's old
    ///   workers write there until their last requests end), then the current log from its start;
    /// - neither: the current log from its start, with `gap`.
    ///
    /// No line is returned twice and, short of a `gap` or a line written to the rotated log after
    /// the grace, none is skipped; a line still being
    /// written waits for its newline. No log at all answers no lines at the same position. Every
    /// file is opened as ``tail(domain:kind:lines:maxBytes:)`` opens it: by descriptor, a regular
    /// file of the agent's user, nothing else.
    package func follow(
        domain: String, kind: Kind, after: SiteLogPosition, limit: Int, maxBytes: Int = defaultMaxBytes
    ) throws(CHOMError) -> Followed {
        guard DomainName.isValid(domain) else { throw CHOMError(.invalidInput, "not a lowercase DNS name") }
        guard (1...Self.maximumTail).contains(limit) else {
            throw CHOMError(.invalidInput, "a follow read returns between 1 and \(Self.maximumTail) lines")
        }
        let cap = min(max(1, maxBytes), Self.maximumMaxBytes)
        let directory = try logDirectory(domain: domain, kind: kind)
        let current = try LogFile.named(kind.fileName, in: directory)
        defer { if let current { close(current.fd) } }
        if let current, current.position(at: 0).sameFile(as: after) {
            let cut = UInt64(current.size) < after.offset
            return try Self.forward(current, from: cut ? 0 : after.offset, limit: limit, maxBytes: cap, gap: cut)
        }
        var rotatedDone = false
        if let rotated = try LogFile.named(kind.fileName + ".1", in: directory) {
            defer { close(rotated.fd) }
            if rotated.position(at: 0).sameFile(as: after), UInt64(rotated.size) >= after.offset {
                let read = try Self.forward(rotated, from: after.offset, limit: limit, maxBytes: cap, gap: false)
                // Lines left there, no current log to go on with yet, or written to within the
                // grace (old workers finishing their requests): stay on the rotated file.
                let recent = Int(time(nil)) - rotated.modified < rotatedGraceSeconds
                if !read.lines.isEmpty || read.more || current == nil || recent { return read }
                rotatedDone = true
            }
        }
        guard let current else { return Followed(lines: [], position: after, more: false, gap: false) }
        return try Self.forward(current, from: 0, limit: limit, maxBytes: cap, gap: !rotatedDone)
    }

    /// The complete lines of `file` from `offset`: at most `limit` lines and `maxBytes` bytes; a
    /// first line longer than `maxBytes` comes cut as one line, so the reader never stalls.
    static func forward(
        _ file: LogFile, from offset: UInt64, limit: Int, maxBytes: Int, gap: Bool
    ) throws(CHOMError) -> Followed {
        let newline = UInt8(ascii: "\n")
        let available = UInt64(max(0, file.size)) > offset ? UInt64(file.size) - offset : 0
        let wanted = Int(min(available, UInt64(maxBytes)))
        var data = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let result = data.withUnsafeMutableBytes {
                pread(file.fd, $0.baseAddress! + filled, wanted - filled, off_t(offset) + off_t(filled))
            }
            if result < 0, errno == EINTR { continue }
            guard result >= 0 else { throw CHOMError(.unavailable, "the log could not be read") }
            if result == 0 { break }  // Cut while reading: what was read is all there is.
            filled += result
        }
        data.removeSubrange(filled...)
        var lines: [String] = []
        var consumed = 0
        var start = 0
        while lines.count < limit, let end = data[start...].firstIndex(of: newline) {
            lines.append(String(decoding: data[start..<end], as: UTF8.self))
            start = end + 1
            consumed = start
        }
        if lines.isEmpty, filled == maxBytes {
            lines.append(String(decoding: data, as: UTF8.self))
            consumed = filled
        }
        let position = file.position(at: offset + UInt64(consumed))
        let stopped = lines.count == limit || filled == maxBytes
        let more = stopped && position.offset < UInt64(file.size)
        return Followed(lines: lines, position: position, more: more, gap: gap)
    }
}
