import CHOMCore
package import CHOMProtocol
package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads what a heartbeat reports about the host: /proc/meminfo, /proc/loadavg,
/// statvfs(sites root), CPU count, hostname, OS and kernel. Unreadable facts are left at zero.
package enum HostFactsReader {
    package static func read(sitesRoot: URL) -> Chom_Agent_V1_HostFacts {
        var facts = Chom_Agent_V1_HostFacts()
        facts.hostname = hostname()
        facts.cpuCount = UInt32(clamping: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        if let text = procText("/proc/meminfo") {
            let memory = parseMeminfo(text)
            facts.memoryTotalBytes = memory.total
            facts.memoryAvailableBytes = memory.available
        }
        if let text = procText("/proc/loadavg"), let load = parseLoadavg(text) {
            (facts.load1, facts.load5, facts.load15) = load
        }
        if let disk = diskSpace(at: sitesRoot) {
            facts.diskTotalBytes = disk.total
            facts.diskFreeBytes = disk.free
        }
        let names = unameStrings()
        facts.os = osPrettyName() ?? names.system
        facts.kernel = names.release
        return facts
    }

    /// Site directories under `sitesRoot` (names that are valid domains).
    package static func hostedSites(sitesRoot: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sitesRoot.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return DomainName.isValid(name)
                && FileManager.default.fileExists(atPath: sitesRoot.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.count
    }

    /// MemTotal and MemAvailable in bytes (the file gives kB).
    package static func parseMeminfo(_ text: String) -> (total: UInt64, available: UInt64) {
        let fields = ProcParsers.meminfo(text)
        return (fields["MemTotal"] ?? 0, fields["MemAvailable"] ?? 0)
    }

    /// The three load averages from /proc/loadavg.
    package static func parseLoadavg(_ text: String) -> (Double, Double, Double)? {
        let fields = text.split(separator: " ")
        guard fields.count >= 3, let a = Double(fields[0]), let b = Double(fields[1]), let c = Double(fields[2]) else {
            return nil
        }
        return (a, b, c)
    }

    /// Resident set size of this process: /proc/self/statm's second field × page size.
    package static func residentMemoryBytes() -> UInt64? {
        guard let text = procText("/proc/self/statm") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
    }

    package static func diskSpace(at url: URL) -> (total: UInt64, free: UInt64)? {
        var path = url.standardizedFileURL.path
        // The sites root may not exist yet: measure the file system it will live on.
        while !FileManager.default.fileExists(atPath: path), path != "/" {
            path = (path as NSString).deletingLastPathComponent
        }
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return diskSpace(
            blocks: UInt64(stats.f_blocks), free: UInt64(stats.f_bfree), available: UInt64(stats.f_bavail),
            fragment: UInt64(stats.f_frsize))
    }

    /// The space sites can use, as `df` counts it for its Use%: what is used plus what an
    /// unprivileged user may still write, and the latter free. Blocks reserved for root are
    /// neither: counted as used they would make a file system with a large reserve look full
    /// (one with 63 % reserved read 68 % used while 15 % was).
    package static func diskSpace(blocks: UInt64, free: UInt64, available: UInt64, fragment: UInt64) -> (total: UInt64, free: UInt64) {
        let used = blocks >= free ? blocks - free : 0
        return ((used + available) * fragment, available * fragment)
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func unameStrings() -> (system: String, release: String) {
        var names = utsname()
        guard uname(&names) == 0 else { return ("", "") }
        let system = withUnsafeBytes(of: &names.sysname) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return (system, release)
    }

    private static func osPrettyName() -> String? {
        guard let text = procText("/etc/os-release") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return nil
    }

    /// Reads a small file to the end (procfs files report size 0, so read until EOF).
    static func procText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// `read` is shadowed by nothing here, but keep the libc call explicit and in one place.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
