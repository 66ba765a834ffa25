package import CHOMCore
import Glibc
import Synchronization

/// The agent's cgroup subtree, checked and ready for runs: a cgroup v2 directory (`base`) that
/// the agent may write, with the pids and memory controllers enabled under it where the host
/// delegates them, and v1 pids/memory directories for the controllers v2 does not offer (a
/// hybrid host). ``makeRun(kind:owner:)`` makes one run's cgroup.
///
/// On a pure v2 host (systemd, `Delegate=pids memory`) the agent's own cgroup holds the agent,
/// and v2 lets a cgroup with processes enable no controller for its children ("no internal
/// processes"). So the first preparation moves the agent's processes into a leaf `<own>/agent`,
/// then enables the controllers in `<own>` and in `<own>/chom-runs`.
package struct RunCgroups: Sendable {
    package let configuration: CgroupConfiguration
    /// The v2 directory each run's cgroup is made in.
    package let base: String
    /// Of `pids` and `memory`, the controllers enabled for runs in the v2 subtree.
    package let unifiedControllers: Set<String>
    /// For controllers v2 does not offer here: the v1 directory each run's cgroup is made in.
    package let v1Bases: [String: String]

    static let controllers = ["pids", "memory"]
    private static let leafMove = Mutex(false)

    /// Checks the hierarchy and prepares `configuration`'s base, or says why runs cannot be
    /// contained (no cgroup v2, the base is missing or read-only, a kernel without cgroup.kill).
    package static func prepare(
        _ configuration: CgroupConfiguration, mounts: CgroupMounts = .current
    ) throws(CHOMError) -> RunCgroups {
        guard let unified = mounts.unified else {
            throw CHOMError(.unavailable, "no cgroup v2 hierarchy is mounted (killing a run's processes needs cgroup.kill)")
        }
        let base: String
        if let configured = configuration.base {
            base = configured
        } else {
            guard let own = mounts.ownUnified else {
                throw CHOMError(.unavailable, "/proc/self/cgroup does not name the agent's cgroup v2 group")
            }
            base = own + "/" + CgroupConfiguration.defaultBaseName
            if own != unified { delegateControllers(from: own) }
        }
        try ensureDirectory(base)
        // Only cgroupfs makes the interface files appear in a new directory; v1 has no cgroup.controllers.
        guard ProcFile.exists(base + "/cgroup.controllers") else {
            throw CHOMError(.unavailable, "\(base) is not in a cgroup v2 hierarchy")
        }
        guard ProcFile.exists(base + "/cgroup.kill") else {
            throw CHOMError(.unavailable, "this kernel has no cgroup.kill (Linux 5.14 or later is needed)")
        }
        let enabled = enableControllers(in: base)
        var v1Bases: [String: String] = [:]
        for controller in controllers where !enabled.contains(controller) {
            guard let own = mounts.ownV1[controller] else { continue }
            let directory = own + "/" + CgroupConfiguration.defaultBaseName
            if (try? ensureDirectory(directory)) != nil { v1Bases[controller] = directory }
        }
        return RunCgroups(configuration: configuration, base: base, unifiedControllers: enabled, v1Bases: v1Bases)
    }

    /// One line for the agent's start-up log.
    package var summary: String {
        var parts = ["runs in \(base)"]
        for controller in Self.controllers {
            let limit = controller == "pids" ? configuration.pidsMax.map { "\($0) processes" }
                : configuration.memoryMax.map { "\($0 >> 20) MiB" }
            if unifiedControllers.contains(controller) {
                parts.append("\(controller) (v2): \(limit ?? "no limit")")
            } else if let directory = v1Bases[controller] {
                parts.append("\(controller) (v1, \(directory)): \(limit ?? "no limit")")
            } else {
                parts.append("\(controller): no controller, no limit")
            }
        }
        return parts.joined(separator: "; ")
    }

    /// Makes the cgroup for one run (`<kind>-<owner>-<random>`) with the configured limits.
    package func makeRun(kind: String, owner: String) throws(CHOMError) -> RunCgroup {
        let safeOwner = String(owner.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }.prefix(32))
        let name = "\(kind)-\(safeOwner)-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        var made: [String] = []
        func undo() {
            for directory in made.reversed() { rmdir(directory) }  // not a tenant path: /proc and the cgroup file systems
        }
        do throws(CHOMError) {
            let unified = try Self.makeDirectory(name, in: base) { _ = Self.enableControllers(in: base) }
            made.append(unified)
            var v1Directories: [String: String] = [:]
            for (controller, directory) in v1Bases.sorted(by: { $0.key < $1.key }) {
                v1Directories[controller] = try Self.makeDirectory(name, in: directory)
                made.append(v1Directories[controller]!)
            }
            let run = RunCgroup(
                name: name, unified: unified,
                pids: unifiedControllers.contains("pids") ? unified : v1Directories["pids"],
                memory: unifiedControllers.contains("memory") ? unified : v1Directories["memory"],
                memoryIsUnified: unifiedControllers.contains("memory"),
                v1Directories: v1Directories.keys.sorted().map { v1Directories[$0]! },
                bases: (configuration.base == nil ? [base] : []) + v1Bases.keys.sorted().map { v1Bases[$0]! })
            try run.applyLimits(pidsMax: configuration.pidsMax, memoryMax: configuration.memoryMax)
            return run
        } catch {
            undo()
            throw error
        }
    }

    /// Removes the bases the agent derived itself while no run uses them (each run makes them
    /// again when missing): a check such as the one at start leaves nothing behind.
    package func releaseBases() {
        for directory in (configuration.base == nil ? [base] : []) + v1Bases.values.sorted() { rmdir(directory) }  // not a tenant path: /proc and the cgroup file systems
    }

    /// `mkdir base/name`, making `base` again if another run removed it meanwhile.
    private static func makeDirectory(
        _ name: String, in base: String, afterMakingBase: () -> Void = {}
    ) throws(CHOMError) -> String {
        let path = base + "/" + name
        for _ in 0..<5 {
            try ensureDirectory(base)
            afterMakingBase()
            if mkdir(path, 0o755) == 0 { return path }  // not a tenant path: /proc and the cgroup file systems
            if errno != ENOENT { break }
        }
        throw ProcFile.failure("cannot create the cgroup \(path)")
    }

    private static func ensureDirectory(_ path: String) throws(CHOMError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {  // not a tenant path: /proc and the cgroup file systems
            throw ProcFile.failure("cannot create the cgroup directory \(path)")
        }
    }

    /// Enables in `directory`'s children whichever of pids and memory it has; returns those
    /// enabled.
    @discardableResult
    private static func enableControllers(in directory: String) -> Set<String> {
        let available = words(directory + "/cgroup.controllers")
        for controller in controllers where available.contains(controller) {
            try? ProcFile.write(directory + "/cgroup.subtree_control", "+\(controller)")
        }
        return words(directory + "/cgroup.subtree_control").intersection(controllers)
    }

    /// Once per process: moves the processes of the agent's own cgroup into `<own>/agent` so
    /// that `<own>` may enable controllers for its children. Best effort: without it runs are
    /// still contained, only without v2 limits (the start-up log says which limits apply).
    private static func delegateControllers(from own: String) {
        leafMove.withLock { done in
            guard !done else { return }
            done = true
            let wanted = words(own + "/cgroup.controllers").intersection(controllers)
            guard !wanted.isSubset(of: words(own + "/cgroup.subtree_control")) else { return }
            let leaf = own + "/agent"
            guard (try? ensureDirectory(leaf)) != nil else { return }
            let processes = (try? ProcFile.read(own + "/cgroup.procs")) ?? ""
            for pid in processes.split(separator: "\n") {
                try? ProcFile.write(leaf + "/cgroup.procs", String(pid))
            }
            for controller in wanted.sorted() {
                try? ProcFile.write(own + "/cgroup.subtree_control", "+\(controller)")
            }
        }
    }

    private static func words(_ path: String) -> Set<String> {
        Set(((try? ProcFile.read(path)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }
}
