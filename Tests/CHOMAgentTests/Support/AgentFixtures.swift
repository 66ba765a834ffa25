import CHOMAgent
import CHOMArchive
import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import Logging
import Synchronization

/// Shared fixtures: temporary directories, envelope keys, tasks, artifacts.
enum Fixtures {
    static let logger: Logger = {
        var logger = Logger(label: "chom-agent-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A fresh directory under the system temporary directory, removed after `body`.
    @discardableResult
    static func withTemporaryDirectory<R>(_ body: (URL) async throws -> R) async throws -> R {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-agent-tests-" + UUID().uuidString.lowercased(), isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url)
    }

    static func deployTask(
        taskID: String = UUID().uuidString.lowercased(), domain: String = "example.test",
        releaseID: String = UUID().uuidString.lowercased(), artifact: Data,
        format: Chom_Agent_V1_ArtifactFormat = .tarZstd, keep: UInt32 = 5, sha256: String? = nil
    ) -> Chom_Agent_V1_Task {
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = UUID().uuidString.lowercased()
        deploy.domain = domain
        deploy.releaseID = releaseID
        deploy.artifactSha256 = sha256 ?? sha256Hex(artifact)
        deploy.artifactSize = UInt64(artifact.count)
        deploy.artifactFormat = format
        deploy.keepReleases = keep
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID
        task.deploy = deploy
        return task
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// A tar.zst of `files` (relative path → text), made with CHOMArchive's packer.
    static func tarZst(_ files: [String: String]) throws -> Data {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-artifact-" + UUID().uuidString.lowercased(), isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, text) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return try TarZst.pack(directory: directory)
    }

    /// A tar.zst whose single entry is `../evil` (written by hand: TarWriter refuses it).
    static func traversalTarZst() throws -> Data {
        let content = Data("owned\n".utf8)
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            block.replaceSubrange(offset..<(offset + text.utf8.count), with: Array(text.utf8))
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, at: offset)
        }
        put("../evil", at: 0)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(content.count, at: 124, width: 12)
        octal(1_700_000_000, at: 136, width: 12)
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257)
        put("00", at: 263)
        for index in 148..<156 { block[index] = 0x20 }
        octal(block.reduce(0) { $0 + Int($1) }, at: 148, width: 7)
        var tar = Data(block) + content + Data(count: 512 - content.count)
        tar += Data(count: 1024)
        return try Zstd.compress(tar)
    }
}

/// Serves artifacts from memory, in small chunks, like FetchArtifact would.
struct MemoryArtifactSource: ArtifactSource {
    var artifacts: [String: Data]
    var chunkSize = 1000

    func fetch(releaseID: String, into sink: ArtifactSink) async throws {
        guard let data = artifacts[releaseID] else { throw CHOMError(.notFound, "no artifact for \(releaseID)") }
        var offset = data.startIndex
        while offset < data.endIndex {
            let end = min(offset + chunkSize, data.endIndex)
            try sink.write(data[offset..<end])
            offset = end
        }
    }
}

/// Counts executions and answers with a fixed result.
final class CountingExecutor: TaskExecutor {
    private let counts = Mutex<[String: Int]>([:])
    private let tasks = Mutex<[Chom_Agent_V1_Task]>([])
    let result: ExecutionResult

    init(result: ExecutionResult = ExecutionResult(outcome: .succeeded, message: "done", releasePath: "/srv/x")) {
        self.result = result
    }

    func execute(_ task: Chom_Agent_V1_Task, progress: ProgressReporter) async -> ExecutionResult {
        counts.withLock { $0[task.taskID, default: 0] += 1 }
        tasks.withLock { $0.append(task) }
        await progress("work", "working on it")
        return result
    }

    func executions(of taskID: String) -> Int {
        counts.withLock { $0[taskID] ?? 0 }
    }

    /// The tasks executed, as the executor got them.
    var received: [Chom_Agent_V1_Task] { tasks.withLock { $0 } }
}
