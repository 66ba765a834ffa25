import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("S3 multipart XML documents")
struct S3XMLTests {
    /// Reads `<Part>` elements back with a real XML parser (libxml2), independent of S3XML's own scanning.
    final class PartReader: NSObject, XMLParserDelegate {
        var parts: [(number: String, etag: String)] = []
        var root = ""
        private var text = ""
        private var number = ""

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if root.isEmpty { root = name }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "PartNumber" { number = text }
            if name == "ETag" { parts.append((number, text)) }
        }
    }

    @Test("the completion body lists parts in ascending order with ETags escaped for XML")
    func completionBody() throws {
        let body = try S3XML.completeMultipartUploadBody([
            .init(partNumber: 2, etag: "\"b&<c>\""), .init(partNumber: 1, etag: "\"7fc56270e7a70fa81a5935b72eacbe29\""),
        ])
        #expect(
            body == #"<?xml version="1.0" encoding="UTF-8"?>"#
                + #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
                + #"<Part><PartNumber>1</PartNumber><ETag>"7fc56270e7a70fa81a5935b72eacbe29"</ETag></Part>"#
                + #"<Part><PartNumber>2</PartNumber><ETag>"b&amp;&lt;c&gt;"</ETag></Part>"#
                + "</CompleteMultipartUpload>")

        let reader = PartReader()
        let parser = XMLParser(data: Data(body.utf8))
        parser.delegate = reader
        #expect(parser.parse())
        #expect(reader.root == "CompleteMultipartUpload")
        #expect(reader.parts.map(\.number) == ["1", "2"])
        #expect(reader.parts.map(\.etag) == ["\"7fc56270e7a70fa81a5935b72eacbe29\"", "\"b&<c>\""])
        #expect(S3XML.contentType == "application/xml")
    }

    @Test(
        "completion refuses no parts, numbers out of range, repeats and characters XML cannot carry",
        arguments: [
            [], [S3XML.CompletedPart(partNumber: 0, etag: "\"a\"")], [.init(partNumber: 10_001, etag: "\"a\"")],
            [.init(partNumber: 3, etag: "\"a\""), .init(partNumber: 3, etag: "\"b\"")],
            [.init(partNumber: 1, etag: "\"a\u{0}\"")], [.init(partNumber: 1, etag: "\"a\u{1B}[31m\"")],
        ])
    func completionRefused(parts: [S3XML.CompletedPart]) {
        #expect(throws: CHOMError.self) { try S3XML.completeMultipartUploadBody(parts) }
    }

    @Test(
        "the UploadId is read from moto's and AWS's InitiateMultipartUploadResult",
        arguments: [
            (
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<InitiateMultipartUploadResult "
                    + "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>chom-backups</Bucket>"
                    + "<Key>a b/ü.tar</Key><UploadId>8L2yAvlNACXQ1Mn40QLGqIGWXEwQRmi1ctYv8cHcXRLZYrN8FZOw</UploadId>"
                    + "</InitiateMultipartUploadResult>",
                "8L2yAvlNACXQ1Mn40QLGqIGWXEwQRmi1ctYv8cHcXRLZYrN8FZOw"
            ),
            (
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <Bucket>example-bucket</Bucket>
                  <Key>example-object</Key>
                  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
                </InitiateMultipartUploadResult>
                """,
                "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
            ),
            (
                "<InitiateMultipartUploadResult><UploadIdMarker>no</UploadIdMarker>"
                    + "<UploadId>a&amp;b&#x2F;c&#61;</UploadId></InitiateMultipartUploadResult>",
                "a&b/c="
            ),
            ("<InitiateMultipartUploadResult><UploadId><![CDATA[x<y]]></UploadId></InitiateMultipartUploadResult>", "x<y"),
        ])
    func uploadID(document: String, expected: String) throws {
        #expect(try S3XML.uploadID(fromInitiateResponse: Array(document.utf8)) == expected)
    }

    @Test(
        "a document without a usable UploadId is refused",
        arguments: [
            "", "<html>502 Bad Gateway</html>", "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>",
            "<InitiateMultipartUploadResult><UploadId>abc", "<Error><Code>AccessDenied</Code><UploadId>x</UploadId></Error>",
            "<InitiateMultipartUploadResult><UploadId>a&bogus;</UploadId></InitiateMultipartUploadResult>",
        ])
    func uploadIDRefused(document: String) {
        #expect(throws: CHOMError.self) { try S3XML.uploadID(fromInitiateResponse: Array(document.utf8)) }
    }

    @Test(
        "S3, moto and wrapped error documents give their code and message",
        arguments: [
            (
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>MalformedXML</Code><Message>The XML you "
                    + "provided was not well-formed or did not validate against our published schema</Message>"
                    + "<RequestId>S3ny7RYMjZ3nUpdIgoGUjXiScNMUjV1ljKJ5cpXXwvQ18vKJbGOb</RequestId></Error>",
                S3XML.ErrorResponse(
                    code: "MalformedXML",
                    message: "The XML you provided was not well-formed or did not validate against our published schema",
                    requestID: "S3ny7RYMjZ3nUpdIgoGUjXiScNMUjV1ljKJ5cpXXwvQ18vKJbGOb")
            ),
            (
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Error>
                  <Code>NoSuchKey</Code>
                  <Message>The resource you requested does not exist</Message>
                  <Resource>/mybucket/myfoto.jpg</Resource>
                  <RequestId>4442587FB7D0A2F9</RequestId>
                </Error>
                """,
                .init(
                    code: "NoSuchKey", message: "The resource you requested does not exist", requestID: "4442587FB7D0A2F9",
                    resource: "/mybucket/myfoto.jpg")
            ),
            (
                "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>it&apos;s &lt;wrong&gt; &#233;"
                    + "</Message></Error></ErrorResponse>",
                .init(code: "SignatureDoesNotMatch", message: "it's <wrong> é")
            ),
            ("<Error><Code>SlowDown</Code><Message/></Error>", .init(code: "SlowDown", message: "")),
        ])
    func errorDocuments(document: String, expected: S3XML.ErrorResponse) {
        #expect(S3XML.errorResponse(from: Array(document.utf8)) == expected)
    }

    @Test(
        "bodies that are not S3 error documents give nil",
        arguments: [
            "", "<html><body>Error</body></html>", "<Error><Message>no code</Message></Error>",
            "<Error><Code>Trunc", "<Errors><Code>X</Code></Errors>", "<Error><Code><b>X</b></Code></Error>",
        ])
    func notErrorDocuments(document: String) {
        #expect(S3XML.errorResponse(from: Array(document.utf8)) == nil)
    }

    @Test("documents over 1 MiB are not read")
    func oversized() {
        let padding = String(repeating: " ", count: 1024 * 1024)
        #expect(S3XML.errorResponse(from: Array("<Error><Code>X</Code></Error>\(padding)".utf8)) == nil)
        #expect(S3XML.errorResponse(from: Array("<Error><Code>X</Code></Error>".utf8))?.code == "X")
    }
}
