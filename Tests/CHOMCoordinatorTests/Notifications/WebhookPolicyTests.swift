import CHOMAPI
import CHOMCore
import CHOMStore
@testable import CHOMCoordinator
import Foundation
import Testing

@Suite("Webhook channels: which URLs, which addresses, which events; what a site notice says")
struct WebhookPolicyTests {
    let strict = WebhookAddressPolicy()
    let open = WebhookAddressPolicy(allowPrivateAddresses: true, allowPlainHTTP: true)

    @Test("by default only https URLs naming public hosts; no credentials, fragments or local names")
    func urls() throws {
        #expect(try strict.check(url: "https://hooks.example.com/chom?x=1").absoluteString == "https://hooks.example.com/chom?x=1")
        #expect(try strict.check(url: "https://93.184.216.34:8443/in").host == "93.184.216.34")
        for (url, reason) in [
            ("http://hooks.example.com/", "must be https"),
            ("ftp://hooks.example.com/", "must be https"),
            ("hooks.example.com/path", "not an absolute URL"),
            ("https://user:pass@hooks.example.com/", "no credentials"),
            ("https://hooks.example.com/#frag", "no fragment"),
            ("https://localhost/", "local host"),
            ("https://metadata.google.internal/", "local host"),
            ("https://printer.local/", "local host"),
            ("https://127.0.0.1/", "not a public address"),
            ("https://169.254.169.254/latest/meta-data", "not a public address"),
            ("https://10.1.2.3/", "not a public address"),
            ("https://[::1]/", "not a public address"),
            ("https://[fd00::1]/", "not a public address"),
            ("https://[::ffff:192.168.0.1]/", "not a public address"),
            ("https://0.0.0.0/", "not a public address"),
            ("https://" + String(repeating: "a", count: 2_050) + ".com/", "at most 2048"),
            ("https://hooks.example.com:22/", "port is one of"),
            ("https://hooks.example.com:9100/metrics", "port is one of"),
        ] {
            #expect {
                _ = try strict.check(url: url)
            } throws: { error in
                (error as? CHOMError)?.code == .invalidInput && (error as? CHOMError)?.message.contains(reason) == true
            }
        }
        // A closed installation (and the tests) may allow plain HTTP to loopback.
        #expect(try open.check(url: "http://127.0.0.1:9/hook").port == 9)
        #expect(throws: CHOMError.self) { try open.check(url: "gopher://127.0.0.1/") }
    }

    @Test("special-purpose ranges are not public; ordinary addresses are, in both families")
    func ranges() {
        func v4(_ text: String) -> Bool { WebhookAddressPolicy.isPublic(WebhookAddressPolicy.literal(text)!) }
        for address in [
            "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "169.254.169.254", "172.16.0.1",
            "172.31.255.255", "192.168.1.1", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.7",
            "203.0.113.9", "224.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "ff02::1", "2001:db8::1",
            "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "2001:0:4136:e378::1", "::ffff:0:7f00:1", "100::1",
            "64:ff9b:1::a00:1",
        ] {
            #expect(!v4(address), "\(address) is not public")
        }
        for address in ["93.184.216.34", "100.128.0.1", "172.32.0.1", "198.20.0.1", "2606:4700::1111", "::ffff:93.184.216.34"] {
            #expect(v4(address), "\(address) is public")
        }
        #expect(throws: CHOMError.self) { try strict.check(resolved: [[93, 184, 216, 34], [10, 0, 0, 1]]) }
        #expect(throws: CHOMError.self) { try strict.check(resolved: []) }
        #expect(throws: Never.self) { try strict.check(resolved: [[93, 184, 216, 34]]) }
    }

    @Test("a webhook is listed by scheme, host and port only: its path may be a credential")
    func shown() {
        #expect(WebhookAddressPolicy.shown("https://hooks.slack.example/services/T000/B000/XXXX") == "https://hooks.slack.example/…")
        #expect(WebhookAddressPolicy.shown("https://hooks.example.com") == "https://hooks.example.com")
        #expect(WebhookAddressPolicy.shown("https://hooks.example.com/?token=s3cret") == "https://hooks.example.com/…")
        #expect(WebhookAddressPolicy.shown("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/…")
    }

    @Test("a channel: kind, target, events each once and known, description one line")
    func channels() throws {
        let policy = NotificationChannelPolicy(addresses: strict)
        let webhook = try policy.check(CreateNotificationChannelRequest(
            kind: "webhook", url: "https://hooks.example.com/x", events: ["deploy.failed", "alert.firing"]))
        #expect(webhook == .init(kind: .webhook, target: "https://hooks.example.com/x", events: ["deploy.failed", "alert.firing"], description: ""))
        let email = try policy.check(CreateNotificationChannelRequest(kind: "email", email: " Ops@Acme.Example ", description: "on call"))
        #expect(email == .init(kind: .email, target: "ops@acme.example", events: [], description: "on call"))
        for (request, reason) in [
            (CreateNotificationChannelRequest(kind: "sms", url: "https://x.example"), "kind must be"),
            (CreateNotificationChannelRequest(kind: "webhook"), "needs url"),
            (CreateNotificationChannelRequest(kind: "webhook", url: "https://x.example", email: "a@b.example"), "not an email"),
            (CreateNotificationChannelRequest(kind: "email", url: "https://x.example"), "not a url"),
            (CreateNotificationChannelRequest(kind: "email", email: "a@b.example\r\nBcc: x@y.example"), "email"),
            (CreateNotificationChannelRequest(kind: "webhook", url: "https://x.example", events: ["deploy.failed", "deploy.failed"]), "once"),
            (CreateNotificationChannelRequest(kind: "webhook", url: "https://x.example", events: ["deploy.fail"]), "unknown event"),
            (CreateNotificationChannelRequest(kind: "webhook", url: "https://x.example", events: ["channel.test"]), "unknown event"),
            (CreateNotificationChannelRequest(kind: "webhook", url: "https://x.example", description: "two\nlines"), "one line"),
        ] {
            #expect {
                _ = try policy.check(request)
            } throws: { error in
                (error as? CHOMError)?.code == .invalidInput && (error as? CHOMError)?.message.contains(reason) == true
            }
        }
    }

    @Test("a site notice names the domain and tenant, cuts the agent's message, drops control characters")
    func siteNotice() {
        let notice = SiteNotice(siteID: "s1", domain: "shop.example", tenantID: "t1", tenantName: "prod")
        let failed = notice.deployFailed(task: "task-1", step: "health_check", message: "HTTP 500\r\nX-Injected: 1" + String(repeating: "x", count: 900))
        #expect(failed.event == .deployFailed && failed.subject == "[CHOM] Deploy failed: shop.example")
        #expect(failed.data["site"] == "shop.example" && failed.data["tenant"] == "prod" && failed.data["step"] == "health_check")
        #expect(failed.data["message"]?.count == 500 && failed.data["message"]?.contains("\r") == false)
        #expect(!failed.body.contains("\r") && failed.body.contains("at health_check"))
        let moved = notice.moveDone(
            failover: true, succeeded: true, migration: "m1", failedStep: nil, recoveryPointSeconds: 61.2,
            recoveryTimeSeconds: 12.04)
        #expect(moved.event == .failoverDone && moved.data["outcome"] == "succeeded")
        #expect(moved.data["recovery_point_seconds"] == "61.2" && moved.data["recovery_time_seconds"] == "12.0")
        let stuck = notice.moveDone(
            failover: false, succeeded: false, migration: "m2", failedStep: "restore",
            recoveryPointSeconds: nil, recoveryTimeSeconds: nil)
        #expect(stuck.event == .migrationDone && stuck.subject == "[CHOM] Migration failed: shop.example")
        #expect(stuck.data["failed_step"] == "restore" && stuck.data["outcome"] == "failed" && stuck.data["message"] == nil)
        #expect(notice.backupFailed(task: "t", backup: "b", message: "disk full").data["backup_id"] == "b")
    }
}
