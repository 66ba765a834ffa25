import ArgumentParser
import CHOMAgent
import Foundation

/// How `chom-agent run` hosts sites: the system's nginx, an nginx of its own, or none.
struct HostingOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case system, managed, off
    }

    @Option(
        name: .customLong("hosting"),
        help: ArgumentHelp(
            """
            system: drive the host's nginx (server blocks in --nginx-sites-dir, which nginx.conf must include), \
            php-fpm and site users; managed: run an nginx of the agent's own under <state-dir>/nginx on --http-port \
            (several agents on one machine); off: deploys only place files (env CHOM_AGENT_HOSTING; default system).
            """, valueName: "mode"))
    var mode: Mode?

    @Option(name: .customLong("nginx-config"), help: ArgumentHelp(
        "nginx's main configuration, for nginx -t and reloads (env CHOM_AGENT_NGINX_CONFIG; default /etc/nginx/nginx.conf).",
        valueName: "file"))
    var nginxConfig: String?

    @Option(name: .customLong("nginx-sites-dir"), help: ArgumentHelp(
        "Where the agent writes one server block per site (env CHOM_AGENT_NGINX_SITES_DIR; default /etc/nginx/chom-sites).",
        valueName: "dir"))
    var nginxSitesDirectory: String?

    @Option(name: .customLong("http-port"), help: ArgumentHelp(
        "The port sites are served on (env CHOM_AGENT_HTTP_PORT; default 80).", valueName: "port"))
    var httpPort: Int?

    @Option(name: .customLong("https-port"), help: ArgumentHelp(
        "The port sites with a certificate are served on (env CHOM_AGENT_HTTPS_PORT; default 443).", valueName: "port"))
    var httpsPort: Int?

    @Option(name: .customLong("cgroup-base"), help: ArgumentHelp(
        """
        The cgroup v2 directory build hooks and app processes get a cgroup of their own in; its parent must exist \
        (env CHOM_AGENT_CGROUP_BASE; default chom-runs inside the agent's own cgroup).
        """, valueName: "dir"))
    var cgroupBase: String?

    @Option(name: .customLong("run-pids-max"), help: ArgumentHelp(
        "Processes one hook run or app may have, 0 for no limit (env CHOM_AGENT_RUN_PIDS_MAX; default 512).",
        valueName: "count"))
    var runPidsMax: Int?

    @Option(name: .customLong("run-memory-mib"), help: ArgumentHelp(
        "Memory one hook run or app may use, in MiB, 0 for no limit (env CHOM_AGENT_RUN_MEMORY_MIB; default 1024).",
        valueName: "MiB"))
    var runMemoryMiB: Int?

    @Option(name: .customLong("log-rotate-mib"), help: ArgumentHelp(
        "Rotate a site's access.log or error.log once larger than this, in MiB (env CHOM_AGENT_LOG_ROTATE_MIB; default 64).",
        valueName: "MiB"))
    var logRotateMiB: Int?

    @Option(name: .customLong("log-rotate-keep"), help: ArgumentHelp(
        "Rotated files kept per site log (.1 … .N), 0 to keep none (env CHOM_AGENT_LOG_ROTATE_KEEP; default 3).",
        valueName: "count"))
    var logRotateKeep: Int?

    @Option(name: .customLong("syslog"), help: ArgumentHelp(
        """
        Forward every site's access and error log lines and every site task's lines to this syslog collector \
        (HOST:PORT), as RFC 5424 messages over TCP with the structured data site, tenant and agent, plus task and \
        trace_id on task lines (env CHOM_AGENT_SYSLOG; default: off).
        """, valueName: "host:port"))
    var syslog: String?

    @Flag(name: .customLong("syslog-tls"), help: ArgumentHelp(
        """
        Send to the --syslog collector over TLS (RFC 5425, usually port 6514), verifying its certificate against the \
        system's roots or --syslog-ca (env CHOM_AGENT_SYSLOG_TLS=1).
        """))
    var syslogTLS = false

    @Option(name: .customLong("syslog-ca"), help: ArgumentHelp(
        "PEM file of the CA certificates the syslog collector's certificate must chain to; implies --syslog-tls (env CHOM_AGENT_SYSLOG_CA).",
        valueName: "file"))
    var syslogCA: String?

    @Option(name: .customLong("probe-interval"), help: ArgumentHelp(
        "Seconds between two health probes of every hosted site, 1 or more (env CHOM_AGENT_PROBE_INTERVAL; default 30).",
        valueName: "seconds"))
    var probeInterval: Int?

    func validate() throws {
        for (name, port) in [("--http-port", httpPort), ("--https-port", httpsPort)] {
            if let port, !(1...65535).contains(port) { throw ValidationError("\(name) must be between 1 and 65535") }
        }
        if let logRotateMiB, logRotateMiB < 1 { throw ValidationError("--log-rotate-mib must be 1 or more") }
        if let probeInterval, probeInterval < 1 { throw ValidationError("--probe-interval must be 1 second or more") }
        for (name, value) in [("--run-pids-max", runPidsMax), ("--run-memory-mib", runMemoryMiB), ("--log-rotate-keep", logRotateKeep)] {
            if let value, value < 0 { throw ValidationError("\(name) must be 0 or more") }
        }
    }

    /// Sets `configuration.hosting` from the flags, the environment and the defaults.
    func apply(to configuration: inout AgentConfiguration) throws {
        let modeText = mode?.rawValue ?? AgentOptions.environment("CHOM_AGENT_HOSTING") ?? Mode.system.rawValue
        guard let chosen = Mode(rawValue: modeText) else { throw ValidationError("unknown hosting mode '\(modeText)'") }
        guard chosen != .off else {
            configuration.hosting = nil
            return
        }
        var hosting = HostingConfiguration(stateDirectory: configuration.stateDirectory, sitesRoot: configuration.sitesRoot)
        if FileManager.default.fileExists(atPath: "/run") {
            hosting.leaseTokensDirectory = HostingConfiguration.runtimeLeaseDirectory(stateDirectory: configuration.stateDirectory)
        }
        let http = try httpPort ?? AgentOptions.environment("CHOM_AGENT_HTTP_PORT").map { try Self.port($0) } ?? 80
        let https = try httpsPort ?? AgentOptions.environment("CHOM_AGENT_HTTPS_PORT").map { try Self.port($0) } ?? 443
        switch chosen {
        case .managed:
            hosting.manageNginx(
                in: configuration.stateDirectory.appendingPathComponent("nginx", isDirectory: true), httpPort: http,
                httpsPort: https)
        case .system, .off:
            hosting.site.httpPort = http
            hosting.site.httpsPort = https
            if let file = nginxConfig ?? AgentOptions.environment("CHOM_AGENT_NGINX_CONFIG") { hosting.nginx.mainConfig = file }
            if let directory = nginxSitesDirectory ?? AgentOptions.environment("CHOM_AGENT_NGINX_SITES_DIR") {
                hosting.nginx.sitesDirectory = directory
            }
        }
        if let base = cgroupBase ?? AgentOptions.environment("CHOM_AGENT_CGROUP_BASE") { hosting.cgroups.base = base }
        if let pids = try runPidsMax ?? AgentOptions.environment("CHOM_AGENT_RUN_PIDS_MAX").map({ try Self.count($0) }) {
            hosting.cgroups.pidsMax = pids == 0 ? nil : pids
        }
        if let mib = try runMemoryMiB ?? AgentOptions.environment("CHOM_AGENT_RUN_MEMORY_MIB").map({ try Self.count($0) }) {
            hosting.cgroups.memoryMax = mib == 0 ? nil : mib << 20
        }
        if let mib = try logRotateMiB ?? AgentOptions.environment("CHOM_AGENT_LOG_ROTATE_MIB").map({ try Self.count($0) }) {
            guard mib >= 1 else { throw ValidationError("the log rotation size must be 1 MiB or more") }
            hosting.logRotation.maxBytes = Int64(mib) << 20
        }
        if let keep = try logRotateKeep ?? AgentOptions.environment("CHOM_AGENT_LOG_ROTATE_KEEP").map({ try Self.count($0) }) {
            hosting.logRotation.keep = keep
        }
        configuration.hosting = hosting
        if let seconds = try probeInterval ?? AgentOptions.environment("CHOM_AGENT_PROBE_INTERVAL").map({ try Self.count($0) }) {
            guard seconds >= 1 else { throw ValidationError("the probe interval must be 1 second or more") }
            configuration.siteProbe.interval = .seconds(seconds)
        }
        if let text = syslog ?? AgentOptions.environment("CHOM_AGENT_SYSLOG") {
            guard let address = CoordinatorAddress(parsing: text) else {
                throw ValidationError("--syslog \(text) is not HOST:PORT")
            }
            let caFile = syslogCA ?? AgentOptions.environment("CHOM_AGENT_SYSLOG_CA")
            let tlsOn = syslogTLS || caFile != nil || ["1", "true", "yes"].contains(AgentOptions.environment("CHOM_AGENT_SYSLOG_TLS") ?? "")
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw ValidationError("--syslog-ca \(caFile) is not a readable file")
            }
            configuration.logForwarding = LogForwarderService.Configuration(
                host: address.host, port: address.port, tls: tlsOn ? LogForwarderService.TLS(caFile: caFile) : nil)
        } else if syslogTLS || syslogCA != nil {
            throw ValidationError("--syslog-tls and --syslog-ca need --syslog HOST:PORT")
        }
    }

    private static func count(_ text: String) throws -> Int {
        guard let value = Int(text), value >= 0 else { throw ValidationError("'\(text)' is not a count") }
        return value
    }

    private static func port(_ text: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw ValidationError("'\(text)' is not a port") }
        return port
    }
}
