/// Where the agent puts each build hook run and each app process in a cgroup of its own, and the
/// limits each gets. The whole cgroup is killed when the run ends (cgroup v2 `cgroup.kill`), so
/// nothing a hook starts (`setsid`, a double fork) outlives it.
package struct CgroupConfiguration: Sendable, Equatable {
    /// The cgroup v2 directory under which the agent makes one cgroup per run. Nil: `chom-runs`
    /// inside the agent's own cgroup (`/proc/self/cgroup`, e.g.
    /// `/sys/fs/cgroup/system.slice/chom-agent.service/chom-runs`). Its parent must exist;
    /// the directory itself is created.
    package var base: String?
    /// The most processes (and threads) one run may have; nil: no limit. v2 `pids.max` where the
    /// pids controller is delegated, else the v1 pids hierarchy's.
    package var pidsMax: Int? = 512
    /// Bytes of memory one run may use; nil: no limit. v2 `memory.max`, else v1
    /// `memory.limit_in_bytes`, where a memory controller is available.
    package var memoryMax: Int? = 1 << 30
    /// How long killing a run's processes may take before the run counts as not cleaned up.
    package var killTimeout: Duration = .seconds(10)

    package init() {}

    /// The name of the directory the agent makes inside its own cgroup when `base` is nil.
    package static let defaultBaseName = "chom-runs"
}
