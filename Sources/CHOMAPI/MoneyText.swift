/// Money as people read it, shared by the CLI and the coordinator's invoice renderings: integer
/// minor units as decimal text in the currency's major unit (ISO 4217 exponents).
package enum MoneyText {
    /// Amounts as decimal text in the currency's major unit (two decimals; none for the ISO 4217
    /// currencies without minor units).
    package static func amount(_ minor: Int64, _ currency: String) -> String {
        if zeroDecimal.contains(currency) { return "\(minor)" }
        let digits = threeDecimal.contains(currency) ? 3 : 2
        let unit: UInt64 = digits == 3 ? 1_000 : 100
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let fraction = String(magnitude % unit)
        return "\(sign)\(magnitude / unit).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    /// ISO 4217 currencies with three decimals.
    package static let threeDecimal: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]

    package static let zeroDecimal: Set<String> = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    ]
}
