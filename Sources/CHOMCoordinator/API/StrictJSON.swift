import CHOMAPI
import CHOMCore
import Foundation
import Hummingbird
import NIOCore

/// Request bodies: bounded, JSON objects only, no unknown fields (no mass assignment).
enum StrictJSON {
    static let maxBodyBytes = 64 * 1024

    /// - Parameter optional: an empty body reads as `{}` (for routes whose every field is optional).
    static func decode<T: Decodable>(
        _ type: T.Type, allowed: Set<String>, from request: Request, optional: Bool = false
    ) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw CHOMError(.payloadTooLarge, "the JSON body is larger than \(maxBodyBytes) bytes")
        }
        var data = Data(buffer.readableBytesView)
        if optional, data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { data = Data("{}".utf8) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CHOMError(.invalidInput, "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw CHOMError(.invalidInput, "the body must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw CHOMError(.invalidInput, "unknown field '\(unknown)'")
        }
        do {
            return try APIJSON.decoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw CHOMError(.invalidInput, "missing field '\(key.stringValue)'")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CHOMError(.invalidInput, "field '\(path)' has the wrong type")
        } catch {
            throw CHOMError(.invalidInput, "the body does not match the expected shape")
        }
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try APIJSON.encoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
