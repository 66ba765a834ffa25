package import CHOMCore
import Dispatch
package import Glibc

/// The cgroup of one run (a build hook, an app process): its v2 directory and, on a hybrid
/// host, its v1 pids/memory directories. The spawned program joins all of them before it execs
/// (``CommandRunner/Command/cgroup``), so every process it ever starts is inside; ``kill()``
/// ends them all at once, and ``remove(timeout:)`` kills, waits until none is left, and removes
/// the directories.
package struct RunCgroup: Sendable {
    package let name: String
    /// The v2 directory (`cgroup.kill`, `cgroup.procs`).
    package let unified: String
    /// Where `pids.max` and `pids.events` are, when a pids controller is available.
    package let pids: String?
    /// Where the memory limit is, when a memory controller is available.
    package let memory: String?
    let memoryIsUnified: Bool
    let v1Directories: [String]
    /// The bases the agent derived itself (never a configured one), removed when empty after the
    /// run's own directories: another run may still use them, or make them again.
    let bases: [String]

    /// The `cgroup.procs` files the program writes its pid into before it execs: v1 first, the
    /// v2 one last.
    package var procsFiles: [String] {
        v1Directories.map { $0 + "/cgroup.procs" } + [unified + "/cgroup.procs"]
    }

    /// The shell that joins the cgroup and execs the program.
    static let joinShell = "/bin/sh"
    /// `sh -c JOIN chom-join FILE… -- PROGRAM ARG…`: writes its pid into each file, then execs.
    static let joinScript = """
        for f do shift; if [ "$f" = -- ]; then exec "$@"; fi; \
        echo $$ > "$f" || { echo "chom: cannot join the cgroup ($f)" >&2; exit 125; }; done; exit 125
        """

    func applyLimits(pidsMax: Int?, memoryMax: Int?) throws(CHOMError) {
        if let pids, let pidsMax { try ProcFile.write(pids + "/pids.max", "\(pidsMax)") }
        if let memory, let memoryMax {
            if memoryIsUnified {
                try ProcFile.write(memory + "/memory.max", "\(memoryMax)")
                // Swap would let the run go past its limit instead of being stopped by it.
                if ProcFile.exists(memory + "/memory.swap.max") { try ProcFile.write(memory + "/memory.swap.max", "0") }
            } else {
                try ProcFile.write(memory + "/memory.limit_in_bytes", "\(memoryMax)")
                if ProcFile.exists(memory + "/memory.memsw.limit_in_bytes") {
                    try ProcFile.write(memory + "/memory.memsw.limit_in_bytes", "\(memoryMax)")
                }
            }
        }
    }

    /// SIGKILL to every process in the cgroup, in one write (`cgroup.kill`).
    package func kill() {
        try? ProcFile.write(unified + "/cgroup.kill", "1")
    }

    /// The processes in the cgroup now.
    package var processIDs: [pid_t] {
        ((try? ProcFile.read(unified + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// How often the run was refused a new process by its pids limit, and how many of its
    /// processes the kernel killed for its memory limit.
    package var limitHits: (processes: Int, outOfMemory: Int) {
        let processes = pids.map { ProcFile.counter("max", in: $0 + "/pids.events") } ?? 0
        let outOfMemory = memory.map {
            ProcFile.counter("oom_kill", in: $0 + (memoryIsUnified ? "/memory.events" : "/memory.oom_control"))
        } ?? 0
        return (processes, outOfMemory)
    }

    /// Kills everything in the cgroup, waits (polling, at most `timeout`) until no process is
    /// left and removes its directories. Off the cooperative pool and not cancellable: whatever
    /// happened to the caller, the run's processes must end.
    package func remove(timeout: Duration) async throws(CHOMError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<CHOMError?, Never>) in
            DispatchQueue.global().async { continuation.resume(returning: removeBlocking(timeout: timeout)) }
        }
        if let result { throw result }
    }

    private func removeBlocking(timeout: Duration) -> CHOMError? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        // The kernel reaps killed processes within a fraction of a millisecond: poll from 0.1 ms,
        // doubling up to 10 ms, so a run's clean-up costs what it takes, not one fixed 10 ms tick.
        var pause: useconds_t = 100
        func wait() {
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
        while true {
            kill()  // again each round: a fork that raced the previous write
            let left = processIDs
            if left.isEmpty { break }
            if clock.now >= deadline {
                return CHOMError(
                    .unavailable, "\(left.count) process(es) of cgroup \(name) still ran \(timeout.secondsText) after cgroup.kill")
            }
            wait()
        }
        for directory in [unified] + v1Directories {
            while rmdir(directory) != 0 && errno != ENOENT {  // not a tenant path: /proc and the cgroup file systems
                guard errno == EBUSY, clock.now < deadline else { return ProcFile.failure("cannot remove the cgroup \(directory)") }
                wait()
            }
        }
        for base in bases { rmdir(base) }  // fails while another run uses it, as it should  // not a tenant path: /proc and the cgroup file systems
        return nil
    }
}
