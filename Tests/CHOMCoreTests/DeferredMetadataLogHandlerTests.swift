import CHOMCore
import Logging
import Synchronization
import Testing

/// Collects the lines a handler writes.
final class CollectedLines: TextOutputStream, Sendable {
    let lines = Mutex<[String]>([])
    func write(_ string: String) { lines.withLock { $0.append(string) } }
}

@Suite("The log handler every process uses: StreamLogHandler's lines, metadata rendered only for a line written")
struct DeferredMetadataLogHandlerTests {
    /// The line without its timestamp (the first field).
    func body(_ line: String) -> String { String(line.split(separator: " ", maxSplits: 1).last ?? "") }

    @Test("the same line as StreamLogHandler for the same logger metadata, line metadata and level")
    func sameLines() {
        let (ours, theirs) = (CollectedLines(), CollectedLines())
        var deferred = Logger(label: "chom.test") { DeferredMetadataLogHandler(label: $0, stream: ours, level: .info) }
        var stream = Logger(label: "chom.test") { StreamLogHandler(label: $0, stream: theirs, metadataProvider: nil) }
        deferred[metadataKey: "chom.agent_id"] = "a1"
        stream[metadataKey: "chom.agent_id"] = "a1"
        deferred[metadataKey: "chom.task_id"] = "t1"
        stream[metadataKey: "chom.task_id"] = "t1"
        // A key set and then removed is not shown.
        deferred[metadataKey: "gone"] = "x"
        deferred[metadataKey: "gone"] = nil
        deferred.info("task finished", metadata: ["chom.state": "succeeded", "chom.task_id": "t2"])
        stream.info("task finished", metadata: ["chom.state": "succeeded", "chom.task_id": "t2"])
        deferred.debug("dropped by the level")
        stream.debug("dropped by the level")
        let (mine, reference) = (ours.lines.withLock { $0 }, theirs.lines.withLock { $0 })
        #expect(mine.count == 1 && reference.count == 1)
        #expect(mine.map(body) == reference.map(body))
        // The line's own value wins over the logger's.
        #expect(mine.first?.contains("chom.task_id=t2") == true && mine.first?.contains("t1") == false)
        #expect(mine.first?.contains("gone") == false)
    }

    @Test("the level is the handler's and can be changed through the logger")
    func level() {
        let lines = CollectedLines()
        var logger = Logger(label: "chom.test") { DeferredMetadataLogHandler(label: $0, stream: lines, level: .critical) }
        logger.error("not written")
        logger.logLevel = .error
        logger.error("written")
        #expect(lines.lines.withLock { $0 }.map { $0.contains("written") && !$0.contains("not written") } == [true])
    }
}
