import CHOMAgent
import Testing

/// Every string that reaches the server block is checked before rendering: nothing a value holds
/// may end a directive, open a block, start a comment, expand a variable or break a line.
@Suite("nginx config injection is refused")
struct NginxInjectionTests {
    /// The spec's string fields, each with a clean value an attack is appended to.
    enum StringField: CaseIterable, Sendable, CustomTestStringConvertible {
        case domain, alias, root, accessLog, errorLog, phpSocket, certificate, certificateKey, maintenancePage

        var testDescription: String { "\(expectedField)" }

        var expectedField: SiteSpecError.Field {
            switch self {
            case .domain: .domain
            case .alias: .alias(1)
            case .root: .root
            case .accessLog: .accessLog
            case .errorLog: .errorLog
            case .phpSocket: .phpSocket
            case .certificate: .certificate
            case .certificateKey: .certificateKey
            case .maintenancePage: .maintenancePage
            }
        }

        /// A php site with TLS and two aliases, with `value` in this field.
        func spec(_ value: String) -> SiteSpec {
            var socket = "/run/php/chom_0123456789ab.sock"
            var spec = HostingFixtures.spec(tls: HostingFixtures.tls)
            spec.aliases = ["www.example.com", "shop.example.com"]
            switch self {
            case .domain: spec.domain = value
            case .alias: spec.aliases[1] = value
            case .root: spec.root = value
            case .accessLog: spec.accessLog = value
            case .errorLog: spec.errorLog = value
            case .phpSocket: socket = value
            case .certificate: spec.tls?.certificatePath = value
            case .certificateKey: spec.tls?.keyPath = value
            case .maintenancePage: spec.maintenancePage = value
            }
            spec.kind = .php(socketPath: socket)
            return spec
        }

        /// The clean value: a name for the name fields, a path for the others.
        var clean: String {
            switch self {
            case .domain: "example.com"
            case .alias: "shop.example.com"
            default: "/srv/chom/sites/example.com/x"
            }
        }
    }

    /// A hostile fragment, named so test output stays on one line.
    struct Attack: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var testDescription: String { name }
    }

    static let attacks = [
        Attack(name: "`; include /etc/passwd`", text: "; include /etc/passwd"),
        Attack(name: "a double quote", text: "\""),
        Attack(name: "a single quote", text: "'"),
        Attack(name: "a newline", text: "\n"),
        Attack(name: "a carriage return", text: "\r"),
        Attack(name: "a tab", text: "\t"),
        Attack(name: "a space", text: " "),
        Attack(name: "NUL", text: "\u{0}"),
        Attack(name: "`$host`", text: "$host"),
        Attack(name: "`{`", text: "{"),
        Attack(name: "`}`", text: "}"),
        Attack(name: "`#` (a comment)", text: "#"),
        Attack(name: "a backslash", text: "\\"),
        Attack(name: "a new location block", text: ";\n    location / { root /; }"),
        Attack(name: "a no-break space", text: "\u{00A0}"),
        Attack(name: "a line separator", text: "\u{2028}"),
    ]

    @Test("the clean specimen renders: the refusals below are about the attack, not the base")
    func cleanSpecRenders() throws {
        for field in StringField.allCases {
            _ = try NginxSiteConfig.render(field.spec(field.clean))
        }
    }

    @Test("an attack appended to any string field is refused, naming that field",
          arguments: StringField.allCases, attacks)
    func appendedAttack(field: StringField, attack: Attack) {
        let error = #expect(throws: SiteSpecError.self) {
            try NginxSiteConfig.render(field.spec(field.clean + attack.text))
        }
        #expect(error?.field == field.expectedField)
    }

    @Test("the attacks named in the brief are refused, each on its own field", arguments: [
        (StringField.domain, "example.com; include /etc/passwd"),
        (.root, "/srv/chom/sites/\"example.com/current/public"),
        (.root, "/srv/chom/sites/example.com\n    include /etc/passwd;"),
        (.accessLog, "/var/log/$host.log"),
        (.alias, "www example.com"),
        (.alias, "evil.com;"),
        (.phpSocket, "/run/php/x.sock;\n}\nserver {"),
        (.maintenancePage, "/var/lib/chom/$request_uri"),
    ])
    func namedAttacks(field: StringField, value: String) {
        let error = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(field.spec(value)) }
        #expect(error?.field == field.expectedField)
    }

    @Test("a refusal's description names the field and never echoes the value")
    func descriptionHidesValue() throws {
        let error = #expect(throws: SiteSpecError.self) {
            try NginxSiteConfig.render(StringField.root.spec("/srv/a\ninclude /etc/passwd;"))
        }
        let text = try #require(error).description
        #expect(text == "invalid site spec: root: holds U+000A, outside the path characters [A-Za-z0-9._+@/-]")
        #expect(!text.contains("passwd"))
    }

    @Test("paths must be absolute and normalised", arguments: [
        "", "srv/site", "./srv", "/srv//site", "/srv/site/", "/srv/../etc", "/srv/./site", "/", "..",
        "/" + String(repeating: "a", count: 4096),
    ])
    func pathShape(path: String) {
        for field in [StringField.root, .accessLog, .errorLog, .phpSocket, .certificate, .certificateKey, .maintenancePage] {
            let error = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(field.spec(path)) }
            #expect(error?.field == field.expectedField)
        }
    }

    @Test("names must be lowercase DNS names, once each", arguments: [
        (StringField.domain, "Example.com"), (.domain, ""), (.domain, "*.example.com"), (.domain, "_"),
        (.domain, "~^(?<x>.+)$"), (.alias, "example.com"), (.alias, "www.example.com"), (.alias, "-x.example.com"),
        (.alias, "exa_mple.com"), (.alias, "example.com."),
    ])
    func names(field: StringField, value: String) {
        let error = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(field.spec(value)) }
        #expect(error?.field == field.expectedField)
    }

    @Test("a php socket longer than sun_path allows is refused")
    func socketLength() throws {
        let fits = "/run/php/" + String(repeating: "s", count: 107 - 9)
        _ = try NginxSiteConfig.render(StringField.phpSocket.spec(fits))
        let error = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(StringField.phpSocket.spec(fits + "s")) }
        #expect(error?.field == .phpSocket)
    }

    @Test("ports must lie in 1–65535", arguments: [0, -1, 65_536, Int.max, Int.min])
    func ports(port: Int) {
        let app = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(HostingFixtures.spec(.app(port: port))) }
        #expect(app?.field == .appPort)

        var http = NginxSiteConfig.Configuration()
        http.httpPort = port
        let httpError = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(HostingFixtures.spec(), configuration: http) }
        #expect(httpError?.field == .httpPort)

        var https = NginxSiteConfig.Configuration()
        https.httpsPort = port
        let httpsError = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(HostingFixtures.spec(), configuration: https) }
        #expect(httpsError?.field == .httpsPort)
    }

    @Test("the edge ports and a shared HTTP/HTTPS port", arguments: [1, 65_535])
    func edgePorts(port: Int) throws {
        let text = try NginxSiteConfig.render(HostingFixtures.spec(.app(port: port)))
        #expect(text.contains("proxy_pass http://127.0.0.1:\(port);"))
        var same = NginxSiteConfig.Configuration()
        same.httpsPort = same.httpPort
        let error = #expect(throws: SiteSpecError.self) { try NginxSiteConfig.render(HostingFixtures.spec(), configuration: same) }
        #expect(error?.field == .httpsPort)
    }
}
