import Glibc

/// A daemon's pid file (nginx's `pid`, php-fpm's `pid`): whether the master it names runs.
package enum PidFile {
    /// The pid in `path` when that process exists, else nil (no file, garbage, a stale pid).
    package static func runningProcess(_ path: String) -> Int32? {
        guard let text = try? AtomicFile.read(path),
            let pid = Int32(text.filter { !$0.isWhitespace }), pid > 0
        else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}
