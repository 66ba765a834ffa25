import CHOMCoordinator
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("Secrets key ring")
struct KeyRingTests {
    static let keyA = Data(repeating: 0x11, count: 32).base64EncodedString()
    static let keyB = Data(repeating: 0x22, count: 32).base64EncodedString()

    @Test("a configuration string of two keys loads with the chosen active key")
    func configuration() throws {
        let ring = try KeyRing(configuration: "2026-01:\(Self.keyA), 2027-01:\(Self.keyB)", active: "2027-01")
        #expect(ring.keyIDs == ["2026-01", "2027-01"])
        #expect(ring.activeKeyID == "2027-01")
        #expect(ring.activeKey == SymmetricKey(data: Data(repeating: 0x22, count: 32)))
        #expect(ring.key(id: "2026-01") == SymmetricKey(data: Data(repeating: 0x11, count: 32)))
        #expect(ring.key(id: "2025-01") == nil)
    }

    @Test("keys may be url-safe or unpadded base64")
    func base64Variants() throws {
        let bytes = Data((0..<32).map { UInt8($0 * 8 + 3) })
        let standard = bytes.base64EncodedString()
        #expect(standard.contains("+") || standard.contains("/"))
        let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for encoded in [standard, String(standard.dropLast()), urlSafe, String(urlSafe.dropLast())] {
            let ring = try KeyRing(configuration: "k:\(encoded)", active: "k")
            #expect(ring.activeKey == SymmetricKey(data: bytes))
        }
    }

    @Test("a key file holds one key per line, with blank lines and comments")
    func keyFile() throws {
        let text = "# CHOM secrets keys\n\nold:\(Self.keyA)\r\n  new:\(Self.keyB)  \n# retired: none\n"
        let ring = try KeyRing(keyFileContents: text, active: "new")
        #expect(ring.keyIDs == ["new", "old"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chom-keys-\(UUID()).txt")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let loaded = try KeyRing(keyFile: url, active: "old")
        #expect(loaded.keyIDs == ["new", "old"])
        #expect(loaded.activeKeyID == "old")
        let missing = url.appendingPathExtension("missing")
        #expect(throws: SecretBoxError.unreadableKeyFile(path: missing.path)) { try KeyRing(keyFile: missing, active: "old") }
    }

    static let refusals: [(text: String, active: String, error: SecretBoxError)] = [
        ("", "k", .emptyKeyRing),
        (" , ", "k", .emptyKeyRing),
        ("k\(keyA)", "k", .malformedKeyEntry(entry: 1)),
        ("j:\(keyB),k:", "k", .malformedKeyEntry(entry: 2)),
        (":\(keyA)", "k", .invalidKeyID(entry: 1)),
        ("my key:\(keyA)", "my key", .invalidKeyID(entry: 1)),
        ("\(String(repeating: "k", count: 65)):\(keyA)", "k", .invalidKeyID(entry: 1)),
        ("k:not base64!", "k", .invalidKeyEncoding(keyID: "k")),
        ("k:\(Data(repeating: 1, count: 16).base64EncodedString())", "k", .invalidKeyLength(keyID: "k", byteCount: 16)),
        ("k:\(Data(repeating: 1, count: 33).base64EncodedString())", "k", .invalidKeyLength(keyID: "k", byteCount: 33)),
        ("k:\(keyA),k:\(keyB)", "k", .duplicateKeyID("k")),
        ("k:\(keyA)", "other", .unknownActiveKey("other")),
        ("k:\(keyA)", "", .unknownActiveKey("")),
    ]

    @Test("a bad configuration is refused with the precise reason", arguments: 0..<refusals.count)
    func refused(index: Int) {
        let (text, active, expected) = Self.refusals[index]
        #expect(throws: expected) { try KeyRing(configuration: text, active: active) }
    }

    @Test("no refusal describes key material", arguments: 0..<refusals.count)
    func refusalsHideKeys(index: Int) {
        let (text, active, _) = Self.refusals[index]
        do {
            _ = try KeyRing(configuration: text, active: active)
            Issue.record("expected a refusal")
        } catch {
            for secret in [Self.keyA, Self.keyB, String(Self.keyA.prefix(12)), String(Self.keyB.prefix(12))] {
                #expect(!error.description.contains(secret))
                #expect(!error.chomError().debugDescription.contains(secret))
            }
            #expect(error.code == .configuration)
        }
    }

    @Test("a key file's errors are numbered by line")
    func keyFileLines() {
        #expect(throws: SecretBoxError.malformedKeyEntry(entry: 3)) {
            try KeyRing(keyFileContents: "# keys\na:\(Self.keyA)\nbroken\n", active: "a")
        }
    }

    @Test("a ring built from keys refuses keys that are not 256-bit")
    func keySizes() {
        #expect(throws: SecretBoxError.invalidKeyLength(keyID: "k", byteCount: 16)) {
            try KeyRing(keys: [("k", SymmetricKey(size: .bits128))], active: "k")
        }
        #expect(throws: SecretBoxError.emptyKeyRing) { try KeyRing(keys: [], active: "k") }
    }

    @Test("describing or dumping a ring shows key ids only")
    func descriptions() throws {
        let ring = try KeyRing(configuration: "a:\(Self.keyA),b:\(Self.keyB)", active: "b")
        var dumped = ""
        dump(ring, to: &dumped)
        for text in [String(describing: ring), String(reflecting: ring), dumped, "\(ring)"] {
            #expect(text.contains("b"))
            #expect(!text.contains(Self.keyA) && !text.contains(Self.keyB))
            #expect(!text.contains("17, 17, 17") && !text.contains("0x11") && !text.lowercased().contains("1111"))
        }
    }

    @Test("a generated entry is a fresh 256-bit key that loads into a ring")
    func generated() throws {
        let first = try KeyRing.generateEntry(keyID: "2027-06")
        let second = try KeyRing.generateEntry(keyID: "2027-06")
        #expect(first != second)
        #expect(first.hasPrefix("2027-06:"))
        let ring = try KeyRing(configuration: first, active: "2027-06")
        #expect(ring.activeKey.bitCount == 256)
        #expect(throws: SecretBoxError.invalidKeyID(entry: 1)) { try KeyRing.generateEntry(keyID: "a:b") }
    }
}
