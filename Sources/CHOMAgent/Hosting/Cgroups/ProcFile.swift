import CHOMCore
import Glibc

/// Reads and writes of kernel interface files (`/proc`, cgroupfs): a cgroup file takes one value
/// per write(2), and its errno is the answer, so this goes straight to the system calls.
enum ProcFile {
    static func read(_ path: String) throws(CHOMError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)  // not a tenant path: /proc and the cgroup file systems
        guard fd >= 0 else { throw failure("cannot read \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read \(path)")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One write(2) of `text`.
    static func write(_ path: String, _ text: String) throws(CHOMError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)  // not a tenant path: /proc and the cgroup file systems
        guard fd >= 0 else { throw failure("cannot open \(path) for writing") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw failure("cannot write '\(text)' to \(path)") }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// A `key value` line of a flat-keyed file (`pids.events`, `memory.events`), 0 when absent.
    static func counter(_ key: String, in path: String) -> Int {
        guard let text = try? read(path) else { return 0 }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key, let value = Int(parts[1]) { return value }
        }
        return 0
    }

    /// The error for the failed call just made: errno is read before `what` is built.
    static func failure(_ what: @autoclosure () -> String) -> CHOMError {
        let code = errno
        return CHOMError(.unavailable, "\(what()): \(String(cString: strerror(code)))")
    }
}
