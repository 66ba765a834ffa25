import CHOMAgent
import CHOMBackup
import CHOMCore
import Testing

@Suite("Multipart upload plans")
struct MultipartPlanTests {
    static let mebibyte = 1024 * 1024
    static let minimum = 5 * mebibyte

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var size: Int
        var requested: Int = MultipartPlan.minimumPartSize
        var partSize: Int
        var partCount: Int
        var lastLength: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty object: one empty part", size: 0, partSize: minimum, partCount: 1, lastLength: 0),
        Case(name: "one byte", size: 1, partSize: minimum, partCount: 1, lastLength: 1),
        Case(name: "exactly 5 MiB: one full part", size: minimum, partSize: minimum, partCount: 1, lastLength: minimum),
        Case(name: "5 MiB + 1: a full part and one byte", size: minimum + 1, partSize: minimum, partCount: 2, lastLength: 1),
        Case(
            name: "10,000 parts of 5 MiB exactly", size: 10_000 * minimum, partSize: minimum, partCount: 10_000,
            lastLength: minimum),
        Case(
            name: "one byte past 10,000 × 5 MiB: the part grows by one byte", size: 10_000 * minimum + 1,
            partSize: minimum + 1, partCount: 10_000, lastLength: minimum + 1 - 9_999),
        Case(
            name: "100 GiB needs parts above 5 MiB", size: 100 * 1024 * mebibyte, partSize: 10_737_419,
            partCount: 10_000, lastLength: 100 * 1024 * mebibyte - 9_999 * 10_737_419),
        Case(
            name: "a requested 8 MiB part is kept", size: 20 * mebibyte, requested: 8 * mebibyte,
            partSize: 8 * mebibyte, partCount: 3, lastLength: 4 * mebibyte),
        Case(
            name: "a requested 1 MiB part is raised to 5 MiB", size: 12 * mebibyte, requested: mebibyte,
            partSize: minimum, partCount: 3, lastLength: 2 * mebibyte),
        Case(
            name: "the 5 TiB maximum object", size: MultipartPlan.maximumObjectSize, partSize: 549_755_814,
            partCount: 10_000, lastLength: MultipartPlan.maximumObjectSize - 9_999 * 549_755_814),
    ]

    @Test("the plan picks the smallest fitting part size and covers the object exactly", arguments: cases)
    func plans(testCase: Case) throws {
        let plan = try MultipartPlan(objectSize: testCase.size, requestedPartSize: testCase.requested)
        #expect(plan.partSize == testCase.partSize)
        #expect(plan.partSize >= MultipartPlan.minimumPartSize)
        #expect(plan.partSize <= MultipartPlan.maximumPartSize)
        try #require(plan.partCount == testCase.partCount)
        try #require(plan.partCount <= MultipartPlan.maximumPartCount)
        let parts = plan.parts
        #expect(parts.last?.length == testCase.lastLength)
        #expect(parts.map(\.number) == Array(1...testCase.partCount))
        // Contiguous, in order, every part but the last full, nothing past the end.
        var offset = 0
        var wrong: [MultipartPlan.Part] = []
        for part in parts {
            if part.offset != offset || (part.number < plan.partCount && part.length != plan.partSize) {
                wrong.append(part)
            }
            offset += part.length
        }
        #expect(wrong.isEmpty)
        #expect(offset == testCase.size)
        // Smallest: one byte less would need more than 10,000 parts (or fall below the floor or the request).
        let smaller = plan.partSize - 1
        let floor = max(MultipartPlan.minimumPartSize, testCase.requested)
        #expect(smaller < floor || (testCase.size + smaller - 1) / smaller > MultipartPlan.maximumPartCount)
        #expect(plan.fitsOnePart == (testCase.partCount == 1))
    }

    @Test(
        "impossible plans are refused",
        arguments: [
            (-1, MultipartPlan.minimumPartSize, CHOMError.Code.invalidInput),
            (MultipartPlan.maximumObjectSize + 1, MultipartPlan.minimumPartSize, .payloadTooLarge),
            (10 * 1024 * 1024, MultipartPlan.maximumPartSize + 1, .invalidInput),
        ])
    func refused(size: Int, requested: Int, code: CHOMError.Code) {
        #expect { try MultipartPlan(objectSize: size, requestedPartSize: requested) } throws: { error in
            (error as? CHOMError)?.code == code
        }
    }

    @Test("a single part is addressable by number")
    func singlePart() throws {
        let plan = try MultipartPlan(objectSize: 11 * Self.mebibyte)
        #expect(plan.part(3) == MultipartPlan.Part(number: 3, offset: 10 * Self.mebibyte, length: Self.mebibyte))
    }
}
