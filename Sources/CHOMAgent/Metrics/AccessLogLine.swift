/// The status class label of `chom_site_requests_total`.
package enum StatusClass: String, Sendable, CaseIterable {
    case informational = "1xx"
    case success = "2xx"
    case redirection = "3xx"
    case clientError = "4xx"
    case serverError = "5xx"

    /// The class of an HTTP status, nil outside 100…599 (nginx logs 000 or 009 for some aborts).
    package init?(status: Int) {
        switch status {
        case 100..<200: self = .informational
        case 200..<300: self = .success
        case 300..<400: self = .redirection
        case 400..<500: self = .clientError
        case 500..<600: self = .serverError
        default: return nil
        }
    }
}

/// Reads the status of one line of nginx's `combined` log format:
///
///     $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
///
/// nginx escapes `"` inside variables (as `\x22`), so the first quoted field is the request and
/// its closing quote is the next `"`; the status is the three digits after it. Anything else
/// (custom formats, truncated lines, binary junk) gives nil.
package enum AccessLogLine {
    package static func status(_ line: ArraySlice<UInt8>) -> Int? {
        let quote = UInt8(ascii: "\""), space = UInt8(ascii: " ")
        guard let open = line.firstIndex(of: quote),
            let close = line[(open + 1)...].firstIndex(of: quote)
        else { return nil }
        var index = close + 1
        guard index < line.endIndex, line[index] == space else { return nil }
        index += 1
        var status = 0
        var digits = 0
        while index < line.endIndex, digits < 4, line[index] >= UInt8(ascii: "0"), line[index] <= UInt8(ascii: "9") {
            status = status * 10 + Int(line[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits == 3, index == line.endIndex || line[index] == space else { return nil }
        return status
    }

    /// `$body_bytes_sent`, the field after the status: the response body bytes a line counts for
    /// bandwidth. nil when the line has no readable status or the field is not a plain number.
    package static func bodyBytes(_ line: ArraySlice<UInt8>) -> UInt64? {
        let quote = UInt8(ascii: "\""), space = UInt8(ascii: " ")
        guard status(line) != nil, let open = line.firstIndex(of: quote),
            let close = line[(open + 1)...].firstIndex(of: quote)
        else { return nil }
        // `close` + 1 is the space before the status, + 5 the space after it.
        var index = close + 5
        guard index < line.endIndex, line[index] == space else { return nil }
        index += 1
        var bytes: UInt64 = 0
        var digits = 0
        while index < line.endIndex, line[index] >= UInt8(ascii: "0"), line[index] <= UInt8(ascii: "9") {
            guard digits < 19 else { return nil }
            bytes = bytes * 10 + UInt64(line[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits > 0, index == line.endIndex || line[index] == space else { return nil }
        return bytes
    }

    package static func status(_ line: String) -> Int? {
        status(ArraySlice(line.utf8))
    }

    package static func statusClass(_ line: ArraySlice<UInt8>) -> StatusClass? {
        status(line).flatMap(StatusClass.init(status:))
    }
}
