#if canImport(Glibc)
package import Glibc

/// What a spawned program inherits of this process's signal state: nothing.
///
/// The threads that spawn (Dispatch's, NIO's, the cooperative pool's) may block signals, and a
/// child inherits the spawning thread's mask and any ignored disposition. A program that relies on
/// a signal then never gets it: `timeout` and `pgbench -T` both wait for SIGALRM, so a
/// benchmark's bounded pgbench ran forever. Every spawn in CHOM resets the mask and dispositions.
package enum SpawnedSignals {
    /// Sets an empty signal mask and every signal's default disposition on `attributes`, with
    /// `flags` (such as `POSIX_SPAWN_SETPGROUP`) added to the two flags that apply them.
    package static func reset(_ attributes: inout posix_spawnattr_t, flags: Int32 = 0) {
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }
}
#endif
