package import Foundation

/// Finds the admin bearer token: `--token` > `CHOM_TOKEN` > the first line of
/// `~/.config/chom/token`, which should be readable by its owner only (mode 0600).
package enum AdminToken {
    package static let environmentVariable = "CHOM_TOKEN"

    package enum Source: Sendable, Equatable {
        case flag
        case environment
        case file(String)
    }

    package struct Resolution: Sendable, Equatable {
        package var token: String?
        package var source: Source?
        /// Things to tell the operator (never the token itself).
        package var warnings: [String]

        package init(token: String?, source: Source?, warnings: [String] = []) {
            self.token = token
            self.source = source
            self.warnings = warnings
        }
    }

    /// `$HOME/.config/chom/token`.
    package static func defaultFile(environment: [String: String]) -> URL {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".config/chom/token")
    }

    package static func resolve(flag: String?, environment: [String: String], file: URL) -> Resolution {
        if let flag = trimmed(flag) { return Resolution(token: flag, source: .flag) }
        if let value = trimmed(environment[environmentVariable]) { return Resolution(token: value, source: .environment) }
        return fromFile(file)
    }

    static func fromFile(_ file: URL) -> Resolution {
        let path = file.path
        guard FileManager.default.fileExists(atPath: path) else { return Resolution(token: nil, source: nil) }
        var warnings: [String] = []
        if let mode = permissions(of: path), mode & 0o077 != 0 {
            warnings.append(
                "\(path) is readable by other users (mode \(octal(mode))); run: chmod 600 \(path)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            warnings.append("cannot read \(path); no token from it")
            return Resolution(token: nil, source: nil, warnings: warnings)
        }
        let firstLine = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
        guard let token = trimmed(firstLine) else {
            warnings.append("\(path) is empty; no token from it")
            return Resolution(token: nil, source: nil, warnings: warnings)
        }
        return Resolution(token: token, source: .file(path), warnings: warnings)
    }

    static func permissions(of path: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return nil }
        return mode.intValue & 0o777
    }

    /// "0644".
    private static func octal(_ mode: Int) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func trimmed(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
