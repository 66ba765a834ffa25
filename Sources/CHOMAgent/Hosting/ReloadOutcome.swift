/// What a configuration change did to the running server.
package enum ReloadOutcome: Sendable, Equatable {
    /// The running master was told to reload; new workers take over within moments.
    case reloaded
    /// No master runs (no pid file or a stale one): the configuration is in place for when the
    /// caller (systemd, the agent's start-up) starts it.
    case notRunning
    /// Nothing changed on disk (a removal of what was not there, the same configuration again),
    /// so nothing was reloaded.
    case unchanged
    /// The change left the server nothing to serve (php-fpm's last pool went), so its master
    /// was asked to quit gracefully; the caller starts it again with the next pool.
    case stopped
    /// No master ran, so one was started with the new configuration (a php site's own master).
    case started
}
