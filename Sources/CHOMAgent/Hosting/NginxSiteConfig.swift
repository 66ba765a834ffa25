/// One site's nginx server block(s), rendered from a single template.
///
/// Every value is validated first (``SiteSpec/validate()``), so what reaches the text is a
/// lowercase DNS name, a port or an absolute path of `[A-Za-z0-9._+@/-]`: nothing a value holds
/// can end a directive, open a block, start a comment or expand a variable.
///
/// The shape:
/// - `listen`, `server_name` (domain, then aliases), `root`, `index`, the site's own
///   `access_log` and `error_log`;
/// - security headers on every response (`always`): `X-Content-Type-Options: nosniff`,
///   `X-Frame-Options: SAMEORIGIN`, `Referrer-Policy: strict-origin-when-cross-origin`, and with
///   TLS `Strict-Transport-Security` (no `includeSubDomains`);
/// - dotfiles (`.env`, `.git/`) are denied, except `/.well-known/`;
/// - static: `try_files`; php: `\.php$` to the site's php-fpm socket with
///   `SCRIPT_FILENAME $realpath_root$fastcgi_script_name` (the resolved release, so a switch of
///   `current` is seen by the next request); app: a proxy to `127.0.0.1:<port>`;
/// - with TLS, the HTTP server only redirects (301) to HTTPS;
/// - suspended: every request answers 503 with the maintenance page, nothing else is reachable;
/// - with a fence include (``Configuration/fenceInclude``), a site's content is served only while
///   the agent holds its site lease (``SiteFence``).
///
/// The php location includes `fastcgi_params` from nginx's configuration directory (Debian's
/// `/etc/nginx/fastcgi_params`). The http block should raise `server_names_hash_bucket_size`
/// (128) for long domain names.
package enum NginxSiteConfig {
    /// `Strict-Transport-Security` max-age: one year.
    package static let hstsMaxAgeSeconds = 31_536_000

    /// The server block text, ending in a newline. Throws before rendering when any value is
    /// refused.
    package static func render(
        _ spec: SiteSpec, configuration: Configuration = Configuration()
    ) throws(SiteSpecError) -> String {
        try configuration.validate()
        try spec.validate()
        let names = spec.serverNames.joined(separator: " ")
        var lines = ["# Managed by CHOM for \(spec.domain). Rewritten on every change: do not edit."]
        if let tls = spec.tls {
            let port = configuration.httpsPort == 443 ? "" : ":\(configuration.httpsPort)"
            lines += ["server {", "    listen \(configuration.httpPort);", "    server_name \(names);", ""]
            lines += logLines(spec)
            lines += ["", "    return 301 https://$host\(port)$request_uri;", "}", ""]
            lines.append("server {")
            switch configuration.http2 {
            case .listenParameter:
                lines.append("    listen \(configuration.httpsPort) ssl http2;")
            case .directive:
                lines += ["    listen \(configuration.httpsPort) ssl;", "    http2 on;"]
            }
            lines += [
                "    server_name \(names);", "",
                "    ssl_certificate \(tls.certificatePath);",
                "    ssl_certificate_key \(tls.keyPath);", "",
            ]
        } else {
            lines += ["server {", "    listen \(configuration.httpPort);", "    server_name \(names);", ""]
        }
        if let forward = spec.forwardTo {
            guard SiteSpec.isForwardAddress(forward) else {
                throw SiteSpecError(field: .forwardTo, reason: "not an IP address and port")
            }
            lines += forwardBody(spec, to: forward, configuration: configuration)
        } else {
            if !spec.suspended, let fence = configuration.fenceInclude {
                // Before everything else: a fenced agent answers 503 before any location is chosen.
                lines += ["    include \(fence);", ""]
            }
            lines += spec.suspended ? suspendedBody(spec) : siteBody(spec)
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func logLines(_ spec: SiteSpec) -> [String] {
        ["    access_log \(spec.accessLog);", "    error_log \(spec.errorLog);"]
    }

    private static func headerLines(_ spec: SiteSpec) -> [String] {
        var lines = [
            #"    add_header X-Content-Type-Options "nosniff" always;"#,
            #"    add_header X-Frame-Options "SAMEORIGIN" always;"#,
            #"    add_header Referrer-Policy "strict-origin-when-cross-origin" always;"#,
        ]
        if spec.tls != nil {
            lines.append(#"    add_header Strict-Transport-Security "max-age=\#(hstsMaxAgeSeconds)" always;"#)
        }
        return lines
    }

    private static func siteBody(_ spec: SiteSpec) -> [String] {
        // Past `from` (the site's root-owned `current`), nginx opens nothing through a symlink whose
        // owner differs from its target's: a tenant's link to another site's tree or to a root
        // file is refused, the public directory itself included.
        let from = spec.symlinksCheckedFrom ?? "$document_root"
        var lines = ["    root \(spec.root);", "    disable_symlinks if_not_owner from=\(from);"]
        switch spec.kind {
        case .static: lines.append("    index index.html index.htm;")
        case .php: lines.append("    index index.php index.html;")
        case .app: break
        }
        lines += [""] + logLines(spec) + [""] + headerLines(spec) + [""]
        lines += [#"    location ~ /\.(?!well-known/) {"#, "        deny all;", "    }", ""]
        switch spec.kind {
        case .static:
            lines += ["    location / {", "        try_files $uri $uri/ =404;", "    }"]
        case .php(let socketPath):
            lines += [
                "    location / {",
                "        try_files $uri $uri/ /index.php?$query_string;",
                "    }",
                "",
                #"    location ~ \.php$ {"#,
                "        try_files $fastcgi_script_name =404;",
                "        include fastcgi_params;",
                "        fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;",
                "        fastcgi_param DOCUMENT_ROOT $realpath_root;",
                "        fastcgi_pass unix:\(socketPath);",
                "    }",
            ]
        case .app(let port):
            lines += [
                "    location / {",
                "        proxy_pass http://127.0.0.1:\(port);",
                "        proxy_http_version 1.1;",
                "        proxy_set_header Host $host;",
                "        proxy_set_header X-Real-IP $remote_addr;",
                "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "        proxy_set_header X-Forwarded-Proto $scheme;",
                "    }",
            ]
        }
        return lines
    }

    /// A migrated site's old host until DNS caches expire: every request goes to the new host,
    /// with the Host header kept. A TLS site is forwarded to the new host's HTTPS port (this
    /// host's, as the fleet serves HTTPS on one port), naming the site for SNI.
    private static func forwardBody(_ spec: SiteSpec, to forward: String, configuration: Configuration) -> [String] {
        var target = "http://\(forward)"
        var tlsLines: [String] = []
        if spec.tls != nil, let colon = forward.lastIndex(of: ":") {
            target = "https://\(forward[..<colon]):\(configuration.httpsPort)"
            tlsLines = ["        proxy_ssl_server_name on;", "        proxy_ssl_name $host;"]
        }
        return logLines(spec) + [""] + headerLines(spec) + [
            "",
            "    location / {",
            "        proxy_pass \(target);",
            "        proxy_http_version 1.1;",
            "        proxy_set_header Host $host;",
            "        proxy_set_header X-Real-IP $remote_addr;",
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "        proxy_set_header X-Forwarded-Proto $scheme;",
        ] + tlsLines + ["    }"]
    }

    /// No root and no regex location: `location /` matches every URI and returns 503, whose
    /// error page is the maintenance file, served from its own directory under status 503.
    private static func suspendedBody(_ spec: SiteSpec) -> [String] {
        logLines(spec) + [""] + headerLines(spec) + [
            "",
            "    error_page 503 @maintenance;",
            "",
            "    location / {",
            "        return 503;",
            "    }",
            "",
        ] + maintenanceLocation("@maintenance", page: spec.maintenancePage).map { "    " + $0 }
    }

    /// A named location that serves the maintenance page `page` (an absolute path, validated by
    /// ``SiteSpec/checkPath(_:_:)``) from its own directory, unindented: a suspended site's and
    /// the agent's fence (``SiteFence``).
    package static func maintenanceLocation(_ name: String, page: String) -> [String] {
        let slash = page.lastIndex(of: "/") ?? page.startIndex
        let directory = slash == page.startIndex ? "/" : String(page[..<slash])
        let file = String(page[slash...])
        return ["location \(name) {", "    root \(directory);", "    rewrite ^ \(file) break;", "}"]
    }
}
