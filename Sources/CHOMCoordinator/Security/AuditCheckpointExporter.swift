import CHOMAudit
import CHOMStore
import Foundation
import Synchronization

/// Copies signed audit checkpoints out of the database into `<directory>/audit-checkpoints.jsonl`
/// (appending new ones), so a truncated or recomputed chain can be detected from outside.
final class AuditCheckpointExporter: Sendable {
    let file: URL?
    private let exported = Mutex<Int64?>(nil)

    init(directory: String?) {
        file = directory.map { URL(fileURLWithPath: $0).appendingPathComponent("audit-checkpoints.jsonl") }
    }

    func export(_ audit: AuditLog) async throws {
        guard let file else { return }
        let last = exported.withLock { value -> Int64 in
            if let value { return value }
            let existing = (try? String(contentsOf: file, encoding: .utf8)).map { (try? AuditCheckpoint.parseJSONLines($0)) ?? [] } ?? []
            return existing.map(\.sequence).max() ?? 0
        }
        let fresh = try await audit.checkpoints(after: last)
        guard let newest = fresh.last?.sequence else {
            exported.withLock { $0 = last }
            return
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o640])
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(AuditCheckpoint.jsonLines(fresh).utf8))
        try handle.synchronize()
        exported.withLock { $0 = newest }
    }
}
