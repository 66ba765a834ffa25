import AsyncHTTPClient
import CHOMCore
import CHOMStore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Posts an outbox message to its webhook channel, signed the way Stripe signs its own webhooks
/// (`WebhookSignature`), so a receiver can reuse a Stripe verifier:
///
///     POST <url>
///     Content-Type: application/json
///     CHOM-Event: deploy.failed
///     CHOM-Delivery: <message id>          (the same for every attempt: receivers dedupe on it)
///     CHOM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
///
/// The body is the JSON written at enqueue time (`NotificationRepository.enqueue`). A 2xx answer
/// delivers; 410 Gone gives the message up; anything else (another status, a timeout, a refused
/// connection) is retried by the outbox's backoff. Redirects are not followed, and the URL's
/// addresses are checked against `WebhookAddressPolicy` before each attempt.
struct WebhookDelivery: Sendable {
    enum Outcome: Sendable, Equatable {
        case delivered(String)
        case failed(String, permanent: Bool)
    }

    let channels: NotificationChannelRepository
    let box: SecretBox
    let policy: WebhookAddressPolicy
    let timeout: TimeAmount

    /// The SecretBox context of a channel's sealed URL and signing secret.
    static func secretContext(_ channel: UUID) -> String { "webhook:\(channel.uuidString.lowercased())" }

    /// What a webhook channel keeps sealed: its whole URL (a path or query is often a credential)
    /// and its signing secret.
    struct Sealed: Codable, Equatable {
        var url: String
        var secret: String

        func seal(with box: SecretBox, channel: UUID) -> String {
            // Two strings always encode.
            let json = (try? JSONEncoder().encode(self)) ?? Data()
            return box.seal(plaintext: json, context: WebhookDelivery.secretContext(channel))
        }

        static func open(_ text: String, with box: SecretBox, channel: UUID) throws -> Sealed {
            let json = try box.open(text, context: WebhookDelivery.secretContext(channel))
            do {
                return try JSONDecoder().decode(Sealed.self, from: json)
            } catch {
                throw CHOMError(.integrity, "the webhook channel's sealed settings are not readable")
            }
        }
    }

    /// One client for every webhook: no redirects (a 3xx could point anywhere), bounded connections.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// One attempt, bounded as a whole by `timeout` (name lookup, connection, answer and body: a
    /// receiver that sends its headers and then nothing cannot hold the loop). What is recorded,
    /// and shown to the organization's admins, is coarse: the status code, or "timed out",
    /// "connection failed", "TLS handshake failed", never the receiver's body nor a raw error (a
    /// webhook must not be a way to read or fingerprint what the coordinator can reach).
    func deliver(_ record: NotificationRecord, now: Date) async -> Outcome {
        let timeout = self.timeout
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await attempt(record, now: now) }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                return Task.isCancelled ? nil : .failed("timed out", permanent: false)
            }
            var outcome: Outcome = .failed("timed out", permanent: false)
            if let first = await group.next(), let first { outcome = first }
            group.cancelAll()
            return outcome
        }
    }

    private func attempt(_ record: NotificationRecord, now: Date) async -> Outcome {
        do {
            guard let id = record.channelID, let channel = try await channels.live(id), let sealed = channel.secretSealed
            else { return .failed("the webhook channel was removed", permanent: true) }
            let settings: Sealed
            do {
                settings = try Sealed.open(sealed, with: box, channel: id)
            } catch {
                return .failed("the webhook's sealed settings cannot be opened", permanent: true)
            }
            let url: URL
            do {
                url = try policy.check(url: settings.url)
                try policy.check(resolved: try await Self.resolve(url))
            } catch let error as CHOMError where error.code == .invalidInput {
                return .failed(error.message, permanent: true)
            }
            let body = Data(record.body.utf8)
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "chom-coordinator")
            request.headers.add(name: "CHOM-Event", value: record.event)
            request.headers.add(name: "CHOM-Delivery", value: record.id.uuidString.lowercased())
            request.headers.add(
                name: "CHOM-Signature",
                value: WebhookSignature.header(
                    payload: body, timestamp: Int64(now.timeIntervalSince1970), secret: settings.secret))
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await Self.client.execute(request, timeout: timeout)
            // The answer's body is read (so the connection is clean) but never kept.
            _ = try? await response.body.collect(upTo: 16 << 10)
            let detail = "HTTP \(response.status.code)"
            switch response.status.code {
            case 200..<300: return .delivered(detail)
            case 410: return .failed(detail + " (gone: not retried)", permanent: true)
            default: return .failed(detail, permanent: false)
            }
        } catch {
            return .failed(Self.coarse(error), permanent: false)
        }
    }

    /// What a failed request is called where the organization can see it.
    static func coarse(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
            if error == .cancelled { return "timed out" }
        }
        let text = String(describing: error).lowercased()
        if text.contains("ssl") || text.contains("tls") || text.contains("certificate") { return "TLS handshake failed" }
        if text.contains("resolve") { return "the host name did not resolve" }
        return "connection failed"
    }

    /// The addresses `url`'s host resolves to (getaddrinfo on NIO's blocking pool); a literal is itself.
    static func resolve(_ url: URL) async throws -> [[UInt8]] {
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else { return [] }
        if let literal = WebhookAddressPolicy.literal(host) { return [literal] }
        return try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
                throw CHOMError(.unavailable, "the webhook's host name \(host) did not resolve")
            }
            defer { freeaddrinfo(first) }
            var addresses: [[UInt8]] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let address = entry.pointee.ai_addr {
                    switch Int32(address.pointee.sa_family) {
                    case AF_INET:
                        // sin_addr: the 4 bytes after family and port (read by offset, as below).
                        address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                            withUnsafeBytes(of: v4.pointee) { addresses.append(Array($0[4..<8])) }
                        }
                    case AF_INET6:
                        // sin6_addr: the 16 bytes after family, port and flow info (RFC 3493). Both
                        // are read by offset: a release build resolves the fields through NIO's
                        // CNIOLinux, which this module does not import.
                        address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                            withUnsafeBytes(of: v6.pointee) { addresses.append(Array($0[8..<24])) }
                        }
                    default: break
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }
    }
}
