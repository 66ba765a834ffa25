import CHOMAgent
import CHOMTesting
import Foundation
import Glibc
import Testing

/// A spawned program inherits descriptors 0–2 and nothing else, through every spawner: SwiftNIO's
/// sockets have no close-on-exec, and a child that kept one (a tenant's hook holding the agent's
/// listener, a PostgreSQL server holding a coordinator's port after it closed) was seen as a port
/// that could not be bound again for minutes.
@Suite("Spawned programs inherit no descriptor beyond 0–2")
struct SpawnedDescriptorsTests {
    /// A listening socket as SwiftNIO makes them: without close-on-exec.
    static func inheritableListener() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0, "the fixture must be inheritable, or the test proves nothing")
        return fd
    }

    /// A shell that says whether it holds descriptor `fd`.
    static func probe(_ fd: Int32) -> [String] {
        ["-c", "if [ -e /proc/$$/fd/\(fd) ]; then echo inherited; else echo closed; fi"]
    }

    @Test("the agent's CommandRunner (hooks, apps, nginx, php-fpm)")
    func commandRunner() async throws {
        let fd = try Self.inheritableListener()
        defer { close(fd) }
        let outcome = try await CommandRunner().run(.init("/bin/sh", Self.probe(fd)))
        #expect(outcome.succeeded)
        #expect(outcome.outputText.trimmingCharacters(in: .whitespacesAndNewlines) == "closed")
    }

    @Test("the test servers' spawner (moto, LocalStack, PowerDNS, coordinator replicas)")
    func backgroundServer() async throws {
        let fd = try Self.inheritableListener()
        defer { close(fd) }
        let directory = try TemporaryDirectory.make(prefix: "chom-spawn")
        defer { TemporaryDirectory.remove(directory) }
        let log = directory.appendingPathComponent("probe.log").path
        let pid = try BackgroundServer.spawn("/bin/sh", Self.probe(fd), log: log)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "closed")
    }
}
