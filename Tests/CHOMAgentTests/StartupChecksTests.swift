import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import Synchronization
import Testing

@Suite("What the agent says about its host at start")
struct StartupChecksTests {
    private static func logger() -> (Logger, LogSink) { CapturingLogHandler.logger() }

    @Test("fs.protected_* are logged, and a warning names the ones that are off")
    func fileProtections() throws {
        let directory = try TemporaryDirectory.make(prefix: "h-procsys")
        defer { TemporaryDirectory.remove(directory) }
        for (name, value) in ["protected_hardlinks": "1", "protected_symlinks": "1", "protected_fifos": "0"] {
            try "\(value)\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let (logger, sink) = Self.logger()
        AgentRuntime.logFileProtections(logger: logger, procSys: directory.path)
        let entries = sink.entries.withLock { $0 }
        let info = try #require(entries.first { $0.1 == "kernel link and file protections" })
        #expect(info.2["fs.protected_hardlinks"] == "1" && info.2["fs.protected_fifos"] == "0")
        #expect(info.2["fs.protected_regular"] == "unreadable")
        let warning = try #require(entries.first { $0.0 == .warning })
        #expect(warning.2["fs.off"] == "fs.protected_fifos")
    }

    @Test("the real /proc/sys/fs values are read")
    func realValues() {
        let (logger, sink) = Self.logger()
        AgentRuntime.logFileProtections(logger: logger)
        let info = sink.entries.withLock { $0 }.first { $0.1 == "kernel link and file protections" }
        for name in AgentRuntime.fileProtections {
            #expect(info?.2["fs.\(name)"].map { "\($0)" }.flatMap(Int.init) != nil, "\(name)")
        }
    }

    @Test("an unusable cgroup base is an error at start saying hooks will be refused")
    func cgroupsUnavailable() {
        var configuration = CgroupConfiguration()
        configuration.base = "/nonexistent-chom-test/chom-runs"
        let (logger, sink) = Self.logger()
        AgentRuntime.logCgroups(configuration, logger: logger)
        let error = sink.entries.withLock { $0 }.first { $0.0 == .error }
        #expect(error?.1.contains("build hooks will be refused") == true)
        #expect("\(error?.2[LogKey.error] ?? "")".contains("/nonexistent-chom-test/chom-runs"))
    }

    @Test("on this host (root, cgroup v2 mounted) the start-up line says where runs go and which limits apply",
          .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
    func cgroupsAvailable() {
        let (logger, sink) = Self.logger()
        AgentRuntime.logCgroups(CgroupConfiguration(), logger: logger)
        let info = sink.entries.withLock { $0 }.first { $0.0 == .info }
        let summary = "\(info?.2[LogKey.cgroup] ?? "")"
        #expect(summary.contains("runs in ") && summary.contains("pids") && summary.contains("512 processes"), "\(summary)")
    }
}
