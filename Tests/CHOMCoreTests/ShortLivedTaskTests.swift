import CHOMCore
import Testing

@Suite("inShortLivedTask: work in a child task that ends with it")
struct ShortLivedTaskTests {
    struct Refused: Error, Equatable {
        let reason: String
    }

    @Test("returns the body's value")
    func returnsTheValue() async throws {
        let value = try await inShortLivedTask { 6 * 7 }
        #expect(value == 42)
    }

    @Test("rethrows the body's error as it was thrown")
    func rethrowsTheError() async throws {
        await #expect(throws: Refused(reason: "no")) {
            try await inShortLivedTask { () async throws -> Int in throw Refused(reason: "no") }
        }
    }

    @Test("runs the body in a task of its own, not in the caller's")
    func runsInAChildTask() async throws {
        let caller = withUnsafeCurrentTask { $0?.hashValue }
        let child = try await inShortLivedTask { withUnsafeCurrentTask { $0?.hashValue } }
        #expect(caller != nil)
        #expect(child != nil)
        #expect(child != caller)
    }

    @Test("the body sees the caller's cancellation")
    func cancellationReachesTheBody() async throws {
        let outer = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await inShortLivedTask { Task.isCancelled }
        }
        #expect(try await outer.value == true)
    }

    @TaskLocal static var tenant: String?

    @Test("the body sees the caller's task-locals")
    func taskLocalsReachTheBody() async throws {
        let seen = try await Self.$tenant.withValue("acme") {
            try await inShortLivedTask { Self.tenant }
        }
        #expect(seen == "acme")
    }
}
