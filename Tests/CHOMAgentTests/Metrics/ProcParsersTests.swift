import CHOMAgent
import Testing

/// Fixtures copied from a Debian host's /proc (a 2-CPU VM).
@Suite("/proc parsers")
struct ProcParsersTests {
    static let stat = """
        cpu  1899063 400 347647 1448003 24006 0 5821 1041 0 0
        cpu0 872571 179 160452 824043 3625 0 833 527 0 0
        cpu1 1026491 221 187194 623959 20380 0 4988 514 0 0
        intr 1234 0 0
        ctxt 98765
        """

    static let meminfo = """
        MemTotal:       24684084 kB
        MemFree:        20131288 kB
        MemAvailable:   23394208 kB
        Buffers:          851872 kB
        Cached:          2421944 kB
        SwapCached:            0 kB
        Active(anon):      12312 kB
        SwapTotal:       1048572 kB
        SwapFree:        1048000 kB
        HugePages_Total:       0
        """

    static let mounts = """
        proc /proc proc rw,relatime 0 0
        sysfs /sys sysfs rw,relatime 0 0
        devtmpfs /dev devtmpfs rw,relatime,size=12334460k,nr_inodes=3083615,mode=755 0 0
        tmpfs /dev/shm tmpfs rw,relatime,size=24684084k 0 0
        /dev/vda / ext4 rw,relatime,discard 0 0
        overlay /var/lib/docker/overlay2/x/merged overlay rw,relatime 0 0
        /dev/vdb1 /srv/my\\040sites xfs rw,relatime 0 0
        /dev/vda /var/lib/bind-of-root ext4 rw,relatime 0 0
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
        /dev/vdc /boot/efi vfat rw 0 0
        """

    static let netDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 221970035  570707    0    0    0     0          0         0 221970035  570707    0    0    0     0       0          0
          ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          eth0: 257583993    7585    0    0    0     0          0         0   635456    4674    0    0    0     0       0          0
        """

    @Test("the aggregate cpu line gives ticks for the eight modes")
    func cpu() {
        let ticks = ProcParsers.cpuTicks(stat: Self.stat)
        #expect(ticks == [
            "user": 1_899_063, "nice": 400, "system": 347_647, "idle": 1_448_003, "iowait": 24006, "irq": 0,
            "softirq": 5821, "steal": 1041,
        ])
        #expect(ProcParsers.cpuTicks(stat: "garbage\n").isEmpty)
    }

    @Test("meminfo kinds are in bytes, kB multiplied by 1024")
    func memory() {
        let memory = ProcParsers.memoryBytes(meminfo: Self.meminfo)
        #expect(memory["total"] == 24_684_084 * 1024)
        #expect(memory["available"] == 23_394_208 * 1024)
        #expect(memory["free"] == 20_131_288 * 1024)
        #expect(memory["buffers"] == 851_872 * 1024)
        #expect(memory["cached"] == 2_421_944 * 1024)
        #expect(memory["swap_total"] == 1_048_572 * 1024)
        #expect(memory["swap_free"] == 1_048_000 * 1024)
        #expect(memory.count == 7)
        #expect(ProcParsers.meminfo(Self.meminfo)["HugePages_Total"] == 0)
        #expect(HostFactsReader.parseMeminfo(Self.meminfo) == (24_684_084 * 1024, 23_394_208 * 1024))
    }

    @Test("real file systems: allowed types only, one per device, escapes decoded, bounded")
    func mounts() {
        let mounts = ProcParsers.realFilesystems(ProcParsers.mounts(Self.mounts))
        #expect(mounts.map(\.mountPoint) == ["/", "/srv/my sites", "/boot/efi"])
        #expect(mounts.map(\.fsType) == ["ext4", "xfs", "vfat"])
        #expect(ProcParsers.realFilesystems(ProcParsers.mounts(Self.mounts), limit: 1).count == 1)
        let many = (0..<100).map { "/dev/sd\($0) /mnt/\($0) ext4 rw 0 0" }.joined(separator: "\n")
        #expect(ProcParsers.realFilesystems(ProcParsers.mounts(many)).count == 32)
    }

    @Test("network bytes per interface, loopback and headers skipped")
    func network() {
        let interfaces = ProcParsers.networkInterfaces(netDev: Self.netDev)
        #expect(interfaces == [
            HostSample.Interface(name: "ifb0", receivedBytes: 0, transmittedBytes: 0),
            HostSample.Interface(name: "eth0", receivedBytes: 257_583_993, transmittedBytes: 635_456),
        ])
        let many = (0..<50).map { "veth\($0): 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" }.joined(separator: "\n")
        #expect(ProcParsers.networkInterfaces(netDev: many).count == 32)
    }

    @Test("uptime and load averages")
    func uptimeAndLoad() throws {
        #expect(ProcParsers.uptime("18696.54 14480.03\n") == 18696.54)
        #expect(ProcParsers.uptime("") == nil)
        let load = try #require(HostFactsReader.parseLoadavg("2.46 1.72 1.98 12/151 29372\n"))
        #expect(load == (2.46, 1.72, 1.98))
    }
}
