import CHOMAPI
import Foundation
import Testing

@Suite("Coordinator address")
struct CoordinatorAddressTests {
    @Test("--coordinator wins over CHOM_COORDINATOR, which wins over the default")
    func order() {
        let environment = ["CHOM_COORDINATOR": "http://env:8080"]
        #expect(CoordinatorAddress.text(flag: "http://flag:8080", environment: environment) == "http://flag:8080")
        #expect(CoordinatorAddress.text(flag: nil, environment: environment) == "http://env:8080")
        #expect(CoordinatorAddress.text(flag: nil, environment: [:]) == "http://127.0.0.1:8080")
    }

    @Test("http and https addresses with a host parse", arguments: ["http://127.0.0.1:8080", "https://chom.example.com/admin"])
    func valid(text: String) {
        #expect(CoordinatorAddress.parse(text)?.absoluteString == text)
    }

    @Test("other schemes, missing hosts and queries are refused", arguments: ["ftp://host", "127.0.0.1:8080", "http://", "http://h/?q=1", ""])
    func invalid(text: String) {
        #expect(CoordinatorAddress.parse(text) == nil)
    }
}
