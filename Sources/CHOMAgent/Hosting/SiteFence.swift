package import CHOMCore
package import Foundation

/// The agent's fence: one root-owned file beside the site configurations (`chom-fence.inc`, not
/// matched by their `*.conf`) that every server block serving a site's content includes first.
///
/// It is in one of three modes:
/// - **open**: a comment; no lease (failover is off), the sites are served.
/// - **leased**: the sites are served while nginx finds a **lease token** for the current second:
///   an empty file named by the Unix second in its tokens directory (on /run), which the agent writes
///   ahead for every second its lease covers. nginx checks it on every request (one `stat`), so an
///   agent that is killed, stopped or hung fences its sites anyway, within its lease, with no
///   reload: the tokens simply run out.
/// - **fenced**: every request answers 503 and the maintenance page before any location is chosen.
///
/// One file for every site: a mode change is one `nginx -t` and one reload, and it survives a
/// reboot (nginx starts with the file as it was left).
package struct SiteFence: Sendable {
    /// The include's path.
    package let path: String
    /// The 503 page (root's, outside every site tree).
    package let maintenancePage: String
    let nginx: NginxController

    /// The lease tokens' directory (root's, 0755, where nginx's workers can look whether a file
    /// exists: not under a 0700 state directory).
    package let tokensDirectory: String

    package enum Mode: Sendable, Equatable {
        case open
        case leased
        case fenced
    }

    package init(nginx: NginxController, maintenancePage: String, tokensDirectory: String) {
        self.nginx = nginx
        self.maintenancePage = maintenancePage
        self.tokensDirectory = tokensDirectory
        path = nginx.configuration.sitesDirectory + "/chom-fence.inc"
    }

    static let openMarker = "# Unfenced: this agent holds its site lease."
    static let leasedMarker = "# Leased: sites are served while a lease token for the current second exists."
    static let fencedMarker = "# Fenced: this agent has lost its site lease; every site answers 503."

    /// The file's text for a mode.
    package func text(_ mode: Mode) -> String {
        // The page was validated by SiteSpec.checkPath when the site configurations were rendered.
        let maintenance = ["error_page 503 @chom_fenced;"]
            + NginxSiteConfig.maintenanceLocation("@chom_fenced", page: maintenancePage)
        let lines: [String]
        switch mode {
        case .open:
            lines = [Self.openMarker]
        case .leased:
            // First the fenced marker: an agent older than the tokens (a rollback) reads the file as
            // fenced and writes its open one at its first answer, rather than reading it as open
            // and leaving every site to answer 503 for want of tokens it never writes.
            lines = [Self.fencedMarker, Self.leasedMarker] + maintenance + [
                "set $chom_lease_second none;",
                #"if ($msec ~ "^([0-9]+)\.") {"#,
                "    set $chom_lease_second $1;",
                "}",
                "if (!-f \(tokensDirectory)/$chom_lease_second) {",
                "    return 503;",
                "}",
            ]
        case .fenced:
            lines = [Self.fencedMarker] + maintenance + ["return 503;"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The file's text for a state (open or fenced).
    package func text(fenced: Bool) -> String { text(fenced ? .fenced : .open) }

    /// The mode of the file on disk: nil when there is no file yet.
    package func mode() throws(CHOMError) -> Mode? {
        guard let text = try AtomicFile.read(path) else { return nil }
        if text.hasPrefix(Self.fencedMarker + "\n" + Self.leasedMarker) { return .leased }
        return text.hasPrefix(Self.fencedMarker) ? .fenced : .open
    }

    /// What the file on disk says: nil when there is no file yet.
    package func isFenced() throws(CHOMError) -> Bool? {
        try mode().map { $0 == .fenced }
    }

    /// The most tokens written ahead (an hour of lease).
    static let maximumTokens = 3600

    /// The Unix seconds whose tokens must exist for a lease held until `deadline` (real time, as
    /// nginx reads it): every second that ends by the deadline, from the current one. A second
    /// that would end after it has no token, so nginx fences up to a second before the agent does.
    package static func tokenSeconds(now: Date, deadline: Date) -> ClosedRange<Int64>? {
        let first = Int64(now.timeIntervalSince1970.rounded(.down))
        let last = min(Int64(deadline.timeIntervalSince1970.rounded(.down)) - 1, first + Int64(maximumTokens) - 1)
        return last >= first ? first...last : nil
    }

    /// Writes the tokens for a lease held until `deadline` and removes those of past seconds
    /// (one second back is kept, for a request that read the clock just before it turned).
    /// Root's directory, not a tenant path; names are digits only.
    package func renewTokens(until deadline: Date, now: Date = Date()) throws(CHOMError) {
        try SiteSpec.checkPath(tokensDirectory, .fenceInclude, as: "the lease tokens' directory")
        do {
            try FileManager.default.createDirectory(  // not a tenant path: root's token directory (/run or the sites root), beside the trees
                atPath: tokensDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let wanted = Self.tokenSeconds(now: now, deadline: deadline)
            let keepFrom = Int64(now.timeIntervalSince1970.rounded(.down)) - 1
            var present = Set<Int64>()
            for name in try FileManager.default.contentsOfDirectory(atPath: tokensDirectory) {  // not a tenant path: root's token directory
                guard let second = Int64(name), String(second) == name, second >= keepFrom,
                    second <= (wanted?.upperBound ?? keepFrom)
                else {
                    try? FileManager.default.removeItem(atPath: tokensDirectory + "/" + name)  // not a tenant path: root's token directory
                    continue
                }
                present.insert(second)
            }
            for second in wanted.map(Array.init) ?? [] where !present.contains(second) {
                let made = FileManager.default.createFile(  // not a tenant path: root's token directory (/run or the sites root), beside the trees
                    atPath: tokensDirectory + "/\(second)", contents: nil, attributes: [.posixPermissions: 0o644])
                if !made { throw CHOMError(.unavailable, "cannot write the lease token \(second) in \(tokensDirectory)") }
            }
        } catch let error as CHOMError {
            throw error
        } catch {
            throw CHOMError(.unavailable, "cannot renew the lease tokens in \(tokensDirectory)", underlying: error)
        }
    }

    /// Removes every token (a fence that is up, or no lease any more).
    package func dropTokens() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tokensDirectory)) ?? []  // not a tenant path: root's token directory
        for name in names { try? FileManager.default.removeItem(atPath: tokensDirectory + "/" + name) }  // not a tenant path: root's token directory
    }

    /// Creates the unfenced file when there is none, so that site configurations including it pass
    /// `nginx -t`; an existing file is kept as it is (a fence left by a previous run holds).
    package func ensure() throws(CHOMError) {
        guard try AtomicFile.read(path) == nil else { return }
        do {
            try FileManager.default.createDirectory(  // not a tenant path: nginx's configuration directory
                atPath: nginx.configuration.sitesDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        } catch {
            throw CHOMError(.unavailable, "cannot create \(nginx.configuration.sitesDirectory)", underlying: error)
        }
        try AtomicFile.write(text(fenced: false), to: path)  // not a tenant path: nginx's configuration directory
    }

    /// Fences or unfences every site: the file, `nginx -t`, reload (also when the file already
    /// says so: a reload that failed before must not pass for a fence nginx runs).
    @discardableResult
    package func set(fenced: Bool) async throws(CHOMError) -> ReloadOutcome {
        try await set(fenced ? .fenced : .open)
    }

    /// Writes the file in `mode`, `nginx -t`, reload (also when unchanged, as ``set(fenced:)``).
    /// Leased: write the tokens first, or the sites answer 503 until they exist.
    @discardableResult
    package func set(_ mode: Mode) async throws(CHOMError) -> ReloadOutcome {
        // The directory goes into nginx's text: checked as every path rendered there is.
        if mode == .leased { try SiteSpec.checkPath(tokensDirectory, .fenceInclude, as: "the lease tokens' directory") }
        let change = switch mode {
        case .fenced: "the site fence"
        case .leased: "the site fence's lease tokens"
        case .open: "the removal of the site fence"
        }
        return try await nginx.installShared(path: path, text: text(mode), change: change, reloadUnchanged: true)
    }
}
