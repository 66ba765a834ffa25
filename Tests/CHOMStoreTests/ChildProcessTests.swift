@testable import CHOMStore
import Foundation
import Glibc
import Testing

/// The embedded PostgreSQL's tools (`pg_ctl start` leaves the server running) inherit descriptors
/// 0–2 only: a server that kept a coordinator's listener open held its port after it closed.
@Suite("The embedded PostgreSQL's tools inherit no descriptor beyond 0–2")
struct ChildProcessTests {
    @Test("a socket without close-on-exec does not reach the tool")
    func noInheritedSocket() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0, "the fixture must be inheritable, or the test proves nothing")
        let outcome = try ChildProcess.run(
            "/bin/sh", ["-c", "if [ -e /proc/$$/fd/\(fd) ]; then echo inherited; else echo closed; fi"])
        #expect(outcome.status == 0)
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines) == "closed")
    }
}
