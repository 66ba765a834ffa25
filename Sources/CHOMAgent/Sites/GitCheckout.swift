package import Foundation

/// Clones a git repository at a ref into a directory with the system's git, for git deploys.
///
/// git runs with a clean environment (no credential helpers, no prompts, no system or global
/// configuration, `protocol.file.allow=always` so local bare repositories work, `ext::` and
/// other transports off), its hooks directory pointed at /dev/null, a timeout, and the `.git`
/// directory is removed afterwards so a release holds only the tree.
package struct GitCheckout: Sendable {
    package var gitPath: String
    package var setprivPath: String
    package var timeout: Duration
    /// When git runs as a site user it runs in a cgroup of its own, like a build hook (the
    /// repository and the transport are the tenant's choice): killed whole when it ends, with the
    /// same limits; no usable cgroup, no git deploy.
    package var cgroups = CgroupConfiguration()

    package init(gitPath: String = "/usr/bin/git", setprivPath: String = "/usr/bin/setpriv", timeout: Duration = .seconds(300)) {
        self.gitPath = gitPath
        self.setprivPath = setprivPath
        self.timeout = timeout
    }

    /// URLs git may fetch: `https://`, `ssh://`, `git@host:path` and local `file://` or absolute paths.
    package static func isAllowedURL(_ url: String) -> Bool {
        guard !url.isEmpty, url.utf8.count <= 2048, !url.hasPrefix("-"),
            url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return false }
        if url.hasPrefix("https://") {
            // No credentials in the URL: git's argv is readable by every local user in /proc.
            let authority = url.dropFirst("https://".count).prefix { $0 != "/" }
            return !authority.contains("@")
        }
        if url.hasPrefix("ssh://") || url.hasPrefix("file:///") || url.hasPrefix("/") { return true }
        return url.hasPrefix("git@") && url.contains(":") && !url.contains("::")
    }

    /// Branch, tag or commit names: `[A-Za-z0-9._/-]`, not starting with `-`, no `..`.
    package static func isAllowedRef(_ ref: String) -> Bool {
        guard !ref.isEmpty, ref.utf8.count <= 255, !ref.hasPrefix("-"), !ref.contains(".."),
            !ref.hasSuffix(".lock"), !ref.hasSuffix("/")
        else { return false }
        return ref.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || ("a"..."z").contains($0)
            || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._/-".unicodeScalars.contains($0) }
    }

    /// Clones `url` and checks out `ref` into `destination` (an empty directory, the site user's
    /// when `account` is given). Returns the commit id checked out. With `account`, git runs as
    /// that user (`setpriv`, no supplementary groups, no new privileges), so whatever the
    /// repository holds (links, odd names, a crafted pack) is written with the tenant's rights
    /// only. Without one (unit tests of the pipeline, no users) it runs as the agent. The caller
    /// removes `.git` afterwards.
    package func checkout(
        url: String, ref: String, into destination: URL, as account: SiteAccount? = nil, home: String = "/nonexistent",
        globalConfig: String? = nil
    ) async throws -> String {
        guard Self.isAllowedURL(url) else { throw GitCheckoutError("repository URL \"\(url.prefix(80))\" is not allowed") }
        guard Self.isAllowedRef(ref) else { throw GitCheckoutError("ref \"\(ref.prefix(80))\" is not a valid branch, tag or commit") }
        let path = destination.path
        _ = try await git(["clone", "--quiet", "--no-checkout", "--", url, path], as: account, home: home, globalConfig: globalConfig)
        _ = try await git(["-C", path, "checkout", "--quiet", "--detach", ref], as: account, home: home, globalConfig: globalConfig)
        return try await git(["-C", path, "rev-parse", "HEAD"], as: account, home: home, globalConfig: globalConfig)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The global configuration git runs with when it runs as a site user: a local repository
    /// owned by someone else (a mirror on the host, tests) is what the deploy asks to read, and
    /// git 2.39 honours `safe.directory` only from protected configuration, which for a local
    /// clone's upload-pack means the global file (it clears `-c` and `GIT_CONFIG_COUNT`).
    package static let siteUserGlobalConfig = "[safe]\n\tdirectory = *\n"

    private func git(_ arguments: [String], as account: SiteAccount?, home: String, globalConfig: String?) async throws -> String {
        let config = [
            "-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always",
            "-c", "protocol.ssh.allow=always", "-c", "protocol.file.allow=always", "-c", "credential.helper=",
            "-c", "core.symlinks=true", "-c", "advice.detachedHead=false",
        ]
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": globalConfig ?? "/dev/null",
            "GIT_ASKPASS": "/bin/false", "GIT_SSH_COMMAND": "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=accept-new",  // no tenant ~/.ssh/config (ProxyCommand)
        ]
        var executable = gitPath
        var all = config + arguments
        if let account {
            guard account.uid != 0, account.gid != 0 else { throw GitCheckoutError("git never runs as root for a site") }
            executable = setprivPath
            all = ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--", gitPath] + all
        }
        var cgroup: RunCgroup?
        if let account {
            do {
                cgroup = try RunCgroups.prepare(cgroups).makeRun(kind: "git", owner: account.name)
            } catch {
                throw GitCheckoutError("git refused: its processes cannot be contained, no cgroup is usable (\(error.message))")
            }
        }
        let outcome: CommandRunner.Outcome
        do {
            outcome = try await CommandRunner().run(CommandRunner.Command(
                executable, all, environment: environment, workingDirectory: "/", timeout: timeout, cgroup: cgroup))
        } catch {
            try? await cgroup?.remove(timeout: cgroups.killTimeout)
            throw error
        }
        try await cgroup?.remove(timeout: cgroups.killTimeout)
        guard outcome.succeeded else {
            let what = outcome.timedOut ? "timed out" : "failed (\(outcome.termination))"
            throw GitCheckoutError("git \(arguments.first ?? "") \(what): \(String(outcome.outputText.suffix(2048)))")
        }
        return outcome.outputText
    }
}

package struct GitCheckoutError: Error, CustomStringConvertible, Sendable {
    package var description: String
    init(_ description: String) { self.description = description }
}
