import CHOMCore
package import CHOMProtocol
import CHOMTransport
import Crypto
package import Foundation
import Synchronization

/// The agent's durable memory of tasks, the basis of exactly-once execution.
///
/// `<state>/journal/tasks/<task id>.json` holds one `JournalEntry` per task and `replay.json` the
/// envelope `ReplayWindow`. Every write is atomic and durable (temporary file, fsync, rename,
/// fsync of the directory; mode 0600). A task is accepted here before it runs, so a duplicate —
/// a replayed envelope or the same task re-sealed with a new sequence — is answered from the
/// journal and never executed twice, across restarts too.
package final class Journal: Sendable {
    package let directory: URL
    private let state: Mutex<Contents>

    private struct Contents {
        var entries: [String: JournalEntry]
        var window: ReplayWindow
    }

    /// Opens (or creates) the journal in `directory`.
    package init(directory: URL) throws {
        self.directory = directory
        let tasks = directory.appendingPathComponent("tasks", isDirectory: true)
        do {
            try FileManager.default.createDirectory(
                at: tasks, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CHOMError(.configuration, "cannot create the journal directory \(tasks.path)", underlying: error)
        }
        var entries: [String: JournalEntry] = [:]
        let decoder = JSONDecoder()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tasks.path)) ?? []
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let url = tasks.appendingPathComponent(name)
            do {
                let entry = try decoder.decode(JournalEntry.self, from: try PrivateFile.read(url))
                entries[entry.taskID] = entry
            } catch {
                throw CHOMError(.integrity, "journal entry \(url.path) is unreadable", underlying: error)
            }
        }
        var window = ReplayWindow()
        let replayURL = directory.appendingPathComponent("replay.json")
        if FileManager.default.fileExists(atPath: replayURL.path) {
            do {
                window = try decoder.decode(ReplayWindow.self, from: try PrivateFile.read(replayURL))
            } catch {
                throw CHOMError(.integrity, "the replay window \(replayURL.path) is unreadable", underlying: error)
            }
        }
        state = Mutex(Contents(entries: entries, window: window))
    }

    /// The replay window as last persisted.
    package var window: ReplayWindow { state.withLock { $0.window } }

    package func entry(for taskID: String) -> JournalEntry? {
        state.withLock { $0.entries[taskID] }
    }

    /// All entries, oldest acceptance first.
    package var entries: [JournalEntry] {
        state.withLock { Array($0.entries.values) }.sorted { ($0.acceptedAtMS, $0.sequence) < ($1.acceptedAtMS, $1.sequence) }
    }

    /// Records a task as accepted, and the window that now includes its sequence, before it runs.
    /// The entry is written first: a crash in between leaves a known task, never a lost one.
    @discardableResult
    package func accept(
        taskID: String, sequence: UInt64, kind: String, window: ReplayWindow, now: Date
    ) throws -> JournalEntry {
        try state.withLock { contents in
            if let existing = contents.entries[taskID] { return existing }
            let entry = JournalEntry(
                taskID: taskID, sequence: sequence, kind: kind, state: .accepted, acceptedAtMS: now.unixMilliseconds)
            try write(entry)
            contents.entries[taskID] = entry
            try write(window)
            contents.window = window
            return entry
        }
    }

    /// Records the outcome of an accepted task.
    @discardableResult
    package func finish(
        taskID: String, state final: JournalEntry.State, message: String, releasePath: String = "",
        report: Data? = nil, now: Date
    ) throws -> JournalEntry {
        try state.withLock { contents in
            guard var entry = contents.entries[taskID] else {
                throw CHOMError(.notFound, "task \(taskID.prefix(64)) is not in the journal")
            }
            entry.state = final
            entry.message = message
            entry.releasePath = releasePath
            entry.report = report
            entry.finishedAtMS = now.unixMilliseconds
            try write(entry)
            contents.entries[taskID] = entry
            return entry
        }
    }

    /// Persists a window that moved without a new task (a known task re-sealed with a new sequence).
    package func updateWindow(_ window: ReplayWindow) throws {
        try state.withLock { contents in
            guard contents.window != window else { return }
            try write(window)
            contents.window = window
        }
    }

    /// At start-up: tasks still `accepted` were interrupted by a stop or crash. They are marked
    /// failed rather than run again, which could execute them twice.
    @discardableResult
    package func failInterrupted(now: Date) throws -> [JournalEntry] {
        var failed: [JournalEntry] = []
        for entry in entries where entry.state == .accepted {
            failed.append(
                try finish(
                    taskID: entry.taskID, state: .failed,
                    message: "interrupted: the agent stopped while the task was running; not retried", now: now))
        }
        return failed
    }

    private func write(_ entry: JournalEntry) throws {
        let url = directory.appendingPathComponent("tasks", isDirectory: true)
            .appendingPathComponent(Self.fileName(for: entry.taskID))
        try PrivateFile.write(try Self.encoder.encode(entry), to: url)
    }

    private func write(_ window: ReplayWindow) throws {
        try PrivateFile.write(try Self.encoder.encode(window), to: directory.appendingPathComponent("replay.json"))
    }

    /// Task ids are UUIDs; anything else is hashed so it can never name a path.
    static func fileName(for taskID: String) -> String {
        if let uuid = UUID(uuidString: taskID) { return uuid.uuidString.lowercased() + ".json" }
        let digest = SHA256.hash(data: Data(taskID.utf8))
        return "sha256-" + Hex.encode(digest) + ".json"
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
