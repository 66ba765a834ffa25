import CHOMAgent
import CHOMBackup
import CHOMCore
import Testing

@Suite("S3 listing and completion documents")
struct S3XMLResponsesTests {
    @Test("a ListObjectsV2 page gives every Key and Size, entities decoded, and the continuation token")
    func listPage() throws {
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>t/</Prefix>
            <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
            <ContinuationToken>prev</ContinuationToken><NextContinuationToken>1/a+b=</NextContinuationToken>
            <Contents><Key>t/a &amp; b.tar.zst</Key><LastModified>2026-11-26T12:00:00.000Z</LastModified>
            <ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
            <Contents><Key>t/c.tar.zst</Key><Size>0</Size></Contents></ListBucketResult>
            """
        let page = try S3XML.listObjectsPage(from: Array(document.utf8))
        #expect(page.objects == [BackupObject(key: "t/a & b.tar.zst", size: 12), BackupObject(key: "t/c.tar.zst", size: 0)])
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1/a+b=")
    }

    @Test("the last page has no token; an empty listing has no objects")
    func lastPage() throws {
        let document = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
        let page = try S3XML.listObjectsPage(from: Array(document.utf8))
        #expect(page.objects.isEmpty)
        #expect(!page.isTruncated)
        #expect(page.nextContinuationToken == nil)
    }

    @Test(
        "malformed listings are refused",
        arguments: [
            "<Error><Code>NoSuchBucket</Code></Error>",
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        ])
    func malformed(document: String) {
        #expect(throws: CHOMError.self) { try S3XML.listObjectsPage(from: Array(document.utf8)) }
    }

    @Test("the completion ETag is read; pending uploads are listed by key and id")
    func completionAndUploads() throws {
        let complete = #"<CompleteMultipartUploadResult><Key>k</Key><ETag>"d41d-3"</ETag></CompleteMultipartUploadResult>"#
        #expect(S3XML.completeMultipartUploadETag(from: Array(complete.utf8)) == "\"d41d-3\"")
        let uploads = """
            <ListMultipartUploadsResult><Bucket>b</Bucket><UploadIdMarker></UploadIdMarker>
            <Upload><Key>t/a</Key><UploadId>id-1</UploadId></Upload><Upload><Key>t/b</Key><UploadId>id-2</UploadId></Upload>
            </ListMultipartUploadsResult>
            """
        let parsed = try S3XML.multipartUploads(from: Array(uploads.utf8))
        #expect(parsed.map(\.key) == ["t/a", "t/b"])
        #expect(parsed.map(\.uploadID) == ["id-1", "id-2"])
    }
}
