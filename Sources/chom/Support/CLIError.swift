/// A failure found by the CLI itself (bad directory, timeout, unknown ID prefix), printed as
/// `chom: <message>` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
