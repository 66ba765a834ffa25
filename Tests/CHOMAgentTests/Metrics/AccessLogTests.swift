import CHOMAgent
import Foundation
import Testing

@Suite("Access log")
struct AccessLogTests {
    static func line(_ status: Int, path: String = "/") -> String {
        #"203.0.113.7 - - [26/Nov/2026:10:00:00 +0000] "GET \#(path) HTTP/1.1" \#(status) 612 "-" "curl/8.5.0""# + "\n"
    }

    @Test(
        "the status of a combined-format line",
        arguments: [
            (#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://x/" "Mozilla""#, 200),
            (#"::1 - bob [10/Oct/2000:13:55:36 -0700] "POST /login HTTP/2.0" 302 0 "-" "-""#, 302),
            (#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /\x22quoted\x22 HTTP/1.1" 404 9 "-" "ua \"x\"""#, 404),
            (#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "-" 400 0 "-" "-""#, 400),
            (#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 503"#, 503),
        ])
    func parses(line: String, status: Int) {
        #expect(AccessLogLine.status(line) == status)
    }

    @Test(
        "malformed lines give no status",
        arguments: [
            "", "garbage", #"1.2.3.4 - - [x] "GET / HTTP/1.1"#, #"1.2.3.4 - - [x] "GET / HTTP/1.1" 20 1 "-" "-""#,
            #"1.2.3.4 - - [x] "GET / HTTP/1.1" 2000 1"#, #"1.2.3.4 - - [x] "GET / HTTP/1.1" abc 1"#,
            #"1.2.3.4 - - [x] "GET / HTTP/1.1"200 1"#,
        ])
    func rejects(line: String) {
        #expect(AccessLogLine.status(line) == nil)
    }

    @Test("status classes", arguments: [(101, "1xx"), (200, "2xx"), (308, "3xx"), (499, "4xx"), (599, "5xx")])
    func classes(status: Int, label: String) {
        #expect(StatusClass(status: status)?.rawValue == label)
    }

    @Test("statuses outside 100…599 have no class", arguments: [0, 9, 99, 600, 999])
    func noClass(status: Int) {
        #expect(StatusClass(status: status) == nil)
    }

    @Test("the tail reads appended complete lines once, waits for partial ones, and follows rotation")
    func tail() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("access.log").path
            try Self.line(200).write(toFile: path, atomically: false, encoding: .utf8)
            // Lines already in the file when following starts are history: not counted.
            var tail = AccessLogTail(path: path)
            #expect(tail.poll() == AccessLogTail.Batch())

            try Self.append(Self.line(200) + Self.line(404) + "junk\n", to: path)
            var batch = tail.poll()
            #expect(batch.counts == [.success: 1, .clientError: 1])
            #expect(batch.unparsed == 1)
            #expect(tail.poll() == AccessLogTail.Batch())  // Nothing new: nothing counted twice.

            // A partial line is left for later and counted once complete.
            let partial = Self.line(500)
            let cut = partial.index(partial.startIndex, offsetBy: 30)
            try Self.append(Self.line(301) + String(partial[..<cut]), to: path)
            #expect(tail.poll().counts == [.redirection: 1])
            try Self.append(String(partial[cut...]), to: path)
            #expect(tail.poll().counts == [.serverError: 1])

            // logrotate: rename, then nginx reopens a new file at the path.
            try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
            #expect(tail.poll() == AccessLogTail.Batch())  // No file at the path for a moment.
            try Self.line(200).write(toFile: path, atomically: false, encoding: .utf8)
            try Self.append(Self.line(201), to: path + ".1")  // Late write to the old file: not counted.
            batch = tail.poll()
            #expect(batch.counts == [.success: 1])
            try Self.append(Self.line(100), to: path)
            #expect(tail.poll().counts == [.informational: 1])

            // Rotated again, and the new file outgrew the old offset before the next poll: the
            // inode tells them apart, so the new file is read from its start.
            try FileManager.default.moveItem(atPath: path, toPath: path + ".2")
            try String(repeating: Self.line(404), count: 10).write(toFile: path, atomically: false, encoding: .utf8)
            #expect(tail.poll().counts == [.clientError: 10])

            // copytruncate: same inode, shorter file.
            try Self.truncate(path)
            try Self.append(Self.line(502), to: path)
            #expect(tail.poll().counts == [.serverError: 1])
        }
    }

    @Test("a file that appears after following started is read from its start")
    func appears() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("access.log").path
            var tail = AccessLogTail(path: path)
            #expect(tail.poll() == AccessLogTail.Batch())
            try (Self.line(200) + Self.line(200)).write(toFile: path, atomically: false, encoding: .utf8)
            #expect(tail.poll().counts == [.success: 2])
        }
    }

    @Test("reads at most maxBytesPerPoll per poll and catches up on later polls; skips a line longer than that")
    func bounded() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("access.log").path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let line = Self.line(200)
            var tail = AccessLogTail(path: path, maxBytesPerPoll: line.utf8.count * 2 + 10)
            try Self.append(String(repeating: line, count: 5), to: path)
            #expect(tail.poll().counts == [.success: 2])
            #expect(tail.poll().counts == [.success: 2])
            #expect(tail.poll().counts == [.success: 1])
            #expect(tail.poll() == AccessLogTail.Batch())

            try Self.append(String(repeating: "x", count: line.utf8.count * 3) + "\n" + line, to: path)
            var total = AccessLogTail.Batch()
            for _ in 0..<5 {
                let batch = tail.poll()
                total.counts.merge(batch.counts, uniquingKeysWith: +)
                total.unparsed += batch.unparsed
            }
            #expect(total.counts == [.success: 1])
            #expect(total.unparsed >= 1)
        }
    }

    static func append(_ text: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    static func truncate(_ path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
    }
}
