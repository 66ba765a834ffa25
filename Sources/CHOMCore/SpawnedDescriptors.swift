#if canImport(Glibc)
package import Glibc

/// What a spawned program inherits of this process's descriptors: 0–2 only.
///
/// SwiftNIO creates its sockets without close-on-exec, so every program this process starts with
/// posix_spawn would otherwise inherit every socket open at that moment: listeners, mTLS
/// connections, database sessions. A long-lived child (a PostgreSQL server, nginx, a tenant's
/// hook or app) then keeps a listener's port bound after the listener closed, and a tenant's
/// process holds the agent's own connections. Every spawn in CHOM goes through here.
package enum SpawnedDescriptors {
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not export.
    private static let addCloseFrom: AddCloseFrom? = {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(pointer, to: AddCloseFrom.self)
    }()

    /// Adds to `actions` the close of every descriptor from 3 up, after the actions already added
    /// (so their dup2s onto 0–2 happen first). Throws when the C library cannot.
    package static func closeAllButStandard(_ actions: inout posix_spawn_file_actions_t) throws(CHOMError) {
        guard let addCloseFrom else {
            throw CHOMError(.unavailable, "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")
        }
        let result = addCloseFrom(&actions, 3)
        guard result == 0 else {
            throw CHOMError(.internal, "posix_spawn_file_actions_addclosefrom_np failed: \(String(cString: strerror(result)))")
        }
    }
}
#endif
