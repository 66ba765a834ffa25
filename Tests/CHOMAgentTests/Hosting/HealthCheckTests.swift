import CHOMAgent
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("HealthCheck reports what went wrong in plain words")
struct HealthCheckTests {
    @Test("nothing listening: connection refused")
    func refused() async throws {
        let check = HealthCheck(port: try FreePort.next(), timeout: .seconds(2))
        let error = await #expect(throws: HealthCheckFailure.self) { try await check.check(host: "example.com") }
        #expect(error?.reason == .connectionRefused)
        #expect(error?.description == "connection refused")
    }

    @Test("a server that accepts and never answers: timed out after the limit")
    func timesOut() async throws {
        // A listening socket nobody accepts on: the kernel completes the handshake, no reply comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let check = HealthCheck(port: Int(UInt16(bigEndian: address.sin_port)), timeout: .milliseconds(500))
        let started = ContinuousClock.now
        let error = await #expect(throws: HealthCheckFailure.self) { try await check.check(host: "example.com") }
        #expect(error?.description == "timed out after 0.5 s")
        #expect(ContinuousClock.now - started < .seconds(30), "the silent server would hold the check forever without its timeout")
    }

    @Test("a host or path that would break the request line is refused before connecting",
          arguments: [("example.com\r\nX: y", "/"), ("example.com", "no-slash"), ("example.com", "/a b")])
    func invalidRequest(host: String, path: String) async {
        let error = await #expect(throws: HealthCheckFailure.self) {
            try await HealthCheck(port: 1).get(host: host, path: path)
        }
        guard case .invalidRequest = error?.reason else { Issue.record("\(String(describing: error))"); return }
    }

    @Test("durations read as seconds", arguments: [
        (Duration.seconds(5), "5 s"), (.milliseconds(500), "0.5 s"), (.milliseconds(1250), "1.25 s"),
        (.milliseconds(10), "0.01 s"),
    ])
    func secondsText(duration: Duration, text: String) {
        #expect(duration.secondsText == text)
    }
}
