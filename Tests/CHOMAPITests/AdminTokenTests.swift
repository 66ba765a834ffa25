import CHOMAPI
import Foundation
import Testing

@Suite("Admin token resolution")
struct AdminTokenTests {
    /// A token file in a fresh temporary directory, with the given contents and mode.
    private func tokenFile(_ contents: String?, mode: Int = 0o600) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("token")
        if let contents {
            try Data(contents.utf8).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
        }
        return file
    }

    @Test("--token wins over CHOM_TOKEN and the file")
    func flagFirst() throws {
        let file = try tokenFile("from-file\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: "from-flag", environment: ["CHOM_TOKEN": "from-env"], file: file)
        #expect(resolution == AdminToken.Resolution(token: "from-flag", source: .flag))
    }

    @Test("CHOM_TOKEN wins over the file when there is no flag")
    func environmentSecond() throws {
        let file = try tokenFile("from-file\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: nil, environment: ["CHOM_TOKEN": "from-env"], file: file)
        #expect(resolution == AdminToken.Resolution(token: "from-env", source: .environment))
    }

    @Test("empty flag and environment values fall through to the file")
    func emptyValuesFallThrough() throws {
        let file = try tokenFile("from-file\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: "", environment: ["CHOM_TOKEN": "  "], file: file)
        #expect(resolution.token == "from-file")
    }

    @Test("the file's first line is the token, trimmed, and mode 0600 gives no warning")
    func fileFirstLine() throws {
        let file = try tokenFile("  from-file  \nsecond line\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: nil, environment: [:], file: file)
        #expect(resolution == AdminToken.Resolution(token: "from-file", source: .file(file.path)))
    }

    @Test("a token file others can read is still used, with a warning that does not hold the token")
    func looseModeWarns() throws {
        let file = try tokenFile("from-file\n", mode: 0o644)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: nil, environment: [:], file: file)
        #expect(resolution.token == "from-file")
        #expect(resolution.warnings.count == 1)
        #expect(resolution.warnings.first?.contains("0644") == true)
        #expect(resolution.warnings.first?.contains("chmod 600") == true)
        #expect(resolution.warnings.first?.contains("from-file") == false)
    }

    @Test("no flag, no environment and no file means no token and no warning")
    func nothing() throws {
        let file = try tokenFile(nil)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(AdminToken.resolve(flag: nil, environment: [:], file: file) == AdminToken.Resolution(token: nil, source: nil))
    }

    @Test("an empty token file gives no token and says so")
    func emptyFile() throws {
        let file = try tokenFile("\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let resolution = AdminToken.resolve(flag: nil, environment: [:], file: file)
        #expect(resolution.token == nil)
        #expect(resolution.warnings.count == 1)
    }

    @Test("the default file is ~/.config/chom/token under $HOME")
    func defaultFile() {
        #expect(AdminToken.defaultFile(environment: ["HOME": "/home/op"]).path == "/home/op/.config/chom/token")
    }
}
