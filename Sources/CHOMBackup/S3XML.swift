package import CHOMCore

/// The few fixed S3 XML documents multipart upload needs: the CompleteMultipartUpload body out,
/// the InitiateMultipartUpload `UploadId` and the `<Error>` document in. Hand-written on bytes:
/// these documents are flat, so no XML parser (and no libxml2) is linked into the agent.
package enum S3XML {
    package struct CompletedPart: Sendable, Equatable {
        package var partNumber: Int
        /// As S3 returned it in the UploadPart response, quotes included.
        package var etag: String

        package init(partNumber: Int, etag: String) {
            self.partNumber = partNumber
            self.etag = etag
        }
    }

    /// An S3 error document. `message` comes from the server and may be shown to an operator.
    package struct ErrorResponse: Sendable, Equatable, CustomStringConvertible {
        package var code: String
        package var message: String
        package var requestID: String?
        package var resource: String?

        package init(code: String, message: String, requestID: String? = nil, resource: String? = nil) {
            self.code = code
            self.message = message
            self.requestID = requestID
            self.resource = resource
        }

        package var description: String { message.isEmpty ? code : "\(code): \(message)" }
    }

    /// The `Content-Type` to send the completion body with; moto fails (500) on a form content type.
    package static let contentType = "application/xml"

    /// Documents larger than this are not S3 control responses; they are refused unread.
    static let maximumDocumentSize = 1024 * 1024

    /// The CompleteMultipartUpload request body, parts in ascending order. Throws for no parts,
    /// a number outside 1...10,000, a repeated number, or an ETag that XML cannot carry.
    package static func completeMultipartUploadBody(_ parts: [CompletedPart]) throws(CHOMError) -> String {
        guard !parts.isEmpty else { throw CHOMError(.invalidInput, "a multipart upload needs at least one part") }
        let sorted = parts.sorted { $0.partNumber < $1.partNumber }
        var body = #"<?xml version="1.0" encoding="UTF-8"?>"#
            + #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
        var previous = 0
        for part in sorted {
            guard (1...MultipartPlan.maximumPartCount).contains(part.partNumber) else {
                throw CHOMError(.invalidInput, "part number \(part.partNumber) is outside 1...10000")
            }
            guard part.partNumber != previous else {
                throw CHOMError(.invalidInput, "part number \(part.partNumber) is listed twice")
            }
            previous = part.partNumber
            body += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(try escape(part.etag))</ETag></Part>"
        }
        return body + "</CompleteMultipartUpload>"
    }

    /// The `UploadId` of an InitiateMultipartUploadResult document.
    package static func uploadID(fromInitiateResponse body: some Collection<UInt8>) throws(CHOMError) -> String {
        let bytes = Array(body.prefix(maximumDocumentSize + 1))
        guard bytes.count <= maximumDocumentSize,
            let result = elementContent("InitiateMultipartUploadResult", in: bytes[...]),
            let id = elementContent("UploadId", in: result).flatMap(text), !id.isEmpty
        else { throw CHOMError(.invalidInput, "the InitiateMultipartUpload response has no UploadId") }
        return id
    }

    /// The `<Error>` document of a failed S3 call, or nil when the body is not one.
    package static func errorResponse(from body: some Collection<UInt8>) -> ErrorResponse? {
        let bytes = Array(body.prefix(maximumDocumentSize + 1))
        guard bytes.count <= maximumDocumentSize, let error = elementContent("Error", in: bytes[...]),
            let code = elementContent("Code", in: error).flatMap(text), !code.isEmpty
        else { return nil }
        return ErrorResponse(
            code: code, message: elementContent("Message", in: error).flatMap(text) ?? "",
            requestID: elementContent("RequestId", in: error).flatMap(text),
            resource: elementContent("Resource", in: error).flatMap(text))
    }

    /// Escapes `&`, `<` and `>` for element content; refuses characters XML 1.0 cannot hold.
    static func escape(_ value: String) throws(CHOMError) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r", "\u{20}"..."\u{D7FF}", "\u{E000}"..."\u{FFFD}", "\u{10000}"..."\u{10FFFF}":
                out.unicodeScalars.append(scalar)
            default:
                throw CHOMError(.invalidInput, "a value holds a character XML cannot carry")
            }
        }
        return out
    }

    /// The raw bytes between `<name …>` and `</name>` of the first such element; empty for `<name/>`.
    static func elementContent(_ name: String, in bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let open = Array("<\(name)".utf8)
        let close = Array("</\(name)>".utf8)
        var searchFrom = bytes.startIndex
        while let start = find(open, in: bytes, from: searchFrom) {
            let after = start + open.count
            guard after < bytes.endIndex else { return nil }
            // `<UploadIdX>` is another element: the name must end at `>`, `/` or a blank.
            guard [UInt8(ascii: ">"), UInt8(ascii: "/"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[after]) else {
                searchFrom = after
                continue
            }
            guard let tagEnd = bytes[after...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
            if bytes[tagEnd - 1] == UInt8(ascii: "/") { return bytes[tagEnd..<tagEnd] }
            guard let end = find(close, in: bytes, from: tagEnd + 1) else { return nil }
            return bytes[(tagEnd + 1)..<end]
        }
        return nil
    }

    /// Element text: CDATA sections taken as they are, entities decoded; nil when the content
    /// holds markup (a nested element) or a malformed entity.
    static func text(_ content: ArraySlice<UInt8>) -> String? {
        let cdataOpen = Array("<![CDATA[".utf8)
        var out: [UInt8] = []
        var index = content.startIndex
        while index < content.endIndex {
            let byte = content[index]
            if byte == UInt8(ascii: "<") {
                guard content[index...].starts(with: cdataOpen),
                    let end = find(Array("]]>".utf8), in: content, from: index + cdataOpen.count)
                else { return nil }
                out += content[(index + cdataOpen.count)..<end]
                index = end + 3
            } else if byte == UInt8(ascii: "&") {
                guard let semicolon = content[index...].firstIndex(of: UInt8(ascii: ";")),
                    let scalar = entity(String(decoding: content[(index + 1)..<semicolon], as: UTF8.self))
                else { return nil }
                out += Array(String(scalar).utf8)
                index = semicolon + 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func entity(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let number: UInt32?
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                number = UInt32(name.dropFirst(2), radix: 16)
            } else if name.hasPrefix("#") {
                number = UInt32(name.dropFirst(), radix: 10)
            } else {
                number = nil
            }
            return number.flatMap(Unicode.Scalar.init)
        }
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int) -> Int? {
        guard !needle.isEmpty, from <= haystack.endIndex - needle.count else { return nil }
        var index = from
        while index <= haystack.endIndex - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
