#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a `HostSample` from /proc and statvfs: the I/O half of the host metrics, the parsing
/// half being `ProcParsers` (and `HostFactsReader.parseLoadavg`). Unreadable files leave their
/// part of the sample empty, so a host without /proc (macOS in development) reports nothing.
package enum HostSampler {
    package static func read(procRoot: String = "/proc") -> HostSample {
        var sample = HostSample()
        sample.ticksPerSecond = UInt64(clamping: max(1, sysconf(Int32(_SC_CLK_TCK))))
        if let text = HostFactsReader.procText(procRoot + "/stat") {
            sample.cpuTicks = ProcParsers.cpuTicks(stat: text)
        }
        if let text = HostFactsReader.procText(procRoot + "/meminfo") {
            sample.memoryBytes = ProcParsers.memoryBytes(meminfo: text)
        }
        if let text = HostFactsReader.procText(procRoot + "/loadavg"), let load = HostFactsReader.parseLoadavg(text) {
            sample.load = ["1m": load.0, "5m": load.1, "15m": load.2]
        }
        if let text = HostFactsReader.procText(procRoot + "/net/dev") {
            sample.interfaces = ProcParsers.networkInterfaces(netDev: text)
        }
        if let text = HostFactsReader.procText(procRoot + "/uptime") {
            sample.uptimeSeconds = ProcParsers.uptime(text)
        }
        if let text = HostFactsReader.procText(procRoot + "/mounts") {
            sample.disks = ProcParsers.realFilesystems(ProcParsers.mounts(text)).compactMap(disk)
        }
        return sample
    }

    /// statvfs of a mount point; nil when it cannot be read (unmounted since, no permission).
    static func disk(_ mount: HostSample.Mount) -> HostSample.Disk? {
        var stats = statvfs()
        guard statvfs(mount.mountPoint, &stats) == 0 else { return nil }
        let fragment = UInt64(stats.f_frsize)
        return HostSample.Disk(
            mountPoint: mount.mountPoint, sizeBytes: UInt64(stats.f_blocks) * fragment,
            freeBytes: UInt64(stats.f_bfree) * fragment, availableBytes: UInt64(stats.f_bavail) * fragment)
    }
}
