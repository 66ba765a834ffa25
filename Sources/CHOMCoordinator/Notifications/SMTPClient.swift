import CHOMCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal SMTP submission client (RFC 5321) for the notifications outbox: EHLO, optional
/// AUTH PLAIN, one MAIL FROM, one RCPT TO, DATA, QUIT; in clear on a trusted network, or with
/// implicit TLS (SMTPS, RFC 8314, which that RFC prefers to STARTTLS for submission).
///
/// Every reply is read whole (multi-line "250-" continuations) and bounded in size; the whole
/// exchange has one deadline. A 5xx reply is a permanent failure (the outbox gives up at once),
/// anything else a transient one (retried with backoff).
struct SMTPClient: Sendable {
    struct Configuration: Sendable, Equatable {
        enum Security: String, Sendable, Codable { case none, implicit }
        var host: String
        var port: Int
        var security: Security = .none
        /// PEM file of the roots that sign the server's certificate (implicit TLS); nil: the system's.
        var trustRootsFile: String?
        var username: String?
        var password: String?
        /// The name this client greets the server with (EHLO).
        var heloName: String = "chom-coordinator"
        var timeout: Duration = .seconds(30)
    }

    struct Failure: Error, CustomStringConvertible {
        /// A 5xx answer: sending the same message again cannot succeed.
        let permanent: Bool
        let description: String
    }

    let configuration: Configuration

    /// Sends `message`; returns the server's answer to the end of DATA (for the attempt's record).
    func send(_ message: EmailMessage) async throws -> String {
        let timeout = configuration.timeout
        guard let reply = try await Deadline.value(within: timeout, { try await exchange(message) }) else {
            throw Failure(permanent: false, description: "the SMTP exchange took longer than \(timeout)")
        }
        return reply
    }

    private func exchange(_ message: EmailMessage) async throws -> String {
        let configuration = configuration
        let tls: NIOSSLContext? = try configuration.security == .implicit ? Self.tlsContext(configuration) : nil
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let name = configuration.host.first?.isNumber == true ? nil : configuration.host
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(
                permanent: false, description: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var replies = ReplyReader(inbound.makeAsyncIterator())
            // A 5xx is permanent only where it is about this message (its recipient, its content);
            // at the greeting, EHLO, AUTH or MAIL it is about the server or CHOM's settings, which an
            // operator fixes, and the message is tried again.
            func command(_ line: String, expect codes: Set<Int>, shown: String? = nil, messageStage: Bool = false)
                async throws -> String
            {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                return try await replies.expect(codes, after: shown ?? line, messageStage: messageStage)
            }
            _ = try await replies.expect([220], after: "the greeting", messageStage: false)
            _ = try await command("EHLO \(configuration.heloName)", expect: [250])
            if let username = configuration.username {
                let token = Data("\0\(username)\0\(configuration.password ?? "")".utf8).base64EncodedString()
                _ = try await command("AUTH PLAIN \(token)", expect: [235], shown: "AUTH PLAIN")
            }
            _ = try await command("MAIL FROM:<\(message.from)>", expect: [250])
            _ = try await command("RCPT TO:<\(message.to)>", expect: [250, 251], messageStage: true)
            _ = try await command("DATA", expect: [354])
            let accepted = try await command(message.data + ".", expect: [250], shown: "the message", messageStage: true)
            _ = try? await command("QUIT", expect: [221])
            return accepted
        }
    }

    private static func tlsContext(_ configuration: Configuration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let file = configuration.trustRootsFile {
            tls.trustRoots = .file(file)
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// Reads SMTP replies: lines "NNN-text" continue, "NNN text" (or "NNN") ends one.
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending = ByteBuffer()
        static let maxReply = 64 * 1024

        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

        mutating func expect(_ codes: Set<Int>, after what: String, messageStage: Bool) async throws -> String {
            let (code, text) = try await reply()
            guard codes.contains(code) else {
                let shown = what.hasPrefix("AUTH") || what.count > 60 ? String(what.prefix(30)) : what
                throw Failure(
                    permanent: messageStage && (500...599).contains(code),
                    description: "\(shown): the server answered \(code) \(text.prefix(300))")
            }
            return "\(code) \(text.prefix(300))"
        }

        /// One reply, bounded: at most 100 lines and `maxReply` bytes in all.
        mutating func reply() async throws -> (Int, String) {
            var text: [String] = []
            var total = 0
            while true {
                guard text.count < 100, total < Self.maxReply else {
                    throw Failure(permanent: false, description: "the server's answer is longer than 100 lines or 64 KiB")
                }
                let line = try await nextLine()
                let bytes = Array(line.utf8)
                guard bytes.count >= 3, let code = Int(String(line.prefix(3))), (200...599).contains(code) else {
                    throw Failure(permanent: false, description: "the server's answer is not SMTP: \(line.prefix(80))")
                }
                text.append(String(line.dropFirst(4)))
                total += bytes.count + 2
                if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return (code, text.joined(separator: " ")) }
                guard bytes[3] == UInt8(ascii: "-") else {
                    throw Failure(permanent: false, description: "the server's answer is not SMTP: \(line.prefix(80))")
                }
            }
        }

        private mutating func nextLine() async throws -> String {
            while true {
                if let index = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let length = index - pending.readerIndex
                    var line = pending.readString(length: length) ?? ""
                    pending.moveReaderIndex(forwardBy: 1)
                    if line.hasSuffix("\r") { line.removeLast() }
                    return line
                }
                guard pending.readableBytes < Self.maxReply else {
                    throw Failure(permanent: false, description: "the server's answer is longer than 64 KiB")
                }
                guard var chunk = try await iterator.next() else {
                    throw Failure(permanent: false, description: "the server closed the connection")
                }
                pending.writeBuffer(&chunk)
            }
        }
    }
}
