package import CHOMCore

/// How an object of a known size is cut into S3 multipart-upload parts: every part but the last
/// has `partSize` bytes, part numbers run from 1, and there are at most 10,000 of them.
package struct MultipartPlan: Sendable, Equatable {
    package struct Part: Sendable, Equatable {
        /// 1-based, as S3 numbers parts.
        package var number: Int
        package var offset: Int
        package var length: Int

        package init(number: Int, offset: Int, length: Int) {
            self.number = number
            self.offset = offset
            self.length = length
        }
    }

    /// S3's floor for every part but the last.
    package static let minimumPartSize = 5 * 1024 * 1024
    /// S3's ceiling for one part.
    package static let maximumPartSize = 5 * 1024 * 1024 * 1024
    package static let maximumPartCount = 10_000
    /// S3's ceiling for one object.
    package static let maximumObjectSize = 5 * 1024 * 1024 * 1024 * 1024

    package let objectSize: Int
    package let partSize: Int
    /// At least 1: an empty object is one empty part, so CompleteMultipartUpload always lists a part.
    package let partCount: Int

    /// Picks the smallest part size that is at least `requestedPartSize` (raised to 5 MiB) and
    /// keeps the object within 10,000 parts.
    package init(objectSize: Int, requestedPartSize: Int = MultipartPlan.minimumPartSize) throws(CHOMError) {
        guard objectSize >= 0 else { throw CHOMError(.invalidInput, "object size is negative") }
        guard objectSize <= Self.maximumObjectSize else {
            throw CHOMError(.payloadTooLarge, "object of \(objectSize) bytes exceeds the 5 TiB S3 object limit")
        }
        guard requestedPartSize <= Self.maximumPartSize else {
            throw CHOMError(.invalidInput, "part size \(requestedPartSize) exceeds the 5 GiB S3 part limit")
        }
        let fitting = (objectSize + Self.maximumPartCount - 1) / Self.maximumPartCount
        let partSize = max(requestedPartSize, Self.minimumPartSize, fitting)
        self.objectSize = objectSize
        self.partSize = partSize
        self.partCount = objectSize == 0 ? 1 : (objectSize + partSize - 1) / partSize
    }

    /// True when the whole object fits in one part: a single PUT does the job.
    package var fitsOnePart: Bool { partCount == 1 }

    /// The part with this 1-based number.
    package func part(_ number: Int) -> Part {
        precondition((1...partCount).contains(number), "part number out of range")
        let offset = (number - 1) * partSize
        return Part(number: number, offset: offset, length: min(partSize, objectSize - offset))
    }

    /// Every part, in order.
    package var parts: [Part] { (1...partCount).map(part) }
}
