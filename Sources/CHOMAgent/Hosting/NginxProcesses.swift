import Foundation

/// An nginx master's children as /proc shows them (workers, cache manager), with their titles:
/// a worker told to quit by a reload renames itself `nginx: worker process is shutting down`
/// just before it closes its listening sockets.
package enum NginxProcesses {
    package struct Child: Sendable, Equatable {
        package var pid: Int32
        package var title: String

        package init(pid: Int32, title: String) {
            self.pid = pid
            self.title = title
        }

        /// A worker of a previous configuration, no longer accepting connections.
        package var isShuttingDown: Bool { title.contains("shutting down") }
    }

    /// `parent`'s children, from /proc (stat's ppid field, cmdline for the title).
    package static func children(of parent: Int32) -> [Child] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []  // not a tenant path: /proc
        return entries.compactMap { entry -> Child? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),  // not a tenant path: /proc
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == parent else { return nil }
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()  // not a tenant path: /proc
            return Child(pid: pid, title: String(decoding: cmdline, as: UTF8.self))
        }
    }

    /// Whether a reload has taken over from the children `previous` listed (those accepting
    /// before it): each has exited or is shutting down, and a new one runs.
    package static func reloaded(_ now: [Child], previous: Set<Int32>) -> Bool {
        let oldAccepting = now.contains { previous.contains($0.pid) && !$0.isShuttingDown }
        let fresh = now.contains { !previous.contains($0.pid) && !$0.isShuttingDown }
        return !oldAccepting && fresh
    }
}
