import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("API tokens")
struct APITokenTests {
    /// Computed independently (Python: int.from_bytes, base62 `0-9A-Za-z`, zlib.crc32).
    static let knownID = APITokenID(UUID(uuidString: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")!)
    static let knownSecretBytes = [UInt8](0..<32)
    static let knownToken = "chom_7YBUWgZR1mKSqGyj9tVViw003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf21rGIk"

    /// A well-formed body with its correct checksum appended, to reach the checks behind the checksum.
    static func withChecksum(_ body: String) -> String {
        let crc = CRC32.checksum(body)
        return body + Base62.encode([UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
    }

    static func replacing(_ token: String, at offset: Int, with character: Character) -> String {
        var characters = Array(token)
        characters[offset] = character
        return String(characters)
    }

    @Test("CRC-32 matches the IEEE check value and known vectors", arguments: [
        ("123456789", 0xCBF4_3926 as UInt32), ("", 0), ("a", 0xE8B7_BE43), ("abc", 0x3524_41C2),
        ("The quick brown fox jumps over the lazy dog", 0x414F_A339),
    ])
    func crc32(input: String, expected: UInt32) {
        #expect(CRC32.checksum(input) == expected)
        #expect(CRC32.checksum(Array(input.utf8)) == expected)
    }

    @Test("base62 widths are the shortest that hold every value, and encoding is fixed-width")
    func base62Widths() throws {
        #expect(Base62.width(forByteCount: 16) == 22)
        #expect(Base62.width(forByteCount: 32) == 43)
        #expect(Base62.width(forByteCount: 4) == 6)
        #expect(Base62.encode([0, 0, 0, 0]) == "000000")
        #expect(Base62.encode([0, 0, 0, 61]) == "00000z")
        #expect(Base62.encode([0, 0, 0, 62]) == "000010")
        #expect(Base62.encode([0xFF, 0xFF, 0xFF, 0xFF]) == "4gfFC3")
        #expect(Base62.encode([UInt8](repeating: 0xFF, count: 16)) == "7n42DGM5Tflk9n8mt7Fhc7")
        #expect(Base62.decode("4gfFC3", byteCount: 4) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Base62.decode("4gfFC4", byteCount: 4) == nil)  // 2^32: does not fit
        #expect(Base62.decode("zzzzzz", byteCount: 4) == nil)
        #expect(Base62.decode("00000", byteCount: 4) == nil)
        #expect(Base62.decode("0000-0", byteCount: 4) == nil)
        for _ in 0..<50 {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
            #expect(try #require(Base62.decode(Base62.encode(bytes), byteCount: 32)) == bytes)
        }
    }

    @Test("a known id and secret give the independently computed token, which parses back")
    func knownAnswer() throws {
        let token = APIToken(id: Self.knownID, secretBytes: Self.knownSecretBytes)
        #expect(token.token == Self.knownToken)
        let parsed = try #require(APIToken(parsing: Self.knownToken))
        #expect(parsed == token)
        #expect(parsed.id == Self.knownID)
    }

    @Test("a generated token is 76 characters, carries the scanner prefix and parses back to itself")
    func roundTrip() throws {
        let token = APIToken.generate()
        #expect(token.token.utf8.count == 76)
        #expect(token.token.hasPrefix("chom_"))
        #expect(token.token.utf8.allSatisfy { $0 == UInt8(ascii: "_") || Base62.value(of: $0) != nil })
        let parsed = try #require(APIToken(parsing: token.token))
        #expect(parsed == token)
        #expect(parsed.secretSHA256 == token.secretSHA256)
        #expect(token.secretSHA256.count == 32)
        #expect(APIToken.generate().secret != token.secret)
        #expect(APIToken.generate().id != token.id)
    }

    @Test("the largest id and secret still fit and round-trip")
    func extremes() throws {
        let id = APITokenID(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        for bytes in [[UInt8](repeating: 0xFF, count: 32), [UInt8](repeating: 0, count: 32)] {
            let token = APIToken(id: id, secretBytes: bytes)
            #expect(try #require(APIToken(parsing: token.token)) == token)
        }
    }

    @Test("description and debugDescription never show the secret")
    func redacted() {
        let token = APIToken.generate()
        #expect(!token.description.contains(token.secret))
        #expect(!String(reflecting: token).contains(token.secret))
        #expect(!"\(token)".contains(token.secret))
        #expect(token.description.contains(token.id.description))
    }

    @Test("only the secret's own digest matches, compared whole")
    func digest() {
        let token = APIToken.generate()
        #expect(token.matches(secretSHA256: token.secretSHA256))
        #expect(!token.matches(secretSHA256: APIToken.generate().secretSHA256))
        #expect(!token.matches(secretSHA256: Array(token.secretSHA256.dropLast())))
        #expect(!token.matches(secretSHA256: []))
        // The digest is of the secret alone: the same secret under another id hashes alike.
        let sibling = APIToken(id: APITokenID(), secretBytes: Self.knownSecretBytes)
        #expect(sibling.secretSHA256 == APIToken(id: Self.knownID, secretBytes: Self.knownSecretBytes).secretSHA256)
    }

    static let malformedShapes: [String] = {
        let token = knownToken
        let body = token.dropFirst(5)
        return [
            "", "chom_", "chom", String(token.dropLast()), token + "0", token + "\n", " " + token, "CHOM_" + body,
            "chom-" + body, "chomx" + body, "chomjoin_" + token.dropFirst(9), body + "chom_", token.lowercased(),
            token.uppercased(), String(body),
        ]
    }()

    @Test("malformed shapes do not parse: length, prefix, case, whitespace", arguments: APITokenTests.malformedShapes)
    func malformedShape(token: String) {
        #expect(APIToken(parsing: token) == nil)
    }

    @Test("a character outside base62 is refused in the id, the secret and the checksum", arguments: [
        "-", "_", "+", "/", "=", " ", ".", "\0", "é", "Ж", "🔑", "０",
    ], [6, 30, 72])
    func outsideAlphabet(character: String, offset: Int) {
        let token = Self.replacing(Self.knownToken, at: offset, with: Character(character))
        #expect(APIToken(parsing: token) == nil)
        // Even with a checksum that matches the altered body.
        let body = String(token.prefix(70))
        if offset < 70 { #expect(APIToken(parsing: Self.withChecksum(body)) == nil) }
    }

    @Test("changing any one character of the id or secret breaks the checksum", arguments: 5..<70)
    func typoInBody(offset: Int) {
        let original = Array(Self.knownToken)[offset]
        let substitute: Character = original == "A" ? "B" : "A"
        #expect(APIToken(parsing: Self.replacing(Self.knownToken, at: offset, with: substitute)) == nil)
    }

    @Test("a checksum off by one character is refused", arguments: 70..<76)
    func badChecksum(offset: Int) {
        let original = Array(Self.knownToken)[offset]
        for substitute in ["0", "1", "z", "Z"].map(Character.init) where substitute != original {
            #expect(APIToken(parsing: Self.replacing(Self.knownToken, at: offset, with: substitute)) == nil)
        }
    }

    @Test("swapping two neighbouring characters breaks the checksum")
    func transposition() {
        var characters = Array(Self.knownToken)
        characters.swapAt(10, 11)
        #expect(characters[10] != characters[11])
        #expect(APIToken(parsing: String(characters)) == nil)
    }

    @Test("an id or secret too large for its bytes is refused even with a valid checksum")
    func overflow() {
        let secret = String(Self.knownToken.dropFirst(27).prefix(43))
        let id = String(Self.knownToken.dropFirst(5).prefix(22))
        #expect(APIToken(parsing: Self.withChecksum("chom_" + String(repeating: "z", count: 22) + secret)) == nil)
        #expect(APIToken(parsing: Self.withChecksum("chom_" + "7n42DGM5Tflk9n8mt7Fhc8" + secret)) == nil)
        #expect(APIToken(parsing: Self.withChecksum("chom_" + id + String(repeating: "z", count: 43))) == nil)
        // The body itself is fine: with its own checksum it parses.
        #expect(APIToken(parsing: Self.withChecksum("chom_" + id + secret)) != nil)
    }

    @Test("a checksum value above 32 bits is refused")
    func checksumOverflow() {
        #expect(APIToken(parsing: String(Self.knownToken.prefix(70)) + "zzzzzz") == nil)
        #expect(APIToken(parsing: String(Self.knownToken.prefix(70)) + "4gfFC4") == nil)
    }
}
