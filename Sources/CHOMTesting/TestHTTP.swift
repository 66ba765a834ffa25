package import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Raw HTTP for tests that check status codes and bodies byte for byte.
package enum TestHTTP {
    package struct Reply: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: Data
        package var text: String { String(decoding: body, as: UTF8.self) }

        package func json() throws -> [String: Any] {
            (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        }
    }

    package static func request(
        _ method: String, _ url: URL, token: String? = nil, body: Data? = nil,
        contentType: String = "application/json", headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: headers, body: data)
    }
}
