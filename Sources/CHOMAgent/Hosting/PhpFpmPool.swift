package import CHOMCore

/// One site's php-fpm pool, served by the site's own master (``PhpFpmController``): workers
/// running as the site user, reached by nginx on a Unix socket only the web server group may open.
///
/// - pool name, `user`, `group`: the site user (``SiteUserName``);
/// - `listen`: `<run directory>/<site user>.sock`, `listen.owner`/`listen.group` the web server
///   group, mode 0660: nginx connects, other sites' workers cannot;
/// - `pm = ondemand`: no idle workers for quiet sites;
/// - `open_basedir`: the site directory only; temporary files, uploads and sessions in the
///   site's private `tmp/` (never the shared /tmp, where sites could see each other's);
///   `clear_env`, `.php` only.
///
/// Every value is checked before rendering (a path of ``SiteSpec/pathCharacters``, a Linux
/// user name), so nothing can add a line or a directive to the file.
package struct PhpFpmPool: Sendable, Equatable {
    package var user: SiteUserName
    /// The site directory, `<sites root>/<domain>`.
    package var siteDirectory: String
    package var socketPath: String
    package var webGroup = "www-data"
    package var maxChildren = 5
    package var idleTimeoutSeconds = 10
    package var maxRequests = 500

    package init(user: SiteUserName, siteDirectory: String, runDirectory: String = "/run/php") {
        self.user = user
        self.siteDirectory = siteDirectory
        socketPath = "\(runDirectory)/\(user.rawValue).sock"
    }

    /// The whole configuration of the site's own master: a `[global]` section (its pid file and
    /// log, in the foreground for the agent's supervisor), then the pool.
    package func renderMaster(pidFile: String, errorLog: String) throws(CHOMError) -> String {
        try SiteSpec.checkPath(pidFile, .root, as: "php-fpm pid file")
        try SiteSpec.checkPath(errorLog, .root, as: "php-fpm log")
        return """
            ; Managed by CHOM: the php-fpm master of \(user.rawValue) alone. Rewritten on every change: do not edit.
            [global]
            pid = \(pidFile)
            error_log = \(errorLog)
            daemonize = no

            """ + (try render())
    }

    /// The pool file's text, ending in a newline.
    package func render() throws(CHOMError) -> String {
        try SiteSpec.checkPath(siteDirectory, .root, as: "site directory")
        try SiteSpec.checkPath(socketPath, .phpSocket, as: "php-fpm socket")
        guard socketPath.utf8.count <= SiteSpec.maximumSocketPathLength else {
            throw CHOMError(.invalidInput, "php-fpm socket: longer than \(SiteSpec.maximumSocketPathLength) bytes")
        }
        guard SiteUserName.isValidLinuxUserName(webGroup) else {
            throw CHOMError(.invalidInput, "web server group: not a valid group name")
        }
        guard maxChildren > 0, idleTimeoutSeconds > 0, maxRequests >= 0 else {
            throw CHOMError(.invalidInput, "php-fpm pool: limits must be positive")
        }
        let name = user.rawValue
        return """
            ; Managed by CHOM for \(name). Rewritten on every change: do not edit.
            [\(name)]
            user = \(name)
            group = \(name)
            listen = \(socketPath)
            listen.owner = \(webGroup)
            listen.group = \(webGroup)
            listen.mode = 0660
            pm = ondemand
            pm.max_children = \(maxChildren)
            pm.process_idle_timeout = \(idleTimeoutSeconds)s
            pm.max_requests = \(maxRequests)
            chdir = /
            clear_env = yes
            security.limit_extensions = .php
            php_admin_value[open_basedir] = \(siteDirectory)/
            php_admin_value[upload_tmp_dir] = \(siteDirectory)/tmp
            php_admin_value[sys_temp_dir] = \(siteDirectory)/tmp
            php_admin_value[session.save_path] = \(siteDirectory)/tmp
            env[TMPDIR] = \(siteDirectory)/tmp

            """
    }
}
