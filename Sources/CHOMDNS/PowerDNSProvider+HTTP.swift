import AsyncHTTPClient
import CHOMCore
import Foundation
import NIOCore
import NIOHTTP1

/// Requests to the PowerDNS API and how their failures become `DNSError`s: the message names the
/// operation, the zone or name, the HTTP status and PowerDNS's `error` text; never the key.
extension PowerDNSProvider {
    enum Operation: String, Sendable {
        case patchZone = "zone update"
        case getZone = "zone read"
        case listZones = "zone list"
        case createZone = "zone creation"
        case searchData = "record search"
    }

    /// Sends one request with the key header; returns the body of a 2xx answer.
    func send(
        _ operation: Operation, _ method: String, _ url: String, body: Data? = nil, subject: String
    ) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "X-API-Key", value: configuration.apiKey)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let document: ByteBuffer
        do {
            let response = try await http.execute(
                request, timeout: TimeAmount(configuration.requestTimeout), logger: logger)
            status = Int(response.status.code)
            document = try await response.body.collect(upTo: configuration.maximumResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw DNSError(
                .invalidResponse,
                "PowerDNS \(operation.rawValue) of \(subject): the answer is larger than "
                    + "\(configuration.maximumResponseBytes) bytes", underlying: "\(error)")
        } catch {
            throw transportFailure(operation, subject: subject, error)
        }
        guard (200..<300).contains(status) else {
            throw statusFailure(operation, subject: subject, status: status, body: document)
        }
        return document
    }

    func decode<T: Decodable>(
        _ type: T.Type, _ body: ByteBuffer, operation: Operation, subject: String
    ) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw DNSError(
                .invalidResponse, "PowerDNS \(operation.rawValue) of \(subject): the answer is not the expected JSON",
                underlying: redacted("\(error)"))
        }
    }

    private func transportFailure(_ operation: Operation, subject: String, _ error: any Error) -> DNSError {
        let endpoint = configuration.apiURL.host.map { host in configuration.apiURL.port.map { "\(host):\($0)" } ?? host }
        var reason = ""
        if let error = error as? HTTPClientError {
            reason = error == .deadlineExceeded ? " (no answer within \(configuration.requestTimeout))" : " (\(error.shortDescription))"
        } else if error is CancellationError {
            reason = " (cancelled)"
        } else {
            reason = " (\(redacted(String(String(describing: error).prefix(200)))))"
        }
        return DNSError(
            .unavailable, "PowerDNS \(operation.rawValue) of \(subject): no answer from \(endpoint ?? "the API")\(reason)",
            underlying: redacted(String(reflecting: error)))
    }

    private func statusFailure(_ operation: Operation, subject: String, status: Int, body: ByteBuffer) -> DNSError {
        let bytes = Data(body.readableBytesView.prefix(4096))
        let text =
            (try? JSONDecoder().decode(PowerDNSWire.ErrorBody.self, from: bytes))?.error
            ?? String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = redacted(String(text.prefix(300)))
        let code: DNSError.Code =
            switch status {
            case 401, 403: .unauthorized
            case 404: .zoneNotFound
            case 409: .conflict
            case 400, 422: .rejected
            case 500...: .unavailable
            default: .rejected
            }
        var message = "PowerDNS \(operation.rawValue) of \(subject) failed: HTTP \(status)"
        if code == .unauthorized { message += ", the API key was refused" }
        if !detail.isEmpty { message += ": \(detail)" }
        return DNSError(code, message, status: status, providerError: detail.isEmpty ? nil : detail)
    }

    /// `text` with every occurrence of the API key replaced, for anything that reaches a message or a log.
    func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: configuration.apiKey, with: "<redacted>")
    }
}
