#if canImport(Glibc)
import Glibc
#endif
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// `SiteLogReader` on files written by the test: reading backwards in small chunks, the byte cap,
/// and what it refuses to open.
struct SiteLogReaderTests {
    static func withLog<T>(_ text: String?, _ body: (SiteLogReader, URL) throws -> T) throws -> T {
        let logs = try TemporaryDirectory.make(prefix: "h-logs")
        defer { TemporaryDirectory.remove(logs) }
        let directory = logs.appendingPathComponent("site.test")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let text { try Data(text.utf8).write(to: directory.appendingPathComponent("access.log")) }
        return try body(SiteLogReader(logsDirectory: logs), directory)
    }

    static let tenThousand = (0..<10_000).map { "line \($0) " + String(repeating: "x", count: $0 % 37) }

    @Test("the last N lines, oldest first, whatever the chunk size", arguments: [7, 64, 1000, 65536])
    func lastLines(chunk: Int) throws {
        try Self.withLog(Self.tenThousand.joined(separator: "\n") + "\n") { reader, _ throws in
            var reader = reader
            reader.chunkSize = chunk
            for tail in [1, 2, 17, 1000] {
                let read = try reader.tail(domain: "site.test", kind: .access, lines: tail, maxBytes: 1 << 20)
                #expect(read.lines == Array(Self.tenThousand.suffix(tail)))
                #expect(!read.truncated)
            }
        }
    }

    @Test("a short file gives what it has; a last line without a newline counts; an empty file gives none")
    func shortFiles() throws {
        try Self.withLog("a\nb\nc") { reader, _ throws in
            #expect(try reader.tail(domain: "site.test", kind: .access, lines: 10).lines == ["a", "b", "c"])
            #expect(try reader.tail(domain: "site.test", kind: .access, lines: 2).lines == ["b", "c"])
        }
        try Self.withLog("") { reader, _ throws in
            #expect(try reader.tail(domain: "site.test", kind: .access, lines: 10).lines.isEmpty)
        }
    }

    @Test("the byte cap stops the read: only whole lines, marked truncated")
    func byteCap() throws {
        try Self.withLog(Self.tenThousand.joined(separator: "\n") + "\n") { reader, _ throws in
            let read = try reader.tail(domain: "site.test", kind: .access, lines: 1000, maxBytes: 4096)
            #expect(read.truncated)
            #expect(!read.lines.isEmpty && read.lines.count < 1000)
            #expect(read.lines == Array(Self.tenThousand.suffix(read.lines.count)))
            #expect(read.lines.joined(separator: "\n").utf8.count <= 4096)
        }
    }

    /// The code `body` throws, nil when it returns.
    static func code(_ body: () throws(CHOMError) -> SiteLogReader.Lines) -> CHOMError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.code
        }
    }

    @Test("a missing log is notFound; a symlink or FIFO in its place is refused; bad domains and tails are refused")
    func refusals() throws {
        try Self.withLog(nil) { reader, directory throws in
            #expect(Self.code { () throws(CHOMError) in try reader.tail(domain: "site.test", kind: .access, lines: 1) } == .notFound)
            #expect(Self.code { () throws(CHOMError) in try reader.tail(domain: "other.test", kind: .error, lines: 1) } == .notFound)
            let nowhere = SiteLogReader(logsDirectory: directory.appendingPathComponent("no-logs-yet"))
            #expect(Self.code { () throws(CHOMError) in try nowhere.tail(domain: "site.test", kind: .access, lines: 1) } == .notFound)
            try FileManager.default.createSymbolicLink(
                atPath: directory.appendingPathComponent("access.log").path, withDestinationPath: "/etc/hostname")
            let link = Self.code { () throws(CHOMError) in try reader.tail(domain: "site.test", kind: .access, lines: 1) }
            #expect(link != nil && link != .notFound, "a symlink is never followed")
            #expect(mkfifo(directory.appendingPathComponent("error.log").path, 0o600) == 0)
            #expect(Self.code { () throws(CHOMError) in try reader.tail(domain: "site.test", kind: .error, lines: 1) } == .refused)
            for domain in ["../etc", "Site.test", ""] {
                #expect(Self.code { () throws(CHOMError) in try reader.tail(domain: domain, kind: .access, lines: 1) } == .invalidInput)
            }
            for tail in [0, 1001] {
                #expect(Self.code { () throws(CHOMError) in try reader.tail(domain: "site.test", kind: .access, lines: tail) } == .invalidInput)
            }
        }
    }
}
