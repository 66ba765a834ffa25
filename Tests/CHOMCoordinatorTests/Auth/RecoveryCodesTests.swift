import CHOMCoordinator
import Foundation
import Testing

@Suite("Recovery codes")
struct RecoveryCodesTests {
    static func isWellFormed(_ code: String) -> Bool {
        let groups = code.split(separator: "-", omittingEmptySubsequences: false)
        return groups.count == 3
            && groups.allSatisfy { group in
                group.count == 4 && group.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x32...0x37).contains($0) }
            }
    }

    @Test("ten distinct codes of the form xxxx-xxxx-xxxx, with one distinct SHA-256 each")
    func generate() {
        let issued = RecoveryCodes.generate()
        #expect(issued.codes.count == 10)
        #expect(Set(issued.codes).count == 10)
        #expect(issued.codes.allSatisfy(Self.isWellFormed))
        #expect(issued.hashes.count == 10)
        #expect(Set(issued.hashes).count == 10)
        #expect(issued.hashes.allSatisfy { $0.count == 32 })
        #expect(RecoveryCodes.generate().codes != issued.codes)
    }

    @Test("60 bits map to 12 base32 characters, most significant first")
    func format() {
        #expect(RecoveryCodes.normalize("aaaa-aaaa-aaaa") == "aaaaaaaaaaaa")
        #expect(RecoveryCodes.normalize("7777-7777-7777") == "777777777777")
        let codes = RecoveryCodes.generate().codes
        #expect(codes.allSatisfy { RecoveryCodes.normalize($0) == $0.replacingOccurrences(of: "-", with: "") })
    }

    @Test("each code works exactly once, and all ten can be used up")
    func singleUse() throws {
        let issued = RecoveryCodes.generate()
        var hashes = issued.hashes
        for (used, code) in issued.codes.enumerated() {
            hashes = try #require(RecoveryCodes.consume(code, hashes: hashes))
            #expect(hashes.count == 9 - used)
            #expect(RecoveryCodes.consume(code, hashes: hashes) == nil)
        }
        #expect(hashes.isEmpty)
        #expect(RecoveryCodes.consume(issued.codes[0], hashes: hashes) == nil)
    }

    @Test("only the matching hash is removed, in place")
    func removesOnlyTheMatch() throws {
        let issued = RecoveryCodes.generate()
        let remaining = try #require(RecoveryCodes.consume(issued.codes[4], hashes: issued.hashes))
        var expected = issued.hashes
        expected.remove(at: 4)
        #expect(remaining == expected)
    }

    @Test("case, dashes and spaces as typed do not matter", arguments: [
        { (code: String) in code.uppercased() }, { $0.replacingOccurrences(of: "-", with: "") },
        { $0.replacingOccurrences(of: "-", with: " ") }, { " " + $0 + " " }, { $0.replacingOccurrences(of: "-", with: "--") },
        { String($0.prefix(7)).uppercased() + $0.dropFirst(7) },
    ] as [@Sendable (String) -> String])
    func normalized(transform: @Sendable (String) -> String) throws {
        let issued = RecoveryCodes.generate()
        let remaining = try #require(RecoveryCodes.consume(transform(issued.codes[0]), hashes: issued.hashes))
        #expect(remaining.count == 9)
    }

    @Test("malformed codes are refused before any comparison", arguments: [
        "", "aaaa-aaaa-aaa", "aaaa-aaaa-aaaaa", "aaaa-aaaa-aaa1", "aaaa-aaaa-aaa0", "aaaa-aaaa-aaa8", "aaaa_aaaa_aaaa",
        "aaaa-aaaa-aaa!", "aaaa-aaaa-aaaé", "aaaa\taaaa\taaaa", "aaaa.aaaa.aaaa",
    ])
    func malformed(code: String) {
        #expect(RecoveryCodes.normalize(code) == nil)
        #expect(RecoveryCodes.consume(code, hashes: RecoveryCodes.generate().hashes) == nil)
    }

    @Test("a well-formed code that was not issued is refused")
    func notIssued() {
        let issued = RecoveryCodes.generate()
        #expect(RecoveryCodes.consume("aaaa-aaaa-aaaa", hashes: issued.hashes) == nil)
        #expect(RecoveryCodes.consume(RecoveryCodes.generate().codes[0], hashes: issued.hashes) == nil)
        #expect(RecoveryCodes.consume(issued.codes[0], hashes: []) == nil)
    }

    @Test("stored hashes do not reveal the codes")
    func hashesAreNotCodes() {
        let issued = RecoveryCodes.generate()
        for (code, hash) in zip(issued.codes, issued.hashes) {
            #expect(Array(code.utf8) != hash)
            #expect(!String(decoding: hash, as: UTF8.self).contains(code))
        }
    }
}
