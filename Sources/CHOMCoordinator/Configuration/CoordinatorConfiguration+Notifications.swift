package import CHOMCore
package import Foundation

extension CoordinatorConfiguration {
    /// The notifications outbox (the issue "Billing"): where its email goes and how it is retried.
    /// Without `smtp`, messages are still written to the outbox (and listed) but not sent; setting
    /// it later sends what is still pending.
    package struct Notifications: Sendable, Codable, Equatable {
        package struct SMTP: Sendable, Codable, Equatable {
            package var host = "127.0.0.1"
            package var port = 25
            /// "none" (plain SMTP, for a relay on a trusted network) or "implicit" (SMTPS, TLS from
            /// the first byte, RFC 8314).
            package var security = "none"
            /// PEM roots for the server's certificate (implicit TLS); absent: the system's.
            package var trustRootsFile: String?
            /// AUTH PLAIN when set; the password from `CHOM_SMTP_PASSWORD` or `passwordFile`.
            package var username: String?
            package var passwordFile: String?
            /// The sender of every message (MAIL FROM and From:).
            package var from = "chom@localhost"
            package var heloName = "chom-coordinator"
            package var timeoutSeconds = 30.0
            package init() {}
        }

        /// Organizations' webhook channels: what their URLs may name, and how long a delivery may take.
        package struct Webhooks: Sendable, Codable, Equatable {
            /// Off: webhook channels cannot be added and none are posted to (email channels still
            /// work). The contract test turns them off, so that no generated URL is ever called.
            package var enabled = true
            /// Let URLs name loopback, private, link-local and other non-public addresses (off: a
            /// tenant's admin could otherwise make the coordinator post into the hosting company's
            /// own network). For tests and closed installations.
            package var allowPrivateAddresses = false
            /// Let URLs be http:// (off: https only, so the payload and its signature are not in clear).
            package var allowPlainHTTP = false
            package var timeoutSeconds = 10.0
            package init() {}
        }

        package var smtp: SMTP?
        package var webhooks = Webhooks()
        /// How often the leader looks for due messages.
        package var deliveryIntervalSeconds = 5.0
        package var retryBaseSeconds = 30.0
        package var retryCapSeconds = 3_600.0
        package var maxAttempts = 10
        /// The bearer token Alertmanager sends to `POST /v1/alerts/alertmanager` (its
        /// `http_config.authorization.credentials_file`); `CHOM_ALERTMANAGER_TOKEN` overrides it.
        /// Neither set: the receiver answers 404.
        package var alertmanagerTokenFile: String?
        package init() {}

        package var retry: DeliveryRetryPolicy {
            DeliveryRetryPolicy(base: retryBaseSeconds, cap: retryCapSeconds, maxAttempts: maxAttempts)
        }
    }
}

extension CoordinatorConfiguration.Notifications {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        smtp = try c.decodeIfPresent(SMTP.self, forKey: .smtp)
        webhooks = try c.decodeIfPresent(Webhooks.self, forKey: .webhooks) ?? webhooks
        deliveryIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .deliveryIntervalSeconds) ?? deliveryIntervalSeconds
        retryBaseSeconds = try c.decodeIfPresent(Double.self, forKey: .retryBaseSeconds) ?? retryBaseSeconds
        retryCapSeconds = try c.decodeIfPresent(Double.self, forKey: .retryCapSeconds) ?? retryCapSeconds
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? maxAttempts
        alertmanagerTokenFile = try c.decodeIfPresent(String.self, forKey: .alertmanagerTokenFile)
    }

    /// Alertmanager's bearer token: `CHOM_ALERTMANAGER_TOKEN`, else the file (read each time, so a
    /// rotated token needs no restart); nil when neither is set. A token under 32 characters is refused.
    func alertmanagerToken(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        var token: String?
        if let value = environment["CHOM_ALERTMANAGER_TOKEN"], !value.isEmpty {
            token = value
        } else if let file = alertmanagerTokenFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CHOMError(.configuration, "cannot read notifications.alertmanagerTokenFile \(file)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let token, !token.isEmpty else { return nil }
        guard token.count >= 32 else {
            throw CHOMError(.configuration, "the Alertmanager token must be at least 32 characters")
        }
        return token
    }

    package func validate() throws {
        if let problem = retry.problem(prefix: "notifications") { throw CHOMError(.configuration, problem) }
        guard deliveryIntervalSeconds >= 0.1, deliveryIntervalSeconds <= 3_600 else {
            throw CHOMError(.configuration, "notifications.deliveryIntervalSeconds must be 0.1 to 3600")
        }
        guard webhooks.timeoutSeconds >= 1, webhooks.timeoutSeconds <= 60 else {
            throw CHOMError(.configuration, "notifications.webhooks.timeoutSeconds must be 1 to 60")
        }
        guard let smtp else { return }
        guard !smtp.host.isEmpty, (1...65535).contains(smtp.port) else {
            throw CHOMError(.configuration, "notifications.smtp needs a host and a port from 1 to 65535")
        }
        guard SMTPClient.Configuration.Security(rawValue: smtp.security) != nil else {
            throw CHOMError(.configuration, "notifications.smtp.security must be \"none\" or \"implicit\"")
        }
        if smtp.username != nil, smtp.security == "none", !["127.0.0.1", "::1", "localhost"].contains(smtp.host) {
            throw CHOMError(
                .configuration,
                "notifications.smtp.username needs security \"implicit\" (the password would cross the network in clear)")
        }
        do { try EmailMessage.checkAddress(smtp.from, what: "notifications.smtp.from") } catch let error as CHOMError {
            throw CHOMError(.configuration, error.message)
        }
        guard smtp.heloName.range(of: #"^[A-Za-z0-9.-]{1,253}$"#, options: .regularExpression) != nil else {
            throw CHOMError(.configuration, "notifications.smtp.heloName must be a host name")
        }
        guard smtp.timeoutSeconds >= 1, smtp.timeoutSeconds <= 600 else {
            throw CHOMError(.configuration, "notifications.smtp.timeoutSeconds must be 1 to 600")
        }
    }
}

extension CoordinatorConfiguration.Notifications.SMTP {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        security = try c.decodeIfPresent(String.self, forKey: .security) ?? security
        trustRootsFile = try c.decodeIfPresent(String.self, forKey: .trustRootsFile)
        username = try c.decodeIfPresent(String.self, forKey: .username)
        passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile)
        from = try c.decodeIfPresent(String.self, forKey: .from) ?? from
        heloName = try c.decodeIfPresent(String.self, forKey: .heloName) ?? heloName
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
    }

    /// The client's settings; the password is read now (`CHOM_SMTP_PASSWORD`, else the file), so a
    /// rotated password needs no restart.
    func client(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SMTPClient.Configuration {
        var password: String?
        if let value = environment["CHOM_SMTP_PASSWORD"], !value.isEmpty {
            password = value
        } else if let file = passwordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CHOMError(.configuration, "cannot read notifications.smtp.passwordFile \(file)")
            }
            password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return SMTPClient.Configuration(
            host: host, port: port, security: SMTPClient.Configuration.Security(rawValue: security) ?? .none,
            trustRootsFile: trustRootsFile, username: username, password: password, heloName: heloName,
            timeout: .milliseconds(Int64(timeoutSeconds * 1_000)))
    }
}

extension CoordinatorConfiguration.Notifications.Webhooks {
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        allowPrivateAddresses = try c.decodeIfPresent(Bool.self, forKey: .allowPrivateAddresses) ?? allowPrivateAddresses
        allowPlainHTTP = try c.decodeIfPresent(Bool.self, forKey: .allowPlainHTTP) ?? allowPlainHTTP
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
    }
}
