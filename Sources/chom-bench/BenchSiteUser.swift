import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A throwaway site user (and its group, same id) for one benchmark run, in a high id range no
/// distribution allocates from: made with groupadd/useradd (no home, no login, no lastlog entry),
/// removed with userdel/groupdel by `remove()`.
struct BenchSiteUser {
    static let firstID: UInt32 = 2_099_000_000

    var name: String
    var uid: UInt32
    var gid: UInt32 { uid }

    static func create(log: String) throws -> BenchSiteUser {
        var id = firstID
        while getpwuid(id) != nil || getgrgid(id) != nil {
            id += 1
            guard id < firstID + 10_000 else { throw ChildFailure(description: "no free id from \(firstID)") }
        }
        let name = "chombench\(id - firstID)"
        guard getpwnam(name) == nil, getgrnam(name) == nil else {
            throw ChildFailure(description: "a user or group \(name) exists already (left by an earlier run? userdel \(name))")
        }
        _ = try ChildProcess.run([Command(argv: ["groupadd", "-g", "\(id)", name], log: log)])
        let user = BenchSiteUser(name: name, uid: id)
        do {
            _ = try ChildProcess.run([
                Command(
                    argv: ["useradd", "-u", "\(id)", "-g", "\(id)", "-M", "-N", "-l", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name],
                    log: log)
            ])
        } catch {
            user.remove(log: log)
            throw error
        }
        return user
    }

    /// Removes the user and its group; what fails is written to `log` (the run's result stands).
    func remove(log: String) {
        if getpwnam(name) != nil { _ = try? ChildProcess.run([Command(argv: ["userdel", name], log: log)]) }
        if getgrnam(name) != nil { _ = try? ChildProcess.run([Command(argv: ["groupdel", name], log: log)]) }
    }
}
