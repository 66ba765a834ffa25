import CHOMAgent
import CHOMCore
import Testing

@Suite("Where the cgroup hierarchies are and where the agent sits in them")
struct CgroupMountsTests {
    @Test("a hybrid host: v2 without controllers at /sys/fs/cgroup/unified, v1 pids and memory beside it")
    func hybrid() {
        let mountInfo = """
            30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
            31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
            34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct
            35 30 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids
            36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:16 - cgroup cgroup rw,memory
            """
        let cgroup = """
            8:pids:/system.slice/chom-agent.service
            4:memory:/system.slice/chom-agent.service
            2:cpu,cpuacct:/
            0::/system.slice/chom-agent.service
            """
        let mounts = CgroupMounts.parse(mountInfo: mountInfo, cgroup: cgroup)
        #expect(mounts.unified == "/sys/fs/cgroup/unified")
        #expect(mounts.ownUnified == "/sys/fs/cgroup/unified/system.slice/chom-agent.service")
        #expect(mounts.v1 == ["pids": "/sys/fs/cgroup/pids", "memory": "/sys/fs/cgroup/memory"])
        #expect(mounts.ownV1["pids"] == "/sys/fs/cgroup/pids/system.slice/chom-agent.service")
        #expect(mounts.ownV1["memory"] == "/sys/fs/cgroup/memory/system.slice/chom-agent.service")
    }

    @Test("a pure v2 host (systemd): one hierarchy at /sys/fs/cgroup, the agent in its service's cgroup")
    func pureV2() {
        let mountInfo = "27 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
        let mounts = CgroupMounts.parse(mountInfo: mountInfo, cgroup: "0::/system.slice/chom-agent.service\n")
        #expect(mounts.unified == "/sys/fs/cgroup")
        #expect(mounts.ownUnified == "/sys/fs/cgroup/system.slice/chom-agent.service")
        #expect(mounts.v1.isEmpty && mounts.ownV1.isEmpty)
    }

    @Test("the root cgroup, and a mount whose root is the agent's own cgroup (a container)")
    func rootsAndContainers() {
        let root = CgroupMounts.parse(mountInfo: "1 0 0:25 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", cgroup: "0::/")
        #expect(root.ownUnified == "/sys/fs/cgroup")
        let container = CgroupMounts.parse(
            mountInfo: "1 0 0:25 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw", cgroup: "0::/docker/abc/app")
        #expect(container.ownUnified == "/sys/fs/cgroup/app")
    }

    @Test("no cgroup2 mount: nothing to contain runs with")
    func noUnified() {
        let mounts = CgroupMounts.parse(mountInfo: "35 30 0:31 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids", cgroup: "8:pids:/\n")
        #expect(mounts.unified == nil && mounts.ownUnified == nil)
        #expect(mounts.ownV1 == ["pids": "/sys/fs/cgroup/pids"])
        #expect(throws: CHOMError.self) { try RunCgroups.prepare(CgroupConfiguration(), mounts: mounts) }
    }
}
