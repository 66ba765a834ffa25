// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The agent's targets use lstat/fstat everywhere. With MemberImportVisibility, Swift 6.3 on Linux
/// attributes Glibc's `struct stat` to whichever Clang module included <sys/stat.h> first
/// (CDispatch, CoreFoundation, …) and refuses its fields; which one depends on the target's whole
/// import graph, so it breaks as dependencies are added. These targets go without that one feature.
let upcomingForSystemCode: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "chom",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chom-coordinator", targets: ["chom-coordinator"]),
        .executable(name: "chom-agent", targets: ["chom-agent"]),
        .executable(name: "chom", targets: ["chom"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["ConfigurationSupport"]),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // W3C trace context through the API, the task queue and the envelope (ServiceContext and
        // the Instrument protocol); already in the graph through Hummingbird.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        // Domain value types, errors, log keys, metric names. Depends on nothing.
        // swift-log only: the log keys and the one log handler every process uses live here.
        .target(name: "CHOMCore", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),

        // libzstd from Debian's libzstd-dev.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // zlib from Debian's zlib1g-dev, for tar.gz release uploads.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Compression and archives: bounded zstd/gzip codecs, tar writer/reader, safe extraction.
        .target(name: "CHOMArchive", dependencies: ["CZstd", "CZlib"], swiftSettings: upcoming),

        // The site-file layer: every file operation of the root agent inside a site tree, through
        // directory descriptors with no symlink following (SECURITY.md).
        .target(name: "CHOMSiteFiles", dependencies: ["CHOMCore"], swiftSettings: upcomingForSystemCode),

        // Backups: streaming tar → zstd → AES-GCM archives with a SHA-256 manifest, safe restore,
        // verify drills, local-directory and S3 (SigV4, multipart) targets.
        .target(
            name: "CHOMBackup",
            dependencies: [
                "CHOMCore", "CHOMArchive",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingForSystemCode
        ),

        // Generated protobuf/gRPC code, envelope seal/open, replay window.
        .target(
            name: "CHOMProtocol",
            dependencies: [
                "CHOMCore", "CHOMArchive",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),

        // Fleet CA, CSRs, client/server certificates, mTLS configuration, peer identity.
        .target(
            name: "CHOMTransport",
            dependencies: [
                "CHOMCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: upcoming
        ),

        // Placement as pure functions over injected state: feasibility filters, binpack/spread
        // scoring with tenant anti-affinity, bounded candidate sampling, rebalance and drain plans.
        .target(name: "CHOMScheduler", dependencies: ["CHOMCore"], swiftSettings: upcoming),

        // DNS that follows each site: the provider interface, the records a site should have, and
        // the PowerDNS authoritative HTTP API adapter.
        .target(
            name: "CHOMDNS",
            dependencies: [
                "CHOMCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),

        // The tamper-evident audit log: entries, hash chain, signed checkpoints, verification.
        .target(
            name: "CHOMAudit",
            dependencies: ["CHOMCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: upcoming
        ),

        // PostgreSQL: client, migrations, repositories, the task queue, embedded PostgreSQL.
        .target(
            name: "CHOMStore",
            dependencies: [
                "CHOMCore", "CHOMAudit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: upcoming
        ),

        // The admin API contract: request/response types and a client.
        .target(name: "CHOMAPI", dependencies: ["CHOMCore"], swiftSettings: upcoming),

        // The coordinator's wiring.
        .target(
            name: "CHOMCoordinator",
            dependencies: [
                "CHOMCore", "CHOMProtocol", "CHOMTransport", "CHOMScheduler", "CHOMStore", "CHOMAPI", "CHOMArchive",
                "CHOMAudit", "CHOMBackup", "CHOMDNS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: upcoming
        ),

        // The agent: session, journal, executors, /metrics.
        .target(
            name: "CHOMAgent",
            dependencies: [
                "CHOMBackup", "CHOMSiteFiles",
                "CHOMCore", "CHOMProtocol", "CHOMTransport", "CHOMArchive",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcomingForSystemCode
        ),

        .executableTarget(
            name: "chom-coordinator",
            dependencies: [
                "CHOMCoordinator", "CHOMCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "chom-agent",
            dependencies: [
                "CHOMAgent", "CHOMCore", "CHOMTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "chom",
            dependencies: ["CHOMAPI", "CHOMArchive", "CHOMCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: upcoming
        ),

        // Benchmarks that print figures: envelope seal + open against Ed25519 alone, and backup /
        // restore of a generated tree against tar | zstd and restic (`chom-bench backup`).
        .executableTarget(
            name: "chom-bench",
            dependencies: [
                "CHOMProtocol", "CHOMBackup", "CHOMCore", "CHOMSiteFiles", "CHOMArchive", "CHOMScheduler",
                // `chom-bench privsep` runs the agent's own deploy steps (SharedPaths, HookRunner and
                // its cgroups, SiteLayout) on its protected side.
                "CHOMAgent", .product(name: "Crypto", package: "swift-crypto"),
                // `chom-bench migrate` runs the namespace harness (coordinator, throwaway PostgreSQL,
                // agents in network namespaces), as the multi-host tests do.
                "CHOMTesting", "CHOMAPI", "CHOMCoordinator",
                // `chom-bench fleet` drives the admin API from a load generator of its own
                // (`fleet-load`): HTTP/1.1 keep-alive, cheaper than URLSession's libcurl path.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: upcomingForSystemCode
        ),

        // Throwaway PostgreSQL, minted certificates, in-process coordinator and agents.
        .target(
            name: "CHOMTesting",
            dependencies: [
                "CHOMCoordinator", "CHOMAgent", "CHOMBackup", "CHOMStore", "CHOMTransport", "CHOMProtocol", "CHOMAPI", "CHOMArchive",
                "CHOMCore", "CHOMDNS", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),

        .testTarget(name: "CHOMArchiveTests", dependencies: ["CHOMArchive"], swiftSettings: upcoming),
        .testTarget(
            name: "CHOMProtocolTests",
            dependencies: [
                "CHOMProtocol", "CHOMCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "CHOMAuditTests",
            dependencies: ["CHOMAudit", "CHOMCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: upcoming
        ),
        .testTarget(name: "CHOMTransportTests", dependencies: ["CHOMTransport"], swiftSettings: upcoming),
        .testTarget(
            name: "CHOMStoreTests",
            dependencies: [
                "CHOMStore", "CHOMTesting", "CHOMAudit", "CHOMCore", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "CHOMCoordinatorTests",
            dependencies: [
                "CHOMCoordinator", "CHOMScheduler", "CHOMCore", "CHOMProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "CHOMAgentTests",
            dependencies: [
                "CHOMAgent", "CHOMBackup", "CHOMSiteFiles", "CHOMTesting", "CHOMTransport", "CHOMProtocol", "CHOMCore", "CHOMArchive",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: upcomingForSystemCode
        ),
        .testTarget(name: "CHOMAPITests", dependencies: ["CHOMAPI"], swiftSettings: upcoming),
        .testTarget(name: "CHOMCoreTests", dependencies: ["CHOMCore", .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        .testTarget(name: "CHOMSchedulerTests", dependencies: ["CHOMScheduler", "CHOMCore"], swiftSettings: upcoming),
        .testTarget(
            name: "CHOMDNSTests",
            dependencies: [
                "CHOMDNS", "CHOMCore", "CHOMTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "CHOMLiveTests",
            dependencies: [
                "CHOMTesting", "CHOMAgent", "CHOMAPI", "CHOMCore", "CHOMTransport", "CHOMProtocol", "CHOMCoordinator",
                "CHOMArchive", "CHOMAudit", "CHOMStore", "CHOMBackup", "CHOMScheduler", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ], swiftSettings: upcoming),
    ]
)
