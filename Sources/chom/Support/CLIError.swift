import CHOMAPI

/// A failure found by the CLI itself (bad directory, timeout, unknown ID prefix), printed as
/// `chom: <message>` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}


extension CLIError {
    /// Runs `body`; a 401 answer, which here means a wrong password or code rather than a missing
    /// token, becomes a plain `CLIError` ("<context>: <detail>") without the token hint.
    static func rejectingUnauthorized<T>(
        _ context: String, _ body: () async throws(AdminClientError) -> T
    ) async throws -> T {
        do throws(AdminClientError) {
            return try await body()
        } catch {
            if error.status == 401 { throw CLIError("\(context): \(error)") }
            throw error
        }
    }
}
