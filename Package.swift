// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every project target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "marksync-log",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "marksync-log", targets: ["marksync-log"]),
        .executable(name: "marksync-bench", targets: ["marksync-bench"]),
        .executable(name: "marksync-loadgen", targets: ["marksync-loadgen"]),
        .executable(name: "ws-echo", targets: ["ws-echo"]),
        .library(name: "MarksyncCore", targets: ["MarksyncCore"]),
        .library(name: "MarksyncCLI", targets: ["MarksyncCLI"]),
        .library(name: "MarksyncClient", targets: ["MarksyncClient"]),
        .library(name: "MarksyncServer", targets: ["MarksyncServer"]),
        .library(name: "MarksyncLLM", targets: ["MarksyncLLM"]),
        .library(name: "MarksyncAgents", targets: ["MarksyncAgents"]),
        .library(name: "MarksyncDSL", targets: ["MarksyncDSL"]),
        .library(name: "MarksyncControl", targets: ["MarksyncControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian's packages (liblz4-dev, zlib1g-dev).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The pure core: blocks, diff-match-patch, hashing, LZ4. No I/O, no NIO, no GRDB.
        .target(
            name: "MarksyncCore", dependencies: ["CLZ4", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),

        // The log schema: numbered SQL files in migrations/ (SQLite) and migrations/postgres/ (PostgreSQL),
        // embedded in the binary. PostgreSQL files are named NNNN_postgres_*.sql so that their generated
        // `PackageResources` names do not collide with the SQLite ones.
        .target(
            name: "MarksyncMigrations", path: "migrations",
            resources: [
                .embedInCode("0001_initial.sql"), .embedInCode("0002_document_paths.sql"), .embedInCode("0003_yjs_checkpoints.sql"),
                .embedInCode("0004_projections.sql"), .embedInCode("0005_consumer_owner.sql"), .embedInCode("postgres/0001_postgres_initial.sql"),
                .embedInCode("postgres/0002_postgres_projections.sql"), .embedInCode("postgres/0005_postgres_consumer_owner.sql"),
            ]),

        // The event log: SQLite in WAL mode through GRDB, or PostgreSQL through postgres-nio (several nodes
        // on one database); group commit, checkpoints, history queries.
        .target(
            name: "MarksyncStore",
            dependencies: [
                "MarksyncCore", "MarksyncMigrations", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The sync server: WebSocket protocol, HTTP API, README projection (Hummingbird 2).
        .target(
            name: "MarksyncServer",
            dependencies: [
                "MarksyncCore", "MarksyncStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("WebUI/index.html")],
            swiftSettings: swiftSettings
        ),

        // The Swift client of the sync protocol (push, pull, watch, agents).
        .target(
            name: "MarksyncClient",
            dependencies: [
                "MarksyncCore",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // LLM access: Ollama's HTTP API and OpenAI-compatible chat completions (AsyncHTTPClient).
        .target(
            name: "MarksyncLLM",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Agents (editor, reviewer, deployer, monitor) as durable consumers, and the orchestrator.
        .target(
            name: "MarksyncAgents",
            dependencies: [
                "MarksyncCore", "MarksyncClient", "MarksyncLLM",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // The DSL: parser, and an executor driving the agents' orchestrator (AGENT, PIPE, ROUTE, SEND, …).
        .target(
            name: "MarksyncDSL",
            dependencies: [
                "MarksyncCore", "MarksyncClient", "MarksyncAgents", "MarksyncLLM",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The control API: POST /api/v1/execute, agents/pipelines/routes/status, WebSocket /ws/dsl, OpenAPI.
        .target(
            name: "MarksyncControl",
            dependencies: [
                "MarksyncCore", "MarksyncDSL", "MarksyncAgents", "MarksyncServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets: a fake LLM server (Ollama and OpenAI APIs), temp folders.
        .target(
            name: "MarksyncTestSupport",
            dependencies: [
                "MarksyncServer", "MarksyncStore", "MarksyncAgents",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),

        // Editing traces (gzip JSON) for benchmarks and end-to-end tests.
        .target(name: "MarksyncTraces", dependencies: ["CZlib"], swiftSettings: swiftSettings),

        // The command line as a library, so tests run commands in-process.
        .target(
            name: "MarksyncCLI",
            dependencies: [
                "MarksyncCore",
                "MarksyncStore",
                "MarksyncServer",
                "MarksyncClient",
                "MarksyncTraces",
                "MarksyncAgents",
                "MarksyncLLM",
                "MarksyncDSL",
                "MarksyncControl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "marksync-log", dependencies: ["MarksyncCLI"], swiftSettings: swiftSettings),

        // Benchmarks: `swift run -c release marksync-bench core`.
        .executableTarget(
            name: "marksync-bench",
            dependencies: [
                "MarksyncCLI",
                "MarksyncCore",
                "MarksyncStore",
                "MarksyncTraces",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "tools/marksync-bench",
            swiftSettings: swiftSettings
        ),

        // Load generator: `swift run -c release marksync-loadgen …` (speaks the sync protocol).
        .executableTarget(
            name: "marksync-loadgen",
            dependencies: [
                "MarksyncCore", "MarksyncClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "tools/marksync-loadgen",
            swiftSettings: swiftSettings
        ),
        // The framework's floor for the load generator's `roundtrip` scenario: a bare Hummingbird WebSocket echo.
        .executableTarget(
            name: "ws-echo",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            path: "tools/ws-echo",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "MarksyncCoreTests", dependencies: ["MarksyncCore", "MarksyncTraces"], exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncStoreTests",
            dependencies: [
                "MarksyncStore", "MarksyncCore", "MarksyncTraces", "MarksyncMigrations", "MarksyncTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncServerTests",
            dependencies: [
                "MarksyncServer", "MarksyncClient", "MarksyncStore", "MarksyncCore", "MarksyncCLI", "MarksyncTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncCLITests", dependencies: ["MarksyncCLI", "MarksyncCore", "MarksyncStore", "MarksyncAgents", "MarksyncTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncLLMTests", dependencies: ["MarksyncLLM", "MarksyncTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncDSLTests",
            dependencies: [
                "MarksyncDSL", "MarksyncAgents", "MarksyncTestSupport", "MarksyncStore", "MarksyncClient", "MarksyncCore",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncControlTests",
            dependencies: [
                "MarksyncControl", "MarksyncDSL", "MarksyncAgents", "MarksyncTestSupport", "MarksyncStore", "MarksyncClient", "MarksyncCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MarksyncAgentsTests",
            dependencies: [
                "MarksyncAgents", "MarksyncLLM", "MarksyncTestSupport", "MarksyncServer", "MarksyncStore", "MarksyncClient", "MarksyncCore",
                "MarksyncCLI", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
    ]
)
