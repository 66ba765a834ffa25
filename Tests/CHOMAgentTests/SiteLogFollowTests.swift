#if canImport(Glibc)
import Glibc
#endif
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// `SiteLogReader.follow` on files written by the test: only what came after the position,
/// through rotations, caps and cuts, and never a file outside the site's own log directory.
struct SiteLogFollowTests {
    static func append(_ text: String, to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    static func follow(
        _ reader: SiteLogReader, after: SiteLogPosition, limit: Int = 1000, maxBytes: Int = SiteLogReader.defaultMaxBytes
    ) throws -> SiteLogReader.Followed {
        try reader.follow(domain: "site.test", kind: .access, after: after, limit: limit, maxBytes: maxBytes)
    }

    @Test("the tail's position is after its last complete line; a follow returns only later lines, a half-written one once whole")
    func afterTheTail() throws {
        try SiteLogReaderTests.withLog("a\nb\nc\n") { reader, directory throws in
            let log = directory.appendingPathComponent("access.log")
            let tail = try reader.tail(domain: "site.test", kind: .access, lines: 2)
            #expect(tail.lines == ["b", "c"])
            let start = try #require(tail.position)
            #expect(start.offset == 6)

            let idle = try Self.follow(reader, after: start)
            #expect(idle.lines.isEmpty && idle.position == start && !idle.more && !idle.gap)

            try Self.append("d\ne\nhalf", to: log)
            let next = try Self.follow(reader, after: start)
            #expect(next.lines == ["d", "e"] && !next.more && !next.gap)
            #expect(next.position.offset == 10 && next.position.sameFile(as: start))

            let waiting = try Self.follow(reader, after: next.position)
            #expect(waiting.lines.isEmpty && waiting.position == next.position, "a line without its newline waits")
            try Self.append("-done\n", to: log)
            #expect(try Self.follow(reader, after: next.position).lines == ["half-done"])
        }
        // A tail that ends mid-line stops before that line: the follow returns it whole.
        try SiteLogReaderTests.withLog("a\npart") { reader, directory throws in
            let tail = try reader.tail(domain: "site.test", kind: .access, lines: 5)
            #expect(tail.lines == ["a", "part"])
            let position = try #require(tail.position)
            #expect(position.offset == 2)
            try Self.append("ial\n", to: directory.appendingPathComponent("access.log"))
            #expect(try Self.follow(reader, after: position).lines == ["partial"])
        }
    }

    @Test("the line cap and the byte cap say more is waiting, and the next reads go on without a loss or a repeat")
    func caps() throws {
        let lines = (0..<25).map { "request \($0) " + String(repeating: "y", count: $0) }
        try SiteLogReaderTests.withLog("") { reader, directory throws in
            let start = try #require(try reader.tail(domain: "site.test", kind: .access, lines: 1).position)
            try Self.append(lines.joined(separator: "\n") + "\n", to: directory.appendingPathComponent("access.log"))
            for (limit, maxBytes) in [(7, 1 << 20), (1000, 64)] {
                var seen: [String] = []
                var position = start
                var reads = 0
                while true {
                    let read = try Self.follow(reader, after: position, limit: limit, maxBytes: maxBytes)
                    #expect(read.lines.count <= limit)
                    seen += read.lines
                    position = read.position
                    reads += 1
                    if !read.more { break }
                    #expect(reads < 100)
                }
                #expect(seen == lines, "limit \(limit), \(maxBytes) bytes")
                #expect(reads > 1)
            }
            // A line longer than the byte cap comes cut, as one line, and the reader moves past it.
            let before = try Self.follow(reader, after: start, limit: 1000, maxBytes: 1 << 20).position
            try Self.append(String(repeating: "z", count: 100) + "\nafter\n", to: directory.appendingPathComponent("access.log"))
            let cut = try Self.follow(reader, after: before, maxBytes: 40)
            #expect(cut.lines == [String(repeating: "z", count: 40)] && cut.more)
            var rest: [String] = []
            var position = cut.position
            for _ in 0..<10 {
                let read = try Self.follow(reader, after: position, maxBytes: 40)
                rest += read.lines
                position = read.position
                if !read.more { break }
            }
            #expect(rest.last == "after")
        }
    }

    /// Dates `file`'s last modification `seconds` ago.
    static func age(_ file: URL, seconds: TimeInterval) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-seconds)], ofItemAtPath: file.path)
    }

    @Test("a rotation: the rest of access.log.1 first (nginx still writing there), then the new log from its start, no gap")
    func rotation() throws {
        try SiteLogReaderTests.withLog("old-1\n") { reader, directory throws in
            let log = directory.appendingPathComponent("access.log")
            let rotated = directory.appendingPathComponent("access.log.1")
            let start = try #require(try reader.tail(domain: "site.test", kind: .access, lines: 1).position)
            try Self.append("old-2\n", to: log)
            try FileManager.default.moveItem(at: log, to: rotated)
            // Until nginx reopens, it writes to the renamed file and there is no access.log.
            try Self.append("old-3\n", to: rotated)
            let first = try Self.follow(reader, after: start)
            #expect(first.lines == ["old-2", "old-3"] && !first.gap)
            #expect(try Self.follow(reader, after: first.position).lines.isEmpty)

            try Data("new-1\nnew-2\n".utf8).write(to: log)
            try Self.append("old-4\n", to: rotated)
            let second = try Self.follow(reader, after: first.position)
            #expect(second.lines == ["old-4"] && !second.gap, "the rotated file's last lines before the new one")
            // Written to a moment ago: an old worker may still finish a request there.
            let held = try Self.follow(reader, after: second.position)
            #expect(held.lines.isEmpty && held.position == second.position, "\(held.lines)")
            try Self.age(rotated, seconds: Double(reader.rotatedGraceSeconds) + 1)
            let third = try Self.follow(reader, after: second.position)
            #expect(third.lines == ["new-1", "new-2"] && !third.gap)
            #expect(!third.position.sameFile(as: start) && third.position.offset == 12)
        }
    }

    @Test("a position whose file is gone (rotated twice) or cut short restarts the current log with a gap")
    func gaps() throws {
        try SiteLogReaderTests.withLog("one\ntwo\n") { reader, directory throws in
            let log = directory.appendingPathComponent("access.log")
            let start = try #require(try reader.tail(domain: "site.test", kind: .access, lines: 1).position)
            try FileManager.default.moveItem(at: log, to: directory.appendingPathComponent("access.log.2"))
            try Data("x\n".utf8).write(to: directory.appendingPathComponent("access.log.1"))
            try Data("fresh\n".utf8).write(to: log)
            let gone = try Self.follow(reader, after: start)
            #expect(gone.lines == ["fresh"] && gone.gap)

            // Cut in place (same file, shorter than the position).
            try Self.append("more\nand more\n", to: log)
            let far = try Self.follow(reader, after: gone.position)
            #expect(far.lines == ["more", "and more"] && !far.gap)
            #expect(truncate(log.path, 0) == 0)
            try Self.append("after cut\n", to: log)
            let cut = try Self.follow(reader, after: far.position)
            #expect(cut.lines == ["after cut"] && cut.gap)
        }
        // No log at all (removed by a rotation that keeps none): nothing, same position.
        try SiteLogReaderTests.withLog("a\n") { reader, directory throws in
            let start = try #require(try reader.tail(domain: "site.test", kind: .access, lines: 1).position)
            try FileManager.default.removeItem(at: directory.appendingPathComponent("access.log"))
            let none = try Self.follow(reader, after: start)
            #expect(none.lines.isEmpty && none.position == start && !none.gap)
        }
    }

    @Test("a position naming another site's log reads nothing of it; a symlink or FIFO as access.log.1 is refused, not followed")
    func hostile() throws {
        try SiteLogReaderTests.withLog("mine\n") { reader, directory throws in
            let logs = directory.deletingLastPathComponent()
            let other = logs.appendingPathComponent("other.test")
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            let secret = other.appendingPathComponent("access.log")
            try Data("other-secret-1\nother-secret-2\n".utf8).write(to: secret)
            let theirs = try #require(try reader.tail(domain: "other.test", kind: .access, lines: 1).position)
            let read = try Self.follow(reader, after: SiteLogPosition(device: theirs.device, inode: theirs.inode, offset: 0))
            #expect(read.lines == ["mine"] && read.gap, "only this site's own log, from its start")
            #expect(!read.lines.contains { $0.contains("secret") })

            // access.log rotated away; in .1's place a symlink to the other site's log, then a FIFO.
            let start = try #require(try reader.tail(domain: "site.test", kind: .access, lines: 1).position)
            let log = directory.appendingPathComponent("access.log")
            let rotated = directory.appendingPathComponent("access.log.1")
            try FileManager.default.removeItem(at: log)
            try FileManager.default.createSymbolicLink(atPath: rotated.path, withDestinationPath: secret.path)
            #expect(throws: CHOMError.self) { try Self.follow(reader, after: start) }
            try FileManager.default.removeItem(at: rotated)
            #expect(mkfifo(rotated.path, 0o600) == 0)
            // A FIFO opened for reading would block a reader without O_NONBLOCK: this returns at once.
            #expect(throws: CHOMError.self) { try Self.follow(reader, after: start) }
            // A hard link of the other site's log as .1 has that log's identity, not the position's.
            try FileManager.default.removeItem(at: rotated)
            #expect(link(secret.path, rotated.path) == 0)
            let linked = try Self.follow(reader, after: start)
            #expect(linked.lines.isEmpty && linked.position == start, "\(linked.lines)")
        }
    }

    @Test("bad domains and limits are refused")
    func refusals() throws {
        try SiteLogReaderTests.withLog("a\n") { reader, _ throws in
            let position = SiteLogPosition(device: 1, inode: 1, offset: 0)
            for domain in ["../etc", "Site.test", ""] {
                #expect(throws: CHOMError.self) { try reader.follow(domain: domain, kind: .access, after: position, limit: 1) }
            }
            for limit in [0, 1001] {
                #expect(throws: CHOMError.self) { try reader.follow(domain: "site.test", kind: .access, after: position, limit: limit) }
            }
        }
    }

    @Test("positions print and parse as device.inode.offset; anything else is not one")
    func positionText() {
        let position = SiteLogPosition(device: 2049, inode: 1_234_567, offset: UInt64.max)
        #expect(SiteLogPosition(position.description) == position)
        for bad in ["", "1.2", "1.2.3.4", "1..3", "-1.2.3", "+1.2.3", "a.2.3", "1.2.18446744073709551616", " 1.2.3"] {
            #expect(SiteLogPosition(bad) == nil, "\(bad)")
        }
    }
}
