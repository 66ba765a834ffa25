package import CHOMCore
import Foundation
import SwiftASN1
import X509

/// A custom certificate for a site: a PEM chain whose first certificate's public key is the one
/// of the PEM private key. Checked before the key is sealed and stored; nothing in an error
/// quotes the key.
package enum TLSKeyPair {
    static let maximumChainBytes = 32 * 1024
    static let maximumKeyBytes = 16 * 1024

    package static func check(certificateChain: String, privateKey: String) throws(CHOMError) {
        guard certificateChain.utf8.count <= maximumChainBytes, privateKey.utf8.count <= maximumKeyBytes else {
            throw CHOMError(.invalidInput, "tlsCertificate must be at most 32 KiB and tlsPrivateKey at most 16 KiB")
        }
        let blocks = pemBlocks(certificateChain, label: "CERTIFICATE")
        guard !blocks.isEmpty else {
            throw CHOMError(.invalidInput, "tlsCertificate must hold PEM certificates (-----BEGIN CERTIFICATE-----)")
        }
        var chain: [Certificate] = []
        for (index, block) in blocks.enumerated() {
            do {
                chain.append(try Certificate(pemEncoded: block))
            } catch {
                throw CHOMError(.invalidInput, "tlsCertificate: certificate \(index + 1) of the chain cannot be read")
            }
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: privateKey.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw CHOMError(
                .invalidInput, "tlsPrivateKey must be one PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA)")
        }
        guard key.publicKey == chain[0].publicKey else {
            throw CHOMError(.invalidInput, "tlsPrivateKey is not the key of the first certificate in tlsCertificate")
        }
    }

    /// The PEM blocks labelled `label`, each from BEGIN to END inclusive.
    static func pemBlocks(_ text: String, label: String) -> [String] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var blocks: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) {
            blocks.append(String(rest[start.lowerBound..<stop.upperBound]))
            rest = rest[stop.upperBound...]
        }
        return blocks
    }
}
