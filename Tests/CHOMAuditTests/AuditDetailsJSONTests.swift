@testable import CHOMAudit
import Foundation
import Testing

/// The direct reader of stored details must never disagree with JSONDecoder: on what it accepts it
/// reads the same dictionary, and what JSONDecoder refuses it refuses too (nil, so the caller's
/// JSONDecoder fallback throws).
@Suite("Audit details read without JSONDecoder")
struct AuditDetailsJSONTests {
    static func decoder(_ text: String) -> [String: String]? {
        try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    /// The bytes the canonical encoding hashes: String's == is canonical equivalence, not bytes.
    static func bytes(_ details: [String: String]?) -> [[UInt8]]? {
        details.map { $0.map { Array($0.key.utf8) + [0xFF] + Array($0.value.utf8) }.sorted { $0.lexicographicallyPrecedes($1) } }
    }

    static let accepted = [
        #"{}"#, #" { } "#, #"{"field":"config"}"#, #"{"a": "1", "b" : "2"}"#,
        "{\n\t\"a\"\r\n:\"x\"}\n",
        #"{"path":"a\/b","quote":"say \"hi\"","back":"c:\\d"}"#,
        #"{"ctl":"\b\f\n\r\t","nul":"\u0000","e":"\u00e9","euro":"\u20AC"}"#,
        #"{"emoji":"\ud83d\ude00","raw":"😀 é ü","nfd":"e\u0301"}"#, "{\"nfd\":\"e\u{0301}\"}",
        #"{"":""}"#, #"{"k":"v","k2":"v2","k3":"v3"}"#,
    ]

    @Test("the log's shapes read the same dictionary as JSONDecoder", arguments: accepted)
    func same(_ text: String) throws {
        let expected = try #require(Self.decoder(text), "JSONDecoder reads \(text)")
        #expect(Self.bytes(AuditDetailsJSON.parse(text)) == Self.bytes(expected))
    }

    static let refused = [
        "", "null", "[]", #"{"a":1}"#, #"{"a":null}"#, #"{"a":["x"]}"#, #"{"a":{"b":"c"}}"#, #"{"a" "x"}"#, #"{"a":"x"} trailing"#, #"{"a":"x""#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#,
        #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":"\ud83d\u0041"}"#, "{\"a\":\"tab\there\"}", "{\"a\":\"new\nline\"}",
        #"{'a':'x'}"#, #"{a:"x"}"#,
    ]

    @Test("what it does not read is left to JSONDecoder, and what JSONDecoder refuses it refuses", arguments: refused)
    func refusedText(_ text: String) {
        #expect(AuditDetailsJSON.parse(text) == nil)
        if Self.decoder(text) != nil {
            Issue.record("JSONDecoder reads \(text): the fixture should only list text it refuses")
        }
    }

    @Test("a duplicate key and a trailing comma (which JSONDecoder accepts) are left to JSONDecoder")
    func leftToDecoder() {
        #expect(AuditDetailsJSON.parse(#"{"a":"1","a":"2"}"#) == nil)
        #expect(AuditDetailsJSON.parse(#"{"a":"x",}"#) == nil)
    }

    @Test("invalid UTF-8 is refused, not repaired")
    func invalidUTF8() {
        let text = String(decoding: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], as: UTF8.self)
        // String(decoding:) repaired 0xFF into U+FFFD already: that is valid and reads the same.
        #expect(Self.bytes(AuditDetailsJSON.parse(text)) == Self.bytes(Self.decoder(text)))
    }

    @Test("random dictionaries written by the log's encoder read back exactly, as JSONDecoder reads them")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{7F}", "é", "€", "😀", "\u{0301}", ":", ",", "{", "}"]
        func word() -> String { String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for _ in 0..<500 {
            var details: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &generator) { details[word()] = word() }
            let text = String(decoding: try encoder.encode(details), as: UTF8.self)
            #expect(Self.bytes(AuditDetailsJSON.parse(text)) == Self.bytes(details), "\(text)")
            #expect(Self.bytes(Self.decoder(text)) == Self.bytes(details))
        }
    }
}
