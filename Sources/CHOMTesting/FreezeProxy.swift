import CHOMCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that forwards each connection to a unix socket (PostgreSQL's), and
/// can go silent: `freeze()` stops forwarding in both directions without closing anything, so
/// both ends see what a network partition shows them (no answer, no reset), and connections made
/// meanwhile are accepted and never answered. `heal()` ends every connection (as TCP does once
/// it gives up on a long partition) and forwards new ones again.
package final class FreezeProxy: Sendable {
    package let port: Int
    private let target: String
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var frozen = false
        /// Connections of an older generation are closed by their pump.
        var generation = 0
        var stopped = false
    }

    package init(unixSocket target: String) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CHOMError(.unavailable, "socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw CHOMError(.unavailable, "the proxy cannot listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Silence in both directions from now on; nothing is closed.
    package func freeze() { state.withLock { $0.frozen = true } }

    /// Ends every connection and forwards new ones again.
    package func heal() {
        state.withLock {
            $0.generation += 1
            $0.frozen = false
        }
    }

    /// Stops listening and ends every connection.
    package func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(target.utf8.prefix(raw.count - 1))
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard upstream >= 0, connected == 0 else {
                if upstream >= 0 { close(upstream) }
                close(client)
                continue
            }
            let generation = state.withLock { $0.generation }
            Thread.detachNewThread { [self] in pump(client, upstream, generation: generation) }
        }
    }

    /// Forwards bytes both ways until either side closes, the proxy heals past this connection's
    /// generation, or it stops. While frozen it reads nothing, so the kernel's buffers fill and
    /// both ends wait.
    private func pump(_ client: Int32, _ upstream: Int32, generation: Int) {
        defer {
            close(client)
            close(upstream)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (frozen, current, stopped) = state.withLock { ($0.frozen, $0.generation, $0.stopped) }
            if stopped || current != generation { return }
            if frozen {
                usleep(20_000)
                continue
            }
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 50)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if ready == 0 { continue }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let from = entry.fd
                let to = index == 0 ? upstream : client
                let count = read(from, &buffer, buffer.count)
                if count <= 0 { return }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + offset, count - offset) }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
