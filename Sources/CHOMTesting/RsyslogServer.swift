import CHOMCore
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's rsyslog (`scripts/install-deps.sh`) for one test: `imtcp` on a loopback port of its
/// own (RFC 6587 octet-counted framing, as the agent sends), writing each message it receives as
/// one line `MSGID STRUCTURED-DATA MSG` into a file the test reads. Started as a process group
/// and stopped, its directory removed, when the body returns or throws.
package struct RsyslogServer: Sendable {
    package let port: Int
    package let received: URL

    package static let binary = "/usr/sbin/rsyslogd"
    package static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    package static func with<Result: Sendable>(
        port fixed: Int? = nil, _ body: (RsyslogServer) async throws -> Result
    ) async throws -> Result {
        guard available else { throw CHOMError(.unavailable, "rsyslog is missing (scripts/install-deps.sh installs it)") }
        let directory = try TemporaryDirectory.make(prefix: "chom-rsyslog")
        defer { TemporaryDirectory.remove(directory) }
        let port = try fixed ?? FreePort.next()
        let received = directory.appendingPathComponent("received.log")
        let configuration = directory.appendingPathComponent("rsyslog.conf")
        try """
            global(workDirectory="\(directory.path)")
            module(load="imtcp")
            input(type="imtcp" address="127.0.0.1" port="\(port)")
            template(name="chom" type="string" string="%msgid% %structured-data% %msg%\\n")
            *.* action(type="omfile" file="\(received.path)" template="chom")
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("rsyslogd.log").path
        let pid = try BackgroundServer.spawn(binary, [
            "-n", "-f", configuration.path, "-i", directory.appendingPathComponent("rsyslogd.pid").path,
        ], log: log)
        do {
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(30), what: "rsyslog")
            let result = try await body(RsyslogServer(port: port, received: received))
            await BackgroundServer.stop(pid, grace: .seconds(10))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(10))
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("rsyslogd output:\n" + output.suffix(4_000)) }
            throw error
        }
    }

    /// The lines received so far.
    package func lines() -> [String] {
        guard let text = try? String(contentsOf: received, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }
}
