import CHOMAgent
import CHOMCore
import CHOMProtocol
import Foundation
import Testing

@Suite("Journal")
struct JournalTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("accept then finish is persisted, and a reload gives the same entries and window")
    func persistence() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let journal = try Journal(directory: directory)
            var window = journal.window
            window.accept(7)
            try journal.accept(taskID: "6f1c0d2e-4b7a-4c9e-9a55-2d8f3b1e0c11", sequence: 7, kind: "deploy", window: window, now: now)
            #expect(journal.entry(for: "6f1c0d2e-4b7a-4c9e-9a55-2d8f3b1e0c11")?.state == .accepted)
            try journal.finish(
                taskID: "6f1c0d2e-4b7a-4c9e-9a55-2d8f3b1e0c11", state: .succeeded, message: "ok", releasePath: "/srv/r",
                now: now.addingTimeInterval(3))

            let reloaded = try Journal(directory: directory)
            #expect(reloaded.entries == journal.entries)
            #expect(reloaded.window == window)
            let entry = try #require(reloaded.entry(for: "6f1c0d2e-4b7a-4c9e-9a55-2d8f3b1e0c11"))
            #expect(entry.state == .succeeded)
            #expect(entry.releasePath == "/srv/r")
            #expect(entry.sequence == 7)
            #expect(entry.finishedAtMS == now.addingTimeInterval(3).unixMilliseconds)
        }
    }

    @Test("journal files are private (0600) in a 0700 directory")
    func permissions() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let journalDirectory = directory.appendingPathComponent("journal")
            let journal = try Journal(directory: journalDirectory)
            var window = journal.window
            window.accept(1)
            try journal.accept(taskID: "not-a-uuid/../x", sequence: 1, kind: "deploy", window: window, now: now)
            let tasks = journalDirectory.appendingPathComponent("tasks")
            let names = try FileManager.default.contentsOfDirectory(atPath: tasks.path)
            #expect(names.count == 1)
            #expect(names[0].hasPrefix("sha256-"))
            for url in [tasks.appendingPathComponent(names[0]), journalDirectory.appendingPathComponent("replay.json")] {
                let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
                #expect(mode == 0o600)
            }
            let directoryMode = try FileManager.default.attributesOfItem(atPath: tasks.path)[.posixPermissions] as? Int
            #expect(directoryMode == 0o700)
            #expect(try Journal(directory: journalDirectory).entry(for: "not-a-uuid/../x") != nil)
        }
    }

    @Test("tasks still accepted at start-up are marked failed, not run again")
    func interrupted() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let journal = try Journal(directory: directory)
            var window = journal.window
            window.accept(1)
            try journal.accept(taskID: "a", sequence: 1, kind: "deploy", window: window, now: now)
            let failed = try Journal(directory: directory).failInterrupted(now: now)
            #expect(failed.map(\.taskID) == ["a"])
            let entry = try #require(try Journal(directory: directory).entry(for: "a"))
            #expect(entry.state == .failed)
            #expect(entry.message.contains("interrupted"))
        }
    }
}
