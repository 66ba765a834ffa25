import CHOMAgent
import Foundation
import Testing

/// Golden server blocks: the exact text for each kind, TLS and suspension. A change to the
/// template shows up here line by line.
@Suite("nginx server block rendering")
struct NginxSiteConfigTests {
    @Test("a static site serves current/public with try_files and denies dotfiles")
    func staticSite() throws {
        let expected = #"""
            # Managed by CHOM for example.com. Rewritten on every change: do not edit.
            server {
                listen 80;
                server_name example.com www.example.com;

                root /srv/chom/sites/example.com/current/public;
                disable_symlinks if_not_owner from=$document_root;
                index index.html index.htm;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "SAMEORIGIN" always;
                add_header Referrer-Policy "strict-origin-when-cross-origin" always;

                location ~ /\.(?!well-known/) {
                    deny all;
                }

                location / {
                    try_files $uri $uri/ =404;
                }
            }

            """#
        #expect(try NginxSiteConfig.render(HostingFixtures.spec()) == expected)
    }

    @Test("a php site passes .php to its own php-fpm socket with the resolved release path")
    func phpSite() throws {
        let spec = HostingFixtures.spec(.php(socketPath: "/run/php/chom_0123456789ab.sock"))
        let expected = #"""
            # Managed by CHOM for example.com. Rewritten on every change: do not edit.
            server {
                listen 80;
                server_name example.com www.example.com;

                root /srv/chom/sites/example.com/current/public;
                disable_symlinks if_not_owner from=$document_root;
                index index.php index.html;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "SAMEORIGIN" always;
                add_header Referrer-Policy "strict-origin-when-cross-origin" always;

                location ~ /\.(?!well-known/) {
                    deny all;
                }

                location / {
                    try_files $uri $uri/ /index.php?$query_string;
                }

                location ~ \.php$ {
                    try_files $fastcgi_script_name =404;
                    include fastcgi_params;
                    fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;
                    fastcgi_param DOCUMENT_ROOT $realpath_root;
                    fastcgi_pass unix:/run/php/chom_0123456789ab.sock;
                }
            }

            """#
        #expect(try NginxSiteConfig.render(spec) == expected)
    }

    @Test("an app site proxies to its port on loopback with the forwarding headers")
    func appSite() throws {
        let expected = #"""
            # Managed by CHOM for example.com. Rewritten on every change: do not edit.
            server {
                listen 80;
                server_name example.com www.example.com;

                root /srv/chom/sites/example.com/current/public;
                disable_symlinks if_not_owner from=$document_root;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "SAMEORIGIN" always;
                add_header Referrer-Policy "strict-origin-when-cross-origin" always;

                location ~ /\.(?!well-known/) {
                    deny all;
                }

                location / {
                    proxy_pass http://127.0.0.1:3000;
                    proxy_http_version 1.1;
                    proxy_set_header Host $host;
                    proxy_set_header X-Real-IP $remote_addr;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }
            }

            """#
        #expect(try NginxSiteConfig.render(HostingFixtures.spec(.app(port: 3000))) == expected)
    }

    @Test("TLS adds a 443 server with the certificate and HSTS, and port 80 only redirects")
    func tlsSite() throws {
        let expected = #"""
            # Managed by CHOM for example.com. Rewritten on every change: do not edit.
            server {
                listen 80;
                server_name example.com www.example.com;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                return 301 https://$host$request_uri;
            }

            server {
                listen 443 ssl http2;
                server_name example.com www.example.com;

                ssl_certificate /etc/chom/tls/example.com/fullchain.pem;
                ssl_certificate_key /etc/chom/tls/example.com/key.pem;

                root /srv/chom/sites/example.com/current/public;
                disable_symlinks if_not_owner from=$document_root;
                index index.html index.htm;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "SAMEORIGIN" always;
                add_header Referrer-Policy "strict-origin-when-cross-origin" always;
                add_header Strict-Transport-Security "max-age=31536000" always;

                location ~ /\.(?!well-known/) {
                    deny all;
                }

                location / {
                    try_files $uri $uri/ =404;
                }
            }

            """#
        #expect(try NginxSiteConfig.render(HostingFixtures.spec(tls: HostingFixtures.tls)) == expected)
    }

    @Test("a suspended site answers every request with 503 and the maintenance page, whatever its kind",
          arguments: [SiteSpec.Kind.static, .php(socketPath: "/run/php/chom_0123456789ab.sock"), .app(port: 3000)])
    func suspendedSite(kind: SiteSpec.Kind) throws {
        let expected = #"""
            # Managed by CHOM for example.com. Rewritten on every change: do not edit.
            server {
                listen 80;
                server_name example.com www.example.com;

                access_log /srv/chom/sites/example.com/logs/access.log;
                error_log /srv/chom/sites/example.com/logs/error.log;

                add_header X-Content-Type-Options "nosniff" always;
                add_header X-Frame-Options "SAMEORIGIN" always;
                add_header Referrer-Policy "strict-origin-when-cross-origin" always;

                error_page 503 @maintenance;

                location / {
                    return 503;
                }

                location @maintenance {
                    root /var/lib/chom/maintenance;
                    rewrite ^ /503.html break;
                }
            }

            """#
        #expect(try NginxSiteConfig.render(HostingFixtures.spec(kind, suspended: true)) == expected)
    }

    @Test("custom ports: the listeners use them and the redirect names a non-default HTTPS port")
    func customPorts() throws {
        var configuration = NginxSiteConfig.Configuration()
        configuration.httpPort = 8080
        configuration.httpsPort = 8443
        configuration.http2 = .directive
        let text = try NginxSiteConfig.render(HostingFixtures.spec(tls: HostingFixtures.tls), configuration: configuration)
        #expect(text.contains("    listen 8080;\n"))
        #expect(text.contains("    return 301 https://$host:8443$request_uri;\n"))
        #expect(text.contains("    listen 8443 ssl;\n    http2 on;\n"))
        #expect(!text.contains("http2;"))
    }

    @Test("the HTTP/2 syntax follows the nginx version", arguments: [
        ("nginx version: nginx/1.22.1", NginxSiteConfig.HTTP2Syntax.listenParameter),
        ("nginx version: nginx/1.25.0", .listenParameter),
        ("nginx version: nginx/1.25.1", .directive),
        ("nginx version: nginx/1.26.3 (Debian)", .directive),
        ("nginx version: nginx/2.0", .directive),
        ("nginx version: openresty/1.21.4.1", .listenParameter),
        ("", .listenParameter),
    ])
    func http2Syntax(output: String, expected: NginxSiteConfig.HTTP2Syntax) {
        #expect(NginxSiteConfig.HTTP2Syntax.forNginxVersion(output) == expected)
    }

    @Test("a spec built from the site layout uses current/public, and logs outside the tree")
    func layoutPaths() {
        let layout = SiteLayout(sitesRoot: .init(fileURLWithPath: "/srv/chom/sites"), domain: "example.com")
        let spec = SiteSpec(
            domain: "example.com", aliases: ["www.example.com"], kind: .static, layout: layout,
            logs: URL(fileURLWithPath: "/var/lib/chom-agent/logs/example.com"),
            maintenancePage: HostingFixtures.maintenancePage)
        var expected = HostingFixtures.spec()
        expected.accessLog = "/var/lib/chom-agent/logs/example.com/access.log"
        expected.errorLog = "/var/lib/chom-agent/logs/example.com/error.log"
        expected.symlinksCheckedFrom = "/srv/chom/sites/example.com/current"
        #expect(spec == expected)
        #expect(!spec.accessLog.hasPrefix(layout.site.path))
    }
}
