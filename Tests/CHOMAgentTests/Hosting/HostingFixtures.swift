import CHOMAgent
import Foundation

/// Specimens and helpers for the hosting tests: fixed specs, UTC dates, temporary directories
/// and a way to run a tool (nginx, openssl) when it is installed.
enum HostingFixtures {
    static let siteRoot = "/srv/chom/sites/example.com"
    static let maintenancePage = "/var/lib/chom/maintenance/503.html"

    /// The specimen every golden test starts from: example.com with one alias.
    static func spec(
        _ kind: SiteSpec.Kind = .static, tls: SiteSpec.TLS? = nil, suspended: Bool = false, under base: String = siteRoot
    ) -> SiteSpec {
        SiteSpec(
            domain: "example.com", aliases: ["www.example.com"], kind: kind, root: base + "/current/public",
            accessLog: base + "/logs/access.log", errorLog: base + "/logs/error.log", tls: tls, suspended: suspended,
            maintenancePage: maintenancePage)
    }

    static let tls = SiteSpec.TLS(
        certificatePath: "/etc/chom/tls/example.com/fullchain.pem", keyPath: "/etc/chom/tls/example.com/key.pem")

    static let utc = TimeZone(identifier: "UTC")!

    /// `2021-01-10T23:30:00Z` from (2021, 1, 10, 23, 30), in UTC whatever the host's zone.
    static func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0, _ second: Int = 0)
        -> Date
    {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return calendar.date(from: components)!
    }

    /// `yyyy-MM-ddTHH:mm` in UTC, with `:ss` when the seconds are not zero: backup ids that read
    /// as their time.
    static func stamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value! < 10 ? "0\(value!)" : "\(value!)" }
        let minutes = "\(c.year!)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute))"
        return c.second == 0 ? minutes : minutes + ":" + two(c.second)
    }

    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-hosting-" + UUID().uuidString.lowercased(), isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// The first executable named `name` on PATH or in the sbin directories, or nil.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let nginx = tool("nginx")
    static let openssl = tool("openssl")

    /// Runs a tool to completion; returns its exit status and its stdout and stderr together.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
