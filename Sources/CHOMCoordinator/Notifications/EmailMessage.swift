import CHOMCore
import Foundation

/// A plain-text email as it goes over SMTP (RFC 5322 headers, a base64 UTF-8 body, CRLF lines).
///
/// Every header value is checked for CR and LF, so no subject, sender or recipient can add a
/// header or a recipient of its own (header injection); addresses are checked for the characters
/// SMTP's MAIL/RCPT commands could be broken with. A non-ASCII subject is RFC 2047 encoded.
struct EmailMessage: Sendable, Equatable {
    let from: String
    let to: String
    let subject: String
    let body: String
    let date: Date
    let messageID: String

    init(from: String, to: String, subject: String, body: String, date: Date, messageID: String) throws {
        try Self.checkAddress(from, what: "the sender")
        try Self.checkAddress(to, what: "the recipient")
        // By scalar: "\r\n" is one Character in Swift, equal to neither "\r" nor "\n".
        guard !subject.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }), subject.utf8.count <= 998 else {
            throw CHOMError(.invalidInput, "an email subject must be one line of at most 998 bytes")
        }
        guard messageID.range(of: #"^[A-Za-z0-9.\-]+@[A-Za-z0-9.\-]+$"#, options: .regularExpression) != nil else {
            throw CHOMError(.invalidInput, "an email's Message-ID must be local@domain")
        }
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
    }

    /// An address SMTP can carry in `MAIL FROM:<…>` / `RCPT TO:<…>`: local@domain, printable ASCII,
    /// no spaces, angle brackets, CR or LF.
    static func checkAddress(_ address: String, what: String) throws {
        // `\z`, not `$`: `$` also matches before a final line break.
        let pattern = #"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\z"#
        guard address.range(of: pattern, options: .regularExpression) != nil else {
            throw CHOMError(.invalidInput, "\(what) is not an email address SMTP can carry")
        }
    }

    /// The message's DATA: headers, a blank line, the base64 body in 76-character lines, each line
    /// ending in CRLF. Dot-stuffing is not needed (base64 and these headers never start a line
    /// with "."), and the caller adds the final "." line.
    var data: String {
        var lines = [
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        let encoded = Data(body.utf8).base64EncodedString()
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// RFC 2047 `=?utf-8?B?…?=` when the text is not plain printable ASCII.
    static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        return "=?utf-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
