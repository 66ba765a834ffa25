/// Where the cgroup hierarchies are mounted and where a process sits in each, read from
/// `/proc/self/mountinfo` and `/proc/self/cgroup`. Pure parsing; ``current`` reads them once.
package struct CgroupMounts: Sendable, Equatable {
    /// The cgroup2 mount point: `/sys/fs/cgroup` on a pure v2 host, `/sys/fs/cgroup/unified` on
    /// a hybrid one.
    package var unified: String?
    /// v1 controller name (`pids`, `memory`) to its mount point, on hybrid and v1 hosts.
    package var v1: [String: String] = [:]
    /// The process's cgroup in the v2 hierarchy, as a directory under `unified`.
    package var ownUnified: String?
    /// v1 controller name to the process's cgroup directory in that hierarchy.
    package var ownV1: [String: String] = [:]

    package init(unified: String? = nil, v1: [String: String] = [:], ownUnified: String? = nil, ownV1: [String: String] = [:]) {
        self.unified = unified
        self.v1 = v1
        self.ownUnified = ownUnified
        self.ownV1 = ownV1
    }

    /// The agent's placement as it was when first asked: read once per process, before the agent
    /// moves itself into a leaf cgroup of its own (``RunCgroups``), so the base stays put.
    package static let current: CgroupMounts = {
        let mountInfo = (try? ProcFile.read("/proc/self/mountinfo")) ?? ""
        let membership = (try? ProcFile.read("/proc/self/cgroup")) ?? ""
        return parse(mountInfo: mountInfo, cgroup: membership)
    }()

    /// Joins mount points (with the mount's root) to the membership lines.
    package static func parse(mountInfo: String, cgroup: String) -> CgroupMounts {
        var result = CgroupMounts()
        var roots: [String: String] = [:]  // mount point to the mount's root inside its hierarchy
        for line in mountInfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1).map(String.init)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ").map(String.init)
            let tail = halves[1].split(separator: " ").map(String.init)
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let root = fields[3]
            let point = fields[4]
            switch tail[0] {
            case "cgroup2":
                if result.unified == nil { result.unified = point; roots[point] = root }
            case "cgroup":
                for option in tail[2].split(separator: ",").map(String.init) where option == "pids" || option == "memory" {
                    if result.v1[option] == nil { result.v1[option] = point; roots[point] = root }
                }
            default:
                continue
            }
        }
        for line in cgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            if parts[0] == "0", parts[1].isEmpty, let point = result.unified {
                result.ownUnified = join(point, relative(parts[2], to: roots[point]))
            } else {
                for controller in parts[1].split(separator: ",").map(String.init) {
                    if let point = result.v1[controller] {
                        result.ownV1[controller] = join(point, relative(parts[2], to: roots[point]))
                    }
                }
            }
        }
        return result
    }

    /// A membership path as seen below a mount whose root is not the hierarchy's root.
    private static func relative(_ path: String, to root: String?) -> String {
        guard let root, root != "/", path.hasPrefix(root) else { return path }
        let rest = String(path.dropFirst(root.count))
        return rest.isEmpty ? "/" : rest
    }

    private static func join(_ point: String, _ path: String) -> String {
        path == "/" ? point : point + path
    }
}
