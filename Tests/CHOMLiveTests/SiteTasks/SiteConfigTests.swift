import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import SwiftProtobuf
import CHOMTesting
import CHOMTransport
import Foundation
import Testing

@Suite("Site configuration and deploys: validation, storage, the typed tasks sent", .serialized)
struct SiteConfigTests {
    static let invalid: [(String, String)] = [
        (#"{"kind": "java"}"#, "kind must be static, php or app"),
        (#"{"kind": "static", "aliases": ["not a domain"]}"#, "is not a valid domain"),
        (#"{"kind": "static", "aliases": ["www.tasks.test"]}"#, "the site's own domain"),
        (#"{"kind": "app", "appCommand": "node server.js"}"#, "appPort from 1024 to 65535"),
        (#"{"kind": "app", "appPort": 80, "appCommand": "node server.js"}"#, "appPort from 1024 to 65535"),
        (#"{"kind": "app", "appPort": 3000}"#, "appCommand"),
        (#"{"kind": "static", "appPort": 3000}"#, "for kind 'app' only"),
        (#"{"kind": "php", "sharedPaths": ["../etc"]}"#, "must be relative"),
        (#"{"kind": "php", "sharedPaths": ["/etc/passwd"]}"#, "must be relative"),
        (#"{"kind": "php", "sharedPaths": ["a/./b"]}"#, "must be relative"),
        (#"{"kind": "static", "hooks": [{"name": "build", "command": "make", "timeoutSeconds": 0}]}"#, "from 1 to 3600"),
        (#"{"kind": "static", "hooks": [{"name": "build", "command": "make", "timeoutSeconds": 3601}]}"#, "from 1 to 3600"),
        (#"{"kind": "static", "hooks": [{"name": "a b", "command": "make"}]}"#, "name must be"),
        (#"{"kind": "static", "hooks": [{"name": "build", "command": ""}]}"#, "command must be"),
        (#"{"kind": "static", "healthCheck": {"path": "health"}}"#, "healthCheck.path"),
        (#"{"kind": "static", "healthCheck": {"path": "/", "expectedStatus": 99}}"#, "expectedStatus"),
        (#"{"kind": "static", "keepReleases": 0}"#, "keepReleases"),
        (#"{"kind": "static", "keepReleases": 51}"#, "keepReleases"),
        (#"{"kind": "static", "publicDirectory": "../"}"#, "publicDirectory"),
        (#"{"kind": "static", "tlsCertificate": "x"}"#, "together"),
        (#"{"kind": "static", "tlsCertificate": "x", "tlsPrivateKey": "y"}"#, "PEM certificates"),
        (#"{"kind": "static", "state": "active"}"#, "unknown field 'state'"),
    ]

    @Test("an invalid configuration answers 400 naming what is wrong, and nothing is stored or sent")
    func invalidConfigurations() async throws {
        try await SiteTaskWorld.with { world in
            let hooks = (0..<21).map { #"{"name": "h\#($0)", "command": "true"}"# }.joined(separator: ",")
            let cases = Self.invalid + [(#"{"kind": "static", "hooks": [\#(hooks)]}"#, "at most 20 hooks")]
            for (json, fragment) in cases {
                let reply = try await TestHTTP.request(
                    "PUT", world.coordinator.apiURL.appending(path: "/v1/sites/\(world.site)/config"), token: world.owner,
                    body: Data(json.utf8))
                #expect(reply.status == 400, "\(json): \(reply.status) \(reply.text)")
                #expect(IdentityFixtures.detail(reply).contains(fragment), "\(json): \(reply.text)")
            }
            // A key that is not the certificate's.
            let one = try FleetCA.create(commonName: "one.tasks.test", now: Date())
            let other = try FleetCA.create(commonName: "other.tasks.test", now: Date())
            let mismatch = try await world.send(
                "PUT", "/v1/sites/\(world.site)/config",
                json: ["kind": "static", "tlsCertificate": one.certificatePEM, "tlsPrivateKey": other.privateKeyPEM])
            #expect(mismatch.status == 400 && IdentityFixtures.detail(mismatch).contains("not the key"), "\(mismatch.text)")
            #expect(try await world.tasks(kind: "configure").isEmpty)
            #expect(try await world.count("SELECT count(*) FROM sites WHERE config <> '{}' OR tls_key_sealed IS NOT NULL") == 0)
        }
    }

    @Test("a valid configuration is stored and sent whole in a configure task; the TLS key is sealed and never answered")
    func validConfiguration() async throws {
        try await SiteTaskWorld.with { world in
            let tls = try FleetCA.create(commonName: "www.tasks.test", now: Date())
            let keyBody = tls.privateKeyPEM.split(separator: "\n").dropFirst().dropLast().joined()
            let hook: [String: any Sendable] = ["name": "build", "command": "npm ci && npm run build", "timeoutSeconds": 900]
            let health: [String: any Sendable] = ["path": "/health"]
            let reply = try await world.send(
                "PUT", "/v1/sites/\(world.site)/config",
                json: [
                    "kind": "app", "aliases": ["Tasks.Example"], "appPort": 3000, "appCommand": "node server.js",
                    "sharedPaths": ["storage/", ".env"], "hooks": [hook], "healthCheck": health, "keepReleases": 3,
                    "tlsCertificate": tls.certificatePEM, "tlsPrivateKey": tls.privateKeyPEM,
                ])
            #expect(reply.status == 200, "\(reply.text)")
            let answer = try APIJSON.decoder().decode(SiteTaskResponse.self, from: Data(reply.text.utf8))
            #expect(answer.site.kind == "app")
            #expect(answer.site.config.aliases == ["tasks.example"])
            #expect(answer.site.config.healthCheck == HealthCheckBody(path: "/health", expectedStatus: 200, timeoutMs: 5000))
            #expect(answer.site.config.tlsCertificate == tls.certificatePEM)
            #expect(answer.task.kind == "configure" && answer.task.state == "queued")
            let task = try await world.payload(answer.task.id)
            let site = task.configure.site
            #expect(site.siteID == world.site && site.domain == "www.tasks.test" && site.kind == .app)
            #expect(site.aliases == ["tasks.example"] && site.appPort == 3000 && site.appCommand == "node server.js")
            #expect(site.sharedPaths == ["storage/", ".env"] && site.keepReleases == 3)
            #expect(site.hooks.map(\.name) == ["build"] && site.hooks[0].timeoutSeconds == 900)
            #expect(site.healthCheck.path == "/health" && site.healthCheck.expectedStatus == 200)
            #expect(site.tls.privateKeyPem == tls.privateKeyPEM, "the agent gets the key inside the signed task")
            // Stored sealed; never in an answer or the audit log.
            #expect(try await world.count(
                "SELECT count(*) FROM sites WHERE tls_key_sealed LIKE 'chomsec:v1:%' AND tls_key_sealed NOT LIKE '%PRIVATE%'") == 1)
            var texts = [reply.text]
            for path in ["/v1/sites/\(world.site)", "/v1/sites", "/v1/tasks/\(answer.task.id)", "/v1/audit?limit=200"] {
                texts.append(try await world.send("GET", path).text)
            }
            texts.append(try await world.send("GET", "/v1/audit?limit=200", token: world.coordinator.operatorToken).text)
            for text in texts {
                #expect(!text.contains("PRIVATE KEY") && !text.contains(String(keyBody.prefix(40))))
                #expect(!text.contains("tlsPrivateKey") && !text.contains("tls_key"))
            }
            // Neither TLS field: the certificate is kept; both empty: removed.
            let kept = try await world.send("PUT", "/v1/sites/\(world.site)/config", json: ["kind": "static"])
            #expect(kept.status == 200 && kept.text.contains("BEGIN CERTIFICATE"), "\(kept.text)")
            let removed = try await world.send(
                "PUT", "/v1/sites/\(world.site)/config", json: ["kind": "static", "tlsCertificate": "", "tlsPrivateKey": ""])
            #expect(removed.status == 200 && !removed.text.contains("BEGIN CERTIFICATE"), "\(removed.text)")
            #expect(try await world.count("SELECT count(*) FROM sites WHERE tls_key_sealed IS NOT NULL") == 0)
        }
    }

    @Test("git deploys check the URL and ref, and carry the site's configuration")
    func gitDeploys() async throws {
        try await SiteTaskWorld.with { world in
            let path = "/v1/sites/\(world.site)/deploy"
            for git in [
                ["url": "http://example.test/repo.git", "ref": "main"],
                ["url": "https://user:secret@example.test/repo.git", "ref": "main"],
                ["url": "-oProxyCommand=evil", "ref": "main"],
                ["url": "https://example.test/repo.git", "ref": "--upload-pack=evil"],
                ["url": "https://example.test/repo.git", "ref": "a..b"],
                ["url": "https://example.test/repo.git", "ref": "main branch"],
            ] {
                let reply = try await world.send("POST", path, json: ["git": git])
                #expect(reply.status == 400, "\(git): \(reply.text)")
            }
            let both = try await world.send(
                "POST", path, json: ["releaseId": world.organization.releaseID, "git": ["url": "file:///srv/r", "ref": "v1"]])
            #expect(both.status == 400)
            #expect(try await world.send("POST", path, json: [:]).status == 400)
            let before = try await world.tasks(kind: "deploy").count
            for (url, ref) in [
                ("https://git.example.test/acme/site.git", "release/1.2"), ("git@git.example.test:acme/site.git", "v1.2.3"),
                ("file:///srv/git/site.git", "0123abcd"),
            ] {
                let reply = try await world.send("POST", path, json: ["git": ["url": url, "ref": ref]])
                #expect(reply.status == 202, "\(url): \(reply.text)")
                let task = try await world.payload(try #require(try reply.json()["id"] as? String))
                #expect(task.deploy.git.url == url && task.deploy.git.ref == ref)
                #expect(task.deploy.site.domain == "www.tasks.test" && task.deploy.site.siteID == world.site)
                #expect(task.deploy.artifactSha256.isEmpty && ReleaseID(task.deploy.releaseID) != nil)
            }
            #expect(try await world.tasks(kind: "deploy").count == before + 3)
            // An uploaded release's deploy carries the configuration too.
            let upload = try await world.send("POST", path, json: ["releaseId": world.organization.releaseID])
            let task = try await world.payload(try #require(try upload.json()["id"] as? String))
            #expect(task.deploy.site.siteID == world.site && task.deploy.releaseID == world.organization.releaseID)
        }
    }
}
