import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

/// The framework's floor: a Hummingbird WebSocket server that sends every text frame back, nothing else.
///
/// `marksync-loadgen --scenarios roundtrip --url ws://127.0.0.1:PORT/ --server-pid PID` against it gives the
/// CPU and latency of one request/response through Hummingbird, NIO and the kernel on this machine, the
/// part of `marksync-log`'s cost per ack that no change to its own code removes. Loopback only; the port is
/// printed as `listening on 127.0.0.1:PORT` (0 picks a free one).
@main
struct EchoMain {
    static func main() async throws {
        let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 0
        var logger = Logger(label: "ws-echo")
        logger.logLevel = .warning
        let router = Router()
        let application = Application(
            router: router,
            server: .http1WebSocketUpgrade { _, _, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    // The load generator waits for a first message before it sends: a manifest, as the sync servers do.
                    try await outbound.write(.text(#"{"type":"manifest","blocks":[]}"#))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { try await outbound.write(.text(text)) }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "ws-echo"),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
            },
            logger: logger
        )
        try await application.runService()
    }
}
