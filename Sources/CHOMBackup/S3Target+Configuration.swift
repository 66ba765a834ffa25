package import CHOMCore
package import Foundation

extension S3Target {
    /// Where and how to reach one bucket of S3-compatible storage. `description` never shows the secret.
    package struct Configuration: Sendable, CustomStringConvertible {
        /// `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`; no query, no fragment.
        package var endpoint: URL
        package var region: String
        package var bucket: String
        /// `endpoint/bucket/key` when true (MinIO, moto, Ceph); `bucket.endpoint/key` when false (AWS).
        package var pathStyle: Bool
        /// The key pair; `SigV4Signer.Credentials` redacts the secret from every printed form.
        package var credentials: SigV4Signer.Credentials
        /// Put in front of every key, e.g. "chom/agent-7": keys become "chom/agent-7/<key>".
        package var keyPrefix: String
        /// Files of at least this many bytes go up as multipart uploads. At least 5 MiB.
        package var multipartThreshold: Int
        /// The size of each multipart part but the last. At least 5 MiB (S3's rule).
        package var partSize: Int
        /// The deadline of one HTTP request, one part upload included.
        package var requestTimeout: Duration
        /// `max-keys` of each ListObjectsV2 page (S3 caps it at 1000).
        package var listPageSize: Int

        package init(
            endpoint: URL, region: String, bucket: String, pathStyle: Bool = true,
            credentials: SigV4Signer.Credentials, keyPrefix: String = "",
            multipartThreshold: Int = 16 * 1024 * 1024, partSize: Int = 16 * 1024 * 1024,
            requestTimeout: Duration = .seconds(900), listPageSize: Int = 1000
        ) {
            self.endpoint = endpoint
            self.region = region
            self.bucket = bucket
            self.pathStyle = pathStyle
            self.credentials = credentials
            self.keyPrefix = keyPrefix
            self.multipartThreshold = multipartThreshold
            self.partSize = partSize
            self.requestTimeout = requestTimeout
            self.listPageSize = listPageSize
        }

        package var description: String {
            "S3Target.Configuration(endpoint: \(endpoint.absoluteString), region: \(region), bucket: \(bucket), "
                + "pathStyle: \(pathStyle), keyPrefix: \(keyPrefix), accessKeyID: \(credentials.accessKeyID))"
        }

        /// Checks the values S3 or this client cannot work with.
        package func validate() throws(CHOMError) {
            guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = endpoint.host, !host.isEmpty
            else { throw CHOMError(.configuration, "the S3 endpoint must be an http or https URL with a host") }
            guard endpoint.query == nil, endpoint.fragment == nil, endpoint.user == nil else {
                throw CHOMError(.configuration, "the S3 endpoint must not carry a query, a fragment or user info")
            }
            guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { throw CHOMError(.configuration, "the S3 region must be letters, digits and '-'") }
            guard (3...63).contains(bucket.count), !bucket.contains("/"),
                bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
            else { throw CHOMError(.configuration, "the S3 bucket name must be 3-63 of a-z, 0-9, '-' and '.'") }
            guard !credentials.accessKeyID.isEmpty else {
                throw CHOMError(.configuration, "the S3 access key id must not be empty")
            }
            _ = try S3ObjectKey.normalize(keyPrefix: keyPrefix)
            guard multipartThreshold >= MultipartPlan.minimumPartSize, partSize >= MultipartPlan.minimumPartSize
            else { throw CHOMError(.configuration, "the S3 multipart threshold and part size must be at least 5 MiB") }
            guard partSize <= MultipartPlan.maximumPartSize, multipartThreshold <= MultipartPlan.maximumPartSize else {
                throw CHOMError(.configuration, "the S3 part size and multipart threshold must be at most 5 GiB")
            }
            guard (1...1000).contains(listPageSize) else {
                throw CHOMError(.configuration, "the S3 listing page size must be 1...1000")
            }
            guard requestTimeout > .zero else {
                throw CHOMError(.configuration, "the S3 request timeout must be positive")
            }
        }
    }
}
