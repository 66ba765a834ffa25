package import CHOMAgent
package import Foundation
import Glibc

/// A php directory and run directory under /tmp for live tests of ``PhpFpmController``, which
/// starts each site's own master; always ``stop()`` (the controller's masters first).
package final class TestPhpFpm: Sendable {
    package static var binary: String? { PhpFpmController().binary }

    package let directory: URL
    /// Short, so socket paths stay under 108 bytes.
    package var runDirectory: URL { directory.appendingPathComponent("run", isDirectory: true) }

    package init() throws {
        directory = try TemporaryDirectory.make(prefix: "h-fpm")
    }

    package var controllerConfiguration: PhpFpmController.Configuration {
        var configuration = PhpFpmController.Configuration()
        configuration.directory = directory.appendingPathComponent("php").path
        configuration.runDirectory = runDirectory.path
        configuration.legacyPoolDirectory = nil
        return configuration
    }

    /// Deletes the directory.
    package func stop() {
        TemporaryDirectory.remove(directory)
    }
}
