package import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The session `chom login` keeps in `~/.config/chom/credentials.json`: which coordinator, who, and
/// the session token with its id and lifetime (`createdAt`…`expiresAt`, used to rotate it in time).
/// Printing or dumping one shows `<redacted>` in place of the token; its JSON holds the token.
package struct StoredSession: Codable, Sendable, Equatable {
    /// The coordinator's admin address, as `--coordinator` takes it.
    package var coordinator: String
    package var email: String
    /// The session token's secret (`chom_…`).
    package var token: String
    package var tokenId: String
    package var createdAt: Date
    package var expiresAt: Date

    package init(coordinator: String, email: String, token: String, tokenId: String, createdAt: Date, expiresAt: Date) {
        self.coordinator = coordinator
        self.email = email
        self.token = token
        self.tokenId = tokenId
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The session for a token the coordinator just issued (login or rotation).
    package init(coordinator: String, email: String, issued: IssuedTokenResponse) {
        self.init(
            coordinator: coordinator, email: email, token: issued.token, tokenId: issued.tokenInfo.id,
            createdAt: issued.tokenInfo.createdAt, expiresAt: issued.tokenInfo.expiresAt)
    }

    /// The same coordinator and user with the successor token `issued`.
    package func replacing(with issued: IssuedTokenResponse) -> StoredSession {
        StoredSession(coordinator: coordinator, email: email, issued: issued)
    }
}

extension StoredSession: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "coordinator": coordinator, "email": email, "token": "<redacted>", "tokenId": tokenId,
                "createdAt": createdAt, "expiresAt": expiresAt,
            ],
            displayStyle: .struct)
    }
}

/// Why the credentials file could not be written or removed; one line, never the token.
package struct CredentialsFileError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Reads and writes `~/.config/chom/credentials.json`: the directory is kept mode 0700 and the file
/// 0600, written to a temporary file then renamed over the old one, so a reader never sees half a
/// file. A file other users can read or write, or owned by someone else, is not used.
package enum CredentialsFile {
    package static let directoryMode: Int = 0o700
    package static let fileMode: Int = 0o600

    /// `$HOME/.config/chom/credentials.json`.
    package static func defaultFile(environment: [String: String]) -> URL {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".config/chom/credentials.json")
    }

    package struct Loaded: Sendable, Equatable {
        /// nil when there is no file or it is not fit to use (`warnings` says why).
        package var session: StoredSession?
        /// Things to tell the user (never the token).
        package var warnings: [String]
        package init(session: StoredSession?, warnings: [String] = []) {
            self.session = session
            self.warnings = warnings
        }
    }

    package static func load(_ file: URL) -> Loaded {
        let path = file.path
        guard FileManager.default.fileExists(atPath: path) else { return Loaded(session: nil) }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            return Loaded(session: nil, warnings: ["cannot read \(path); not using the stored session"])
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            return Loaded(
                session: nil,
                warnings: [
                    "not using \(path): other users can read or change it (mode \(octal(mode & 0o777))); "
                        + "run: chmod 600 \(path), or `chom login` again"
                ])
        }
        if let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value, owner != getuid() {
            return Loaded(session: nil, warnings: ["not using \(path): it belongs to another user (uid \(owner))"])
        }
        let session: StoredSession
        do {
            session = try APIJSON.decoder().decode(StoredSession.self, from: Data(contentsOf: file))
        } catch {
            return Loaded(session: nil, warnings: ["cannot parse \(path); run `chom login` again"])
        }
        guard !session.token.isEmpty, CoordinatorAddress.parse(session.coordinator) != nil else {
            return Loaded(session: nil, warnings: ["\(path) holds no usable session; run `chom login` again"])
        }
        return Loaded(session: session)
    }

    /// Writes `session` atomically, creating the directory (mode 0700) when missing and tightening
    /// it to 0700 when it exists.
    package static func save(_ session: StoredSession, to file: URL) throws(CredentialsFileError) {
        let directory = file.deletingLastPathComponent()
        try prepareDirectory(directory)
        let data: Data
        do {
            let encoder = APIJSON.encoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(session) + Data("\n".utf8)
        } catch {
            throw CredentialsFileError("cannot encode the session: \(error)")
        }
        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(fileMode))
        guard descriptor >= 0 else { throw CredentialsFileError("cannot create \(temporary): \(lastError())") }
        var failure: String?
        if fchmod(descriptor, mode_t(fileMode)) != 0 { failure = "cannot set the mode of \(temporary): \(lastError())" }
        if failure == nil {
            let written = data.withUnsafeBytes { buffer in writeAll(descriptor, buffer) }
            if !written { failure = "cannot write \(temporary): \(lastError())" }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = "cannot flush \(temporary): \(lastError())" }
        if close(descriptor) != 0, failure == nil { failure = "cannot close \(temporary): \(lastError())" }
        if failure == nil, rename(temporary, file.path) != 0 {
            failure = "cannot move the new credentials into \(file.path): \(lastError())"
        }
        if let failure {
            unlink(temporary)
            throw CredentialsFileError(failure)
        }
    }

    /// Removes the file; false when there was none.
    @discardableResult
    package static func delete(_ file: URL) throws(CredentialsFileError) -> Bool {
        if unlink(file.path) == 0 { return true }
        if errno == ENOENT { return false }
        throw CredentialsFileError("cannot remove \(file.path): \(lastError())")
    }

    private static func prepareDirectory(_ directory: URL) throws(CredentialsFileError) {
        let path = directory.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CredentialsFileError("\(path) exists and is not a directory") }
        } else {
            do {
                // The parents (e.g. ~/.config) get the default mode; only chom's own directory is 0700.
                try FileManager.default.createDirectory(
                    at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw CredentialsFileError("cannot create \(directory.deletingLastPathComponent().path): \(error)")
            }
            if mkdir(path, mode_t(directoryMode)) != 0, errno != EEXIST {
                throw CredentialsFileError("cannot create \(path): \(lastError())")
            }
        }
        if chmod(path, mode_t(directoryMode)) != 0 {
            throw CredentialsFileError("cannot set the mode of \(path) to 0700: \(lastError())")
        }
    }

    private static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        guard var pointer = buffer.baseAddress else { return true }
        var remaining = buffer.count
        while remaining > 0 {
            let count = write(descriptor, pointer, remaining)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            pointer += count
            remaining -= count
        }
        return true
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }

    /// "0644".
    static func octal(_ mode: Int) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
