package import Foundation
import Synchronization

/// Directories under /tmp for one test process. Every directory made here is deleted when
/// the process exits (a throwaway PostgreSQL cluster is ~40 MB, and a suite makes hundreds),
/// and the scoped helpers delete theirs as soon as they are done with it.
package enum TemporaryDirectory {
    private static let made = Mutex<Set<String>>([])
    private static let removeAtExit: Void = {
        atexit { TemporaryDirectory.removeAll() }
    }()

    /// A new directory under /tmp (short, so unix socket paths fit), readable by the
    /// unprivileged user PostgreSQL runs as. Deleted at process exit at the latest.
    package static func make(prefix: String) throws -> URL {
        _ = removeAtExit
        let url = URL(fileURLWithPath: "/tmp/\(prefix)-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        made.withLock { _ = $0.insert(url.path) }
        return url
    }

    /// Deletes a directory (made here or not) and everything in it, now.
    package static func remove(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
        made.withLock { _ = $0.remove(url.path) }
    }

    static func removeAll() {
        let paths = made.withLock { paths in
            defer { paths.removeAll() }
            return paths
        }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}
