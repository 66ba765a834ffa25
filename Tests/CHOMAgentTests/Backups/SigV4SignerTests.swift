import CHOMAgent
import CHOMBackup
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("SigV4 signing for S3")
struct SigV4SignerTests {
    /// The example account of the AWS S3 SigV4 documentation ("Examples: Signature Calculations").
    static let signer = SigV4Signer(
        credentials: .init(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let host = "examplebucket.s3.amazonaws.com"

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var request: SigV4Request
        var signedHeaders: String
        var signature: String
        var testDescription: String { name }
    }

    static let awsVectors: [Vector] = [
        Vector(
            name: "GET Object",
            request: SigV4Request(
                method: "GET", host: host, path: "/test.txt", headers: [("Range", "bytes=0-9")], payload: .empty),
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        Vector(
            name: "PUT Object",
            request: SigV4Request(
                method: "PUT", host: host, path: "/test$file.text",
                headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                payload: .sha256Hex(hex(SHA256.hash(data: Array("Welcome to Amazon S3.".utf8))))),
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        Vector(
            name: "GET Bucket Lifecycle",
            request: SigV4Request(method: "GET", host: host, path: "/", query: [("lifecycle", "")]),
            signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        Vector(
            name: "Get Bucket (List Objects)",
            request: SigV4Request(method: "GET", host: host, path: "/", query: [("prefix", "J"), ("max-keys", "2")]),
            signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ]

    @Test("a presigned GET reproduces AWS's published query-string authentication example")
    func presignedExample() throws {
        // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", example:
        // GET /test.txt from examplebucket, valid 86400 s from 2013-05-24T00:00:00Z.
        let url = try Self.signer.presign(
            SigV4Request(method: "GET", host: Self.host, path: "/test.txt"), date: Self.exampleDate,
            lifetimeSeconds: 86_400)
        #expect(url == "https://examplebucket.s3.amazonaws.com/test.txt"
            + "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            + "&X-Amz-SignedHeaders=host")
    }

    @Test("presigning refuses a lifetime outside 1 s...7 days and a request that already carries a signature")
    func presignRefusals() {
        let request = SigV4Request(method: "GET", host: Self.host, path: "/test.txt")
        for lifetime in [0, -1, 604_801] {
            #expect(throws: CHOMError.self) { try Self.signer.presign(request, date: Self.exampleDate, lifetimeSeconds: lifetime) }
        }
        let forged = SigV4Request(method: "GET", host: Self.host, path: "/test.txt", query: [("X-Amz-Signature", "00")])
        #expect(throws: CHOMError.self) { try Self.signer.presign(forged, date: Self.exampleDate, lifetimeSeconds: 60) }
    }

    @Test("each presigned URL names one object and one upload part: another key or part signs differently")
    func presignedScope() throws {
        let target = try S3Target(
            configuration: .init(
                endpoint: URL(string: "http://127.0.0.1:9000")!, region: "us-east-1", bucket: "chom-backups",
                credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "secret"), keyPrefix: "fleet"),
            logger: .init(label: "test"))
        let a = try target.presign(.put, key: "t/a.test/1.tar.zst", lifetimeSeconds: 60, now: Self.exampleDate)
        let b = try target.presign(.put, key: "t/b.test/1.tar.zst", lifetimeSeconds: 60, now: Self.exampleDate)
        #expect(a.count == 1 && b.count == 1)
        #expect(a[0].url.hasPrefix("http://127.0.0.1:9000/chom-backups/fleet/t/a.test/1.tar.zst?"))
        #expect(a[0].method == "PUT")
        #expect(a[0].expiresAt == Self.exampleDate.addingTimeInterval(60))
        func signature(_ url: String) -> String? { URLComponents(string: url)?.queryItems?.first { $0.name == "X-Amz-Signature" }?.value }
        #expect(signature(a[0].url) != signature(b[0].url))
        let parts = try target.presign(.uploadParts(uploadID: "up-1", partNumbers: [3, 1]), key: "t/a.test/1.tar.zst", lifetimeSeconds: 60, now: Self.exampleDate)
        #expect(parts.map(\.partNumber) == [3, 1])
        #expect(parts.allSatisfy { $0.url.contains("uploadId=up-1") })
        #expect(parts[0].url.contains("partNumber=3"))
        #expect(!parts[0].url.contains("secret"))
        for bad: PresignedOperation in [
            .uploadParts(uploadID: "", partNumbers: [1]), .uploadParts(uploadID: "u", partNumbers: []),
            .uploadParts(uploadID: "u", partNumbers: [0]), .uploadParts(uploadID: "u", partNumbers: [10_001]),
            .uploadParts(uploadID: "u", partNumbers: [2, 2]), .uploadParts(uploadID: "u", partNumbers: Array(1...101)),
            .completeMultipartUpload(uploadID: "a b"),
        ] {
            #expect(throws: CHOMError.self) { try target.presign(bad, key: "t/a.test/1.tar.zst", lifetimeSeconds: 60, now: Self.exampleDate) }
        }
        #expect(throws: CHOMError.self) { try target.presign(.get, key: "../escape", lifetimeSeconds: 60, now: Self.exampleDate) }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("the AWS documentation's S3 examples sign to the published signatures", arguments: awsVectors)
    func awsExamples(vector: Vector) {
        let signed = Self.signer.sign(vector.request, date: Self.exampleDate)
        #expect(signed.signature == vector.signature)
        #expect(signed.signedHeaders == vector.signedHeaders)
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=\(vector.signedHeaders),Signature=\(vector.signature)")
        #expect(signed.amzDate == "20130524T000000Z")
        #expect(signed.host == Self.host)
        #expect(signed.headers.map(\.name) == ["host", "x-amz-date", "x-amz-content-sha256", "authorization"])
    }

    @Test("the GET Object example's canonical request and string to sign match the documentation")
    func getObjectIntermediates() {
        let signed = Self.signer.sign(Self.awsVectors[0].request, date: Self.exampleDate)
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        #expect(
            signed.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:\(empty)
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                \(empty)
                """)
        #expect(
            signed.stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
    }

    @Test(
        "a URL taken apart signs like the same request given in parts",
        arguments: [
            ("https://examplebucket.s3.amazonaws.com/?lifecycle", 2),
            ("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", 3),
            ("https://examplebucket.s3.amazonaws.com/test%24file.text", 1),
        ])
    func urlInput(url: String, vectorIndex: Int) throws {
        let vector = Self.awsVectors[vectorIndex]
        let request = try #require(
            SigV4Request(
                method: vector.request.method, url: URL(string: url)!, headers: vector.request.headers,
                payload: vector.request.payload))
        #expect(Self.signer.sign(request, date: Self.exampleDate).signature == vector.signature)
    }

    /// Cross-checked with botocore 1.43's S3SigV4Auth: a port in the host, a space, a non-ASCII
    /// letter and `~` in the key, `/`, `+` and `=` in a query value, UNSIGNED-PAYLOAD, a header value
    /// with runs of spaces, and query parameters given out of order.
    @Test("a multipart part upload to a loopback endpoint signs as botocore signs it")
    func botocoreCrossCheck() {
        let request = SigV4Request(
            method: "PUT", scheme: "http", host: "127.0.0.1", port: 9000,
            path: "/backups/site one/2026-01-02/über~v1.tar.zst",
            query: [("uploadId", "a/b+c="), ("partNumber", "3")],
            headers: [("Content-Length", "5242880"), ("X-Amz-Meta-Note", "  two   spaces  ")], payload: .unsigned)
        let signer = SigV4Signer(credentials: Self.signer.credentials, region: "eu-central-1")
        let signed = signer.sign(request, date: Date(timeIntervalSince1970: 1_767_323_045))
        #expect(signed.signature == "f46e6b348de724f91c6c00083d759940455c62f6679b146d0cc37b78d170781a")
        #expect(signed.host == "127.0.0.1:9000")
        #expect(signed.contentSHA256 == "UNSIGNED-PAYLOAD")
        #expect(
            request.url
                == "http://127.0.0.1:9000/backups/site%20one/2026-01-02/%C3%BCber~v1.tar.zst"
                + "?partNumber=3&uploadId=a%2Fb%2Bc%3D")
    }

    @Test("header names are case-insensitive, order-free and ours replace the caller's")
    func headerCanonicalisation() {
        let base = SigV4Request(
            method: "GET", host: Self.host, path: "/test.txt", headers: [("Range", "bytes=0-9")])
        var noisy = base
        noisy.headers = [
            ("X-AMZ-DATE", "19990101T000000Z"), ("HOST", "evil.example"), ("rAnGe", "  bytes=0-9 "),
            ("Authorization", "forged"),
        ]
        let expected = Self.signer.sign(base, date: Self.exampleDate)
        let signed = Self.signer.sign(noisy, date: Self.exampleDate)
        #expect(signed.signature == expected.signature)
        #expect(signed.host == Self.host)

        var repeated = base
        repeated.headers = [("X-Amz-Meta-A", "one"), ("x-amz-meta-a", "two   words")]
        #expect(Self.signer.sign(repeated, date: Self.exampleDate).canonicalRequest.contains("x-amz-meta-a:one,two words\n"))
    }

    @Test(
        "S3 URI encoding keeps only unreserved characters",
        arguments: [
            ("a b", "a%20b"), ("~tilde-._", "~tilde-._"), ("a/b", "a%2Fb"), ("ü", "%C3%BC"), ("€", "%E2%82%AC"),
            ("😀", "%F0%9F%98%80"), ("a+b=c&d", "a%2Bb%3Dc%26d"), ("*$!'()", "%2A%24%21%27%28%29"), ("%20", "%2520"),
            ("", ""),
        ])
    func uriEncoding(raw: String, encoded: String) {
        #expect(SigV4Request.uriEncode(raw) == encoded)
    }

    @Test(
        "paths are encoded per segment with slashes, empty segments and trailing slashes kept",
        arguments: [
            ("/bucket/dir/file name~v1.txt", "/bucket/dir/file%20name~v1.txt"),
            ("/bucket/ünï/cödé", "/bucket/%C3%BCn%C3%AF/c%C3%B6d%C3%A9"),
            ("/bucket/a//b/", "/bucket/a//b/"),
            ("/bucket/./../x", "/bucket/./../x"),
            ("", "/"),
            ("/", "/"),
        ])
    func pathEncoding(path: String, encoded: String) {
        #expect(SigV4Request(method: "GET", host: "h", path: path).encodedPath == encoded)
    }

    @Test("the query is sorted by encoded name, then value, and value-less parameters end in '='")
    func queryCanonicalisation() {
        let request = SigV4Request(
            method: "GET", host: "h", path: "/",
            query: [("prefix", "a/b c"), ("z", ""), ("é", "1"), ("a", "2"), ("a", "1"), ("uploads", "")])
        // "é" encodes to "%C3%A9", which sorts before every letter although "é" itself sorts after "z".
        #expect(request.canonicalQuery == "%C3%A9=1&a=1&a=2&prefix=a%2Fb%20c&uploads=&z=")
    }

    @Test("a URL's escapes are decoded once, so an encoded key is not encoded twice")
    func urlDecoding() throws {
        let url = try #require(URL(string: "http://[::1]:9000/b/my%20key/%C3%BC+1.txt?prefix=a%2Fb&uploads"))
        let request = try #require(SigV4Request(method: "POST", url: url))
        #expect(request.path == "/b/my key/ü+1.txt")
        #expect(request.query.map(\.name) == ["prefix", "uploads"])
        #expect(request.query.map(\.value) == ["a/b", ""])
        #expect(request.encodedPath == "/b/my%20key/%C3%BC%2B1.txt")
        #expect(request.hostHeader == "[::1]:9000")
    }

    @Test(
        "the host header carries the port unless it is the scheme's default",
        arguments: [
            ("https", 443, "s3.example.com"), ("http", 80, "s3.example.com"), ("https", 9000, "s3.example.com:9000"),
            ("http", 443, "s3.example.com:443"),
        ])
    func hostHeader(scheme: String, port: Int, expected: String) {
        #expect(SigV4Request(method: "GET", scheme: scheme, host: "s3.example.com", port: port, path: "/").hostHeader == expected)
    }

    @Test(
        "x-amz-date is UTC and correct across leap days, centuries and the epoch",
        arguments: [
            (1_369_353_600.0, "20130524T000000Z"), (951_868_799.0, "20000229T235959Z"),
            (4_107_585_600.0, "21000301T120000Z"), (0.0, "19700101T000000Z"), (-1.0, "19691231T235959Z"),
            (1_767_323_045.9, "20260102T030405Z"),
        ])
    func timestamps(seconds: Double, amzDate: String) {
        let request = SigV4Request(method: "GET", host: "h", path: "/")
        let signed = Self.signer.sign(request, date: Date(timeIntervalSince1970: seconds))
        #expect(signed.amzDate == amzDate)
        #expect(signed.stringToSign.contains("\n\(amzDate.prefix(8))/us-east-1/s3/aws4_request\n"))
    }

    @Test("the secret key appears in no description, reflection, dump or signing output")
    func secretNeverShown() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let credentials = Self.signer.credentials
        var dumped = ""
        dump(Self.signer, to: &dumped)
        let signed = Self.signer.sign(Self.awsVectors[0].request, date: Self.exampleDate)
        var dumpedSigned = ""
        dump(signed, to: &dumpedSigned)
        for text in [
            String(describing: credentials), String(reflecting: credentials), "\(Self.signer)", dumped, dumpedSigned,
        ] {
            #expect(!text.contains(secret))
            #expect(!text.contains("K7MDENG"))
        }
        #expect(String(describing: credentials).contains("AKIAIOSFODNN7EXAMPLE"))
    }
}
