import CHOMCore
package import Logging

/// What the agent says about its host when it starts: the kernel's link and file protections
/// (a root agent working in tenants' trees depends on them) and whether build hooks and app
/// processes can be contained in cgroups.
extension AgentRuntime {
    package static let fileProtections = ["protected_hardlinks", "protected_symlinks", "protected_fifos", "protected_regular"]

    /// Logs `fs.protected_*` from /proc/sys/fs; a warning names the ones that are off.
    package static func logFileProtections(logger: Logger, procSys: String = "/proc/sys/fs") {
        var metadata: Logger.Metadata = [:]
        var off: [String] = []
        for name in fileProtections {
            let value = ((try? ProcFile.read("\(procSys)/\(name)")) ?? "unreadable").trimmingTrailingNewlines
            metadata["fs.\(name)"] = "\(value)"
            if value == "0" { off.append("fs.\(name)") }
        }
        logger.info("kernel link and file protections", metadata: metadata)
        if !off.isEmpty {
            logger.warning(
                "kernel link or file protections are off; tenants' links and files in shared directories are less constrained",
                metadata: ["fs.off": "\(off.joined(separator: ","))"])
        }
    }

    /// Prepares the cgroup subtree for hooks and apps and says what applies, or that hooks will
    /// be refused.
    package static func logCgroups(_ configuration: CgroupConfiguration, logger: Logger) {
        do {
            let cgroups = try RunCgroups.prepare(configuration)
            cgroups.releaseBases()
            logger.info("build hooks and app processes run in cgroups of their own", metadata: [LogKey.cgroup: "\(cgroups.summary)"])
        } catch {
            logger.error(
                "no usable cgroup: build hooks will be refused, app processes run without a cgroup of their own",
                metadata: [LogKey.error: "\(error.message)"])
        }
    }
}
