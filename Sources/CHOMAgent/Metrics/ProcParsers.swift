/// Pure parsers of /proc files: each takes the file's text, so tests feed them fixtures.
/// Lines they do not understand are skipped, never fatal.
package enum ProcParsers {
    /// The first eight columns of /proc/stat's `cpu` lines, in order (guest time is already
    /// included in user and nice, so it is not reported again).
    package static let cpuModes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]

    /// The `kind` label of each /proc/meminfo field reported.
    package static let memoryKinds: KeyValuePairs<String, String> = [
        "total": "MemTotal", "available": "MemAvailable", "free": "MemFree", "buffers": "Buffers",
        "cached": "Cached", "swap_total": "SwapTotal", "swap_free": "SwapFree",
    ]

    /// File system types that hold data worth watching; pseudo and in-memory ones are left out.
    package static let realFilesystemTypes: Set<String> = ["ext4", "ext3", "ext2", "xfs", "btrfs", "vfat", "zfs"]

    /// Ticks per mode from the aggregate `cpu` line (not `cpu0`, `cpu1`…).
    package static func cpuTicks(stat text: String) -> [String: UInt64] {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.first == "cpu" else { continue }
            var ticks: [String: UInt64] = [:]
            for (mode, field) in zip(cpuModes, fields.dropFirst()) {
                if let value = UInt64(field) { ticks[mode] = value }
            }
            return ticks
        }
        return [:]
    }

    /// Every numeric /proc/meminfo field, in bytes (fields in `kB` are multiplied by 1024).
    package static func meminfo(_ text: String) -> [String: UInt64] {
        var fields: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard parts.count >= 2, let value = UInt64(parts[1]) else { continue }
            let unit: UInt64 = parts.count >= 3 && parts[2] == "kB" ? 1024 : 1
            let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
            if !overflow { fields[String(parts[0])] = bytes }
        }
        return fields
    }

    /// The reported memory kinds (`memoryKinds`) found in /proc/meminfo.
    package static func memoryBytes(meminfo text: String) -> [String: UInt64] {
        let fields = meminfo(text)
        var kinds: [String: UInt64] = [:]
        for (kind, field) in memoryKinds {
            if let value = fields[field] { kinds[kind] = value }
        }
        return kinds
    }

    /// All entries of /proc/mounts, with the octal escapes of paths (`\040` for a space) decoded.
    package static func mounts(_ text: String) -> [HostSample.Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3 else { return nil }
            return HostSample.Mount(
                device: unescapeMountField(fields[0]), mountPoint: unescapeMountField(fields[1]),
                fsType: String(fields[2]))
        }
    }

    /// The mounts worth a disk series: an allowed type, each device once (its first mount; later
    /// ones are bind mounts or subvolumes of the same space), at most `limit` of them.
    package static func realFilesystems(_ mounts: [HostSample.Mount], limit: Int = 32) -> [HostSample.Mount] {
        var devices: Set<String> = []
        var kept: [HostSample.Mount] = []
        for mount in mounts where realFilesystemTypes.contains(mount.fsType) && kept.count < limit {
            if devices.insert(mount.device).inserted { kept.append(mount) }
        }
        return kept
    }

    /// Received and transmitted bytes per interface from /proc/net/dev, loopback left out,
    /// at most `limit` interfaces.
    package static func networkInterfaces(netDev text: String, limit: Int = 32) -> [HostSample.Interface] {
        var interfaces: [HostSample.Interface] = []
        for line in text.split(separator: "\n") where interfaces.count < limit {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon].trimmingSpaces())
            // Header lines have `|` in them; the columns are 8 receive counters then 8 transmit ones.
            let columns = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
            guard !name.isEmpty, name != "lo", !name.contains("|"), columns.count >= 9,
                let received = UInt64(columns[0]), let transmitted = UInt64(columns[8])
            else { continue }
            interfaces.append(HostSample.Interface(name: name, receivedBytes: received, transmittedBytes: transmitted))
        }
        return interfaces
    }

    /// Seconds since boot: the first field of /proc/uptime.
    package static func uptime(_ text: String) -> Double? {
        text.split(separator: " ", maxSplits: 1).first.flatMap { Double($0.trimmingSpaces()) }
    }

    /// /proc/mounts writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`.
    static func unescapeMountField(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
                let value = UInt8(String(decoding: utf8[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var trimmed = self
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        return trimmed
    }
}
