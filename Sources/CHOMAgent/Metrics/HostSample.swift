/// One reading of the host, from /proc and statvfs. Cumulative kernel counters are kept in the
/// kernel's units (ticks, bytes); `HostMetrics` turns them into Prometheus series.
package struct HostSample: Sendable, Equatable {
    /// A mounted file system worth reporting (see `ProcParsers.realFilesystems`).
    package struct Mount: Sendable, Equatable {
        package var device: String
        package var mountPoint: String
        package var fsType: String

        package init(device: String, mountPoint: String, fsType: String) {
            self.device = device
            self.mountPoint = mountPoint
            self.fsType = fsType
        }
    }

    /// statvfs of one mount: total size, free (root included) and available (to unprivileged users).
    package struct Disk: Sendable, Equatable {
        package var mountPoint: String
        package var sizeBytes: UInt64
        package var freeBytes: UInt64
        package var availableBytes: UInt64

        package init(mountPoint: String, sizeBytes: UInt64, freeBytes: UInt64, availableBytes: UInt64) {
            self.mountPoint = mountPoint
            self.sizeBytes = sizeBytes
            self.freeBytes = freeBytes
            self.availableBytes = availableBytes
        }
    }

    /// Bytes received and transmitted by one network interface since it came up.
    package struct Interface: Sendable, Equatable {
        package var name: String
        package var receivedBytes: UInt64
        package var transmittedBytes: UInt64

        package init(name: String, receivedBytes: UInt64, transmittedBytes: UInt64) {
            self.name = name
            self.receivedBytes = receivedBytes
            self.transmittedBytes = transmittedBytes
        }
    }

    /// CPU time per mode (`ProcParsers.cpuModes`), in clock ticks summed over all CPUs.
    package var cpuTicks: [String: UInt64] = [:]
    /// Clock ticks per second (USER_HZ), to turn `cpuTicks` into seconds.
    package var ticksPerSecond: UInt64 = 100
    /// Memory by kind (`ProcParsers.memoryKinds`), in bytes.
    package var memoryBytes: [String: UInt64] = [:]
    package var disks: [Disk] = []
    /// Load averages by window: `1m`, `5m`, `15m`.
    package var load: [String: Double] = [:]
    package var interfaces: [Interface] = []
    package var uptimeSeconds: Double?

    package init() {}
}
