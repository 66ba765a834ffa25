package import CHOMCore

/// Host metric names. They live beside the agent, the only process that exports them, and follow
/// Prometheus naming: a unit suffix, `_total` on counters, the breakdown in one label.
extension MetricName {
    /// Counter, `{mode}`: CPU time summed over all CPUs, from the `cpu` line of /proc/stat.
    package static let hostCPUSeconds = "chom_host_cpu_seconds_total"
    /// Gauge, `{kind}`: /proc/meminfo figures in bytes.
    package static let hostMemoryBytes = "chom_host_memory_bytes"
    /// Gauge, `{mount,kind}`: statvfs of each real file system in /proc/mounts.
    package static let hostDiskBytes = "chom_host_disk_bytes"
    /// Gauge, `{window}`: the load averages of /proc/loadavg.
    package static let hostLoad = "chom_host_load"
    /// Counter, `{interface,direction}`: bytes from /proc/net/dev, loopback left out.
    package static let hostNetworkBytes = "chom_host_network_bytes_total"
    /// Gauge: seconds since boot, from /proc/uptime.
    package static let hostUptime = "chom_host_uptime_seconds"
}

extension MetricName {
    /// Counter, `{result="sent"|"dropped"}`: log lines forwarded to the syslog collector, or dropped
    /// because its bounded buffer was full (`LogForwardBuffer`).
    package static let logForwardLines = "chom_agent_log_forward_lines_total"
}
