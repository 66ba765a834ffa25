import CHOMCoordinator
import Foundation
import Testing

@Suite("TOTP (RFC 6238) and HOTP (RFC 4226)")
struct TOTPTests {
    /// The RFC test secret, ASCII "12345678901234567890".
    static let secret = Array("12345678901234567890".utf8)

    @Test("RFC 4226 Appendix D HOTP values", arguments: zip(0..<10, [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489",
    ]))
    func hotp(counter: Int, expected: String) {
        #expect(TOTP.hotp(secret: Self.secret, counter: UInt64(counter), digits: 6) == expected)
    }

    @Test("RFC 6238 Appendix B SHA-1 values: 8 digits exactly, and our 6-digit code is their last six", arguments: [
        (59 as Int64, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238(seconds: Int64, expected: String) {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        #expect(TOTP.step(at: date) == seconds / 30)
        #expect(TOTP.hotp(secret: Self.secret, counter: UInt64(TOTP.step(at: date)), digits: 8) == expected)
        #expect(TOTP.code(secret: Self.secret, at: date) == String(expected.suffix(6)))
        #expect(TOTP.verify(code: String(expected.suffix(6)), secret: Self.secret, at: date, lastUsedStep: nil) == seconds / 30)
    }

    @Test("steps are 30 seconds: the code changes exactly at a multiple of 30")
    func stepBoundary() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // a multiple of 30
        #expect(TOTP.step(at: start) == 60_000_000)
        #expect(TOTP.step(at: start.addingTimeInterval(29.999)) == 60_000_000)
        #expect(TOTP.step(at: start.addingTimeInterval(30)) == 60_000_001)
        #expect(TOTP.step(at: start.addingTimeInterval(-0.001)) == 59_999_999)
        #expect(TOTP.code(secret: Self.secret, at: start) == TOTP.code(secret: Self.secret, at: start.addingTimeInterval(29)))
    }

    @Test("a code one step either side of now is accepted and reports its own step", arguments: [-1, 0, 1])
    func window(offset: Int64) {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTP.step(at: now) + offset
        let code = TOTP.hotp(secret: Self.secret, counter: UInt64(step), digits: 6)
        #expect(TOTP.verify(code: code, secret: Self.secret, at: now, lastUsedStep: nil) == step)
    }

    @Test("a code two or more steps away is refused", arguments: [-10, -3, -2, 2, 3, 10])
    func outsideWindow(offset: Int64) {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let code = TOTP.hotp(secret: Self.secret, counter: UInt64(TOTP.step(at: now) + offset), digits: 6)
        #expect(TOTP.verify(code: code, secret: Self.secret, at: now, lastUsedStep: nil) == nil)
    }

    @Test("a step once accepted is never accepted again, nor an older one")
    func replay() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let code = TOTP.code(secret: Self.secret, at: now)
        let used = try #require(TOTP.verify(code: code, secret: Self.secret, at: now, lastUsedStep: nil))
        #expect(TOTP.verify(code: code, secret: Self.secret, at: now, lastUsedStep: used) == nil)
        #expect(TOTP.verify(code: code, secret: Self.secret, at: now.addingTimeInterval(20), lastUsedStep: used) == nil)
        let previous = TOTP.hotp(secret: Self.secret, counter: UInt64(used - 1), digits: 6)
        #expect(TOTP.verify(code: previous, secret: Self.secret, at: now, lastUsedStep: used) == nil)
        // The next step's code still works.
        let next = now.addingTimeInterval(30)
        #expect(TOTP.verify(code: TOTP.code(secret: Self.secret, at: next), secret: Self.secret, at: next, lastUsedStep: used) == used + 1)
        // After accepting a code one step ahead (a fast phone), the current step's code is refused.
        let ahead = TOTP.hotp(secret: Self.secret, counter: UInt64(used + 1), digits: 6)
        #expect(TOTP.verify(code: ahead, secret: Self.secret, at: now, lastUsedStep: used - 5) == used + 1)
        #expect(TOTP.verify(code: code, secret: Self.secret, at: now, lastUsedStep: used + 1) == nil)
    }

    @Test("input that is not exactly six ASCII digits is refused", arguments: [
        "", "12345", "1234567", "94287082", "28708a", " 287082", "287082 ", "287 082", "-28708", "２８７０８２", "28708²",
        "+28708",
    ])
    func malformedCode(code: String) {
        let date = Date(timeIntervalSince1970: 59)  // where 287082 is the correct code
        #expect(TOTP.verify(code: "287082", secret: Self.secret, at: date, lastUsedStep: nil) == 1)
        #expect(TOTP.verify(code: code, secret: Self.secret, at: date, lastUsedStep: nil) == nil)
    }

    @Test("a wrong code or another secret is refused")
    func wrongCode() {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let code = TOTP.code(secret: Self.secret, at: now)
        let wrong = String(code.dropLast()) + (code.hasSuffix("0") ? "1" : "0")
        #expect(TOTP.verify(code: wrong, secret: Self.secret, at: now, lastUsedStep: nil) == nil)
        #expect(TOTP.verify(code: code, secret: TOTP.generateSecret(), at: now, lastUsedStep: nil) == nil)
    }

    @Test("near the epoch there is no negative step to match")
    func epoch() {
        let zero = Date(timeIntervalSince1970: 0)
        #expect(TOTP.verify(code: "755224", secret: Self.secret, at: zero, lastUsedStep: nil) == 0)
        #expect(TOTP.verify(code: "287082", secret: Self.secret, at: zero, lastUsedStep: nil) == 1)
        #expect(TOTP.verify(code: "755224", secret: Self.secret, at: zero, lastUsedStep: 0) == nil)
    }

    @Test("a generated secret is 20 random bytes")
    func generatedSecret() {
        let secret = TOTP.generateSecret()
        #expect(secret.count == 20)
        #expect(TOTP.generateSecret() != secret)
        #expect(Base32.encode(secret).count == 32)
    }

    @Test("the otpauth URI carries the base32 secret, the issuer twice and the parameters, percent-encoded")
    func otpauthURI() throws {
        let uri = TOTP.otpauthURI(issuer: "CHOM", account: "alice@example.com", secret: Self.secret)
        #expect(
            uri == "otpauth://totp/CHOM:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=CHOM"
                + "&algorithm=SHA1&digits=6&period=30")
        let odd = TOTP.otpauthURI(issuer: "ACME Hosting: EU", account: "bob&co=1/é", secret: [0xFF])
        #expect(odd.hasPrefix("otpauth://totp/ACME%20Hosting%3A%20EU:bob%26co%3D1%2F%C3%A9?secret=74&"))
        #expect(odd.contains("&issuer=ACME%20Hosting%3A%20EU&"))
        let components = try #require(URLComponents(string: odd))
        #expect(components.scheme == "otpauth")
        #expect(components.host == "totp")
        let items = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["issuer"] == "ACME Hosting: EU")
        #expect(items["secret"].flatMap { Base32.decode($0) } == [0xFF])
        #expect(items["digits"] == "6")
        #expect(items["period"] == "30")
        #expect(items["algorithm"] == "SHA1")
    }
}

@Suite("Base32 (RFC 4648)")
struct Base32Tests {
    @Test("RFC 4648 §10 vectors, padding removed", arguments: [
        ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ])
    func vectors(plain: String, encoded: String) {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Array(plain.utf8))
        #expect(Base32.decode(encoded.lowercased()) == Array(plain.utf8))
    }

    @Test("random bytes of every length round-trip", arguments: 0..<41)
    func roundTrip(length: Int) throws {
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
        let encoded = Base32.encode(bytes)
        #expect(encoded.count == (length * 8 + 4) / 5)
        #expect(try #require(Base32.decode(encoded)) == bytes)
    }

    @Test("characters outside the alphabet, padding, impossible lengths and stray bits are refused", arguments: [
        "MY======", "MZXW6===", "M", "MZX", "MZXW6Y", "MZXW6YTBO", "M1", "M0", "M8", "M9", "MY!", "MZ XQ", "MZ-XQ",
        "MZXQ\n", "MZ", "MZXR", "MZXW7", "MZXW6YR", "MZXW6YTBOJ", "ÉY", "MY=",
    ])
    func invalid(text: String) {
        #expect(Base32.decode(text) == nil)
    }
}
