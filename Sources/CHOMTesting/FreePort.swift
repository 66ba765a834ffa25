import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that was free a moment ago, for tests that restart a server and need
/// it back on the same port, or start a server (nginx, moto) on a port of their choosing.
///
/// Picked at random below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 by
/// default): a port the kernel handed out for port 0 can be taken at any moment by an outgoing
/// connection's local end, after which a restarted server cannot bind it.
package enum FreePort {
    package static func next() throws -> Int {
        let low = ephemeralLow()
        let range = 10_000..<max(10_001, low)
        for _ in 0..<200 {
            let port = Int.random(in: range)
            if isFree(port) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static func ephemeralLow() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32_768
    }

    private static func isFree(_ port: Int) -> Bool {
        withLoopbackSocket(port: port) { fd, address, length in bind(fd, address, length) == 0 }
    }

    /// Runs `body` with a new TCP socket and the address 127.0.0.1:`port`; the socket is closed after.
    static func withLoopbackSocket(
        port: Int, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool
    ) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// A port on 127.0.0.1 held by a listening socket until `close()`: for tests of what a server
/// does when its port is taken. The socket never accepts, so the port is chosen below the
/// ephemeral range (as `FreePort` does): a port 0 bind could take a port another test's server
/// just released, and a client of that test expecting "connection refused" would hang in a
/// handshake nobody answers.
package final class HeldPort: Sendable {
    package let port: Int
    private let fd: Int32

    package init() throws {
        for _ in 0..<50 {
            let port = try FreePort.next()
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EMFILE) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && listen(fd, 8) == 0
                }
            }
            if bound {
                self.fd = fd
                self.port = port
                return
            }
            Glibc.close(fd)
        }
        throw POSIXError(.EADDRINUSE)
    }

    package func close() { Glibc.close(fd) }
}
