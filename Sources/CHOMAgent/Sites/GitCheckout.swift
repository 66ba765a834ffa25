package import Foundation

/// Clones a git repository at a ref into a directory with the system's git, for git deploys.
///
/// git runs with a clean environment (no credential helpers, no prompts, no system or global
/// configuration, `protocol.file.allow=always` so local bare repositories work, `ext::` and
/// other transports off), its hooks directory pointed at /dev/null, a timeout, and the `.git`
/// directory is removed afterwards so a release holds only the tree.
package struct GitCheckout: Sendable {
    package var gitPath: String
    package var timeout: Duration

    package init(gitPath: String = "/usr/bin/git", timeout: Duration = .seconds(300)) {
        self.gitPath = gitPath
        self.timeout = timeout
    }

    /// URLs git may fetch: `https://`, `ssh://`, `git@host:path` and local `file://` or absolute paths.
    package static func isAllowedURL(_ url: String) -> Bool {
        guard !url.isEmpty, url.utf8.count <= 2048, !url.hasPrefix("-"),
            url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return false }
        if url.hasPrefix("https://") || url.hasPrefix("ssh://") || url.hasPrefix("file:///") || url.hasPrefix("/") { return true }
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

    /// Clones `url` and checks out `ref` into `destination` (which must not exist). Returns the
    /// commit id checked out.
    package func checkout(url: String, ref: String, into destination: URL) async throws -> String {
        guard Self.isAllowedURL(url) else { throw GitCheckoutError("repository URL \"\(url.prefix(80))\" is not allowed") }
        guard Self.isAllowedRef(ref) else { throw GitCheckoutError("ref \"\(ref.prefix(80))\" is not a valid branch, tag or commit") }
        let path = destination.path
        _ = try await git(["clone", "--quiet", "--no-checkout", "--", url, path], in: nil)
        _ = try await git(["-C", path, "checkout", "--quiet", "--detach", ref], in: nil)
        let commit = try await git(["-C", path, "rev-parse", "HEAD"], in: nil).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.removeItem(at: destination.appendingPathComponent(".git"))
        return commit
    }

    private func git(_ arguments: [String], in directory: URL?) async throws -> String {
        let config = [
            "-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always",
            "-c", "protocol.ssh.allow=always", "-c", "protocol.file.allow=always", "-c", "credential.helper=",
            "-c", "core.symlinks=true", "-c", "advice.detachedHead=false",
        ]
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_ASKPASS": "/bin/false", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        ]
        let outcome = try await CommandRunner().run(CommandRunner.Command(
            gitPath, config + arguments, environment: environment, workingDirectory: directory?.path, timeout: timeout))
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
