package import CHOMCore
import Crypto
package import Foundation

/// AWS Signature Version 4 (header form) for S3-compatible object storage. Pure: the caller
/// passes the date and adds the returned headers to the request it sends.
package struct SigV4Signer: Sendable {
    /// An access key pair. The secret is kept only as HMAC key material and is never printed,
    /// reflected or logged; `description` shows the access key id alone.
    package struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        package let accessKeyID: String
        /// `"AWS4" + secret`, the first key of the derivation chain.
        fileprivate let rootKey: SymmetricKey

        package init(accessKeyID: String, secretAccessKey: String) {
            self.accessKeyID = accessKeyID
            self.rootKey = SymmetricKey(data: Array(("AWS4" + secretAccessKey).utf8))
        }

        package var description: String { "Credentials(accessKeyID: \(accessKeyID), secret: <redacted>)" }
        package var debugDescription: String { description }
        package var customMirror: Mirror { Mirror(self, children: ["accessKeyID": accessKeyID]) }
    }

    /// What signing produced. Everything here is safe to log except `authorization`, which
    /// holds a signature (not the secret) and should still stay out of logs.
    package struct Signed: Sendable {
        package var authorization: String
        package var amzDate: String
        package var contentSHA256: String
        package var host: String
        package var signedHeaders: String
        package var signature: String
        package var canonicalRequest: String
        package var stringToSign: String

        /// The headers to add to the request, lowercase names.
        package var headers: [(name: String, value: String)] {
            [("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", contentSHA256),
             ("authorization", authorization)]
        }
    }

    package static let algorithm = "AWS4-HMAC-SHA256"

    package var credentials: Credentials
    package var region: String
    package var service: String

    package init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    package func sign(_ request: SigV4Request, date: Date) -> Signed {
        let (day, amzDate) = Self.timestamps(date)
        let contentSHA256 = request.payload.value
        let host = request.hostHeader

        // Canonical headers: lowercase names, values trimmed with inner runs of blanks collapsed,
        // repeated names joined with ",", sorted by name. Ours replace any the caller passed.
        let reserved: Set<String> = ["host", "x-amz-date", "x-amz-content-sha256", "authorization"]
        var values: [String: [String]] = [:]
        for header in request.headers {
            let name = header.name.lowercased()
            guard !reserved.contains(name) else { continue }
            values[name, default: []].append(Self.trimAll(header.value))
        }
        values["host"] = [host]
        values["x-amz-date"] = [amzDate]
        values["x-amz-content-sha256"] = [contentSHA256]
        let sorted = values.sorted { $0.key < $1.key }
        let canonicalHeaders = sorted.map { "\($0.key):\($0.value.joined(separator: ","))\n" }.joined()
        let signedHeaders = sorted.map(\.key).joined(separator: ";")

        let canonicalRequest = [
            request.method.uppercased(), request.encodedPath, request.canonicalQuery, canonicalHeaders,
            signedHeaders, contentSHA256,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm, amzDate, scope, Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(
            for: Array(stringToSign.utf8), using: signingKey(day: day)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope),"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature)"
        return Signed(
            authorization: authorization, amzDate: amzDate, contentSHA256: contentSHA256, host: host,
            signedHeaders: signedHeaders, signature: signature, canonicalRequest: canonicalRequest,
            stringToSign: stringToSign)
    }

    /// The longest lifetime SigV4 allows a presigned URL (7 days).
    package static let maximumPresignedLifetime = 604_800

    /// Query-string authentication (a presigned URL): the algorithm, credential scope, date,
    /// lifetime and signed headers travel in the query with the signature, only `host` is signed,
    /// and the payload is `UNSIGNED-PAYLOAD`, so whoever holds the URL can make exactly this
    /// request (method, path, query) until `date + lifetimeSeconds`, and nothing else. The
    /// request's own headers and payload are ignored. Returns the URL to send.
    package func presign(_ request: SigV4Request, date: Date, lifetimeSeconds: Int) throws(CHOMError) -> String {
        guard (1...Self.maximumPresignedLifetime).contains(lifetimeSeconds) else {
            throw CHOMError(.invalidInput, "a presigned URL lives 1 to \(Self.maximumPresignedLifetime) seconds")
        }
        let reserved = ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
                        "x-amz-signature", "x-amz-security-token"]
        guard !request.query.contains(where: { reserved.contains($0.name.lowercased()) }) else {
            throw CHOMError(.invalidInput, "the request to presign already carries authentication parameters")
        }
        let (day, amzDate) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var presigned = request
        presigned.query += [
            (name: "X-Amz-Algorithm", value: Self.algorithm),
            (name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope)"),
            (name: "X-Amz-Date", value: amzDate),
            (name: "X-Amz-Expires", value: String(lifetimeSeconds)),
            (name: "X-Amz-SignedHeaders", value: "host"),
        ]
        let canonicalRequest = [
            presigned.method.uppercased(), presigned.encodedPath, presigned.canonicalQuery,
            "host:\(presigned.hostHeader)\n", "host", SigV4Request.Payload.unsigned.value,
        ].joined(separator: "\n")
        let stringToSign = [
            Self.algorithm, amzDate, scope, Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(
            for: Array(stringToSign.utf8), using: signingKey(day: day)))
        presigned.query.append((name: "X-Amz-Signature", value: signature))
        return presigned.url
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    private func signingKey(day: String) -> SymmetricKey {
        var key = credentials.rootKey
        for step in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(step.utf8), using: key))
        }
        return key
    }

    /// `YYYYMMDD` and `YYYYMMDD'T'HHMMSS'Z'` in UTC, without locale or calendar state.
    static func timestamps(_ date: Date) -> (day: String, amzDate: String) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let dayText = pad(year, 4) + pad(month, 2) + pad(day, 2)
        let time = pad(secondOfDay / 3_600, 2) + pad(secondOfDay % 3_600 / 60, 2) + pad(secondOfDay % 60, 2)
        return (dayText, dayText + "T" + time + "Z")
    }

    /// Leading and trailing blanks removed, inner runs of spaces and tabs turned into one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
