import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// Monotonic nanoseconds (the same clock for send and receive stamps, both in this process).
@inline(__always) func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// One WebSocket connection to a sync server, speaking the protocol with HummingbirdWSClient directly.
///
/// Incoming frames are classified by their `type` without a full JSON parse (the load generator shares
/// the machine's two cores with the server, so it keeps its own work small): replies (`ack`, `nack`,
/// `error`, `snapshot`, `conflict`) go to ``onReply``, broadcasts (`patch`, `full`, `delete`, …) to
/// ``onBroadcast``.
final class Peer: Sendable {
    typealias Handler = @Sendable (_ type: String, _ frame: String, _ receivedNanos: UInt64) -> Void

    let name: String
    private let outbound: WebSocketOutboundWriter
    private let handlers: Mutex<(reply: Handler?, broadcast: Handler?)>
    private let finished: Mutex<Bool>

    private init(name: String, outbound: WebSocketOutboundWriter) {
        self.name = name
        self.outbound = outbound
        handlers = Mutex((nil, nil))
        finished = Mutex(false)
    }

    static let replyTypes: Set<String> = ["ack", "nack", "error", "snapshot", "conflict", "hello", "subscribed", "cursor", "log"]

    /// Connects and waits for the `manifest` (the first message of both servers).
    static func connect(url: String, name: String, timeout: Duration = .seconds(10)) async throws -> Peer {
        let once = Locked<CheckedContinuation<Peer, any Error>?>(nil)
        let logger = Logger(label: "marksync-loadgen") { _ in SwiftLogNoOpLogHandler() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Peer, any Error>) in
            once.withLock { $0 = continuation }
            Task {
                do {
                    var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 24)
                    configuration.autoPing = .disabled
                    try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                        let peer = Peer(name: name, outbound: outbound)
                        var waiting = true
                        for try await message in inbound.messages(maxSize: 1 << 26) {
                            let now = monotonicNanos()
                            let text: String
                            switch message {
                            case .text(let value): text = value
                            case .binary(let buffer): text = String(buffer: buffer)
                            }
                            let type = Frame.type(of: text) ?? ""
                            if waiting {
                                if type == "manifest" {
                                    waiting = false
                                    once.withLock { $0.take() }?.resume(returning: peer)
                                } else if type == "error" {
                                    once.withLock { $0.take() }?.resume(throwing: LoadgenError("connection refused by the server: \(text)"))
                                }
                                continue
                            }
                            peer.dispatch(type, text, now)
                        }
                        peer.finished.withLock { $0 = true }
                        peer.dispatch("closed", "", monotonicNanos())
                    }
                    once.withLock { $0.take() }?.resume(throwing: LoadgenError("connection to \(url) closed before the manifest"))
                } catch {
                    once.withLock { $0.take() }?.resume(throwing: error)
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                once.withLock { $0.take() }?.resume(throwing: LoadgenError("no manifest from \(url) within \(timeout)"))
            }
        }
    }

    func setHandlers(reply: Handler?, broadcast: Handler?) {
        handlers.withLock { $0 = (reply, broadcast) }
    }

    var isClosed: Bool { finished.withLock { $0 } }

    private func dispatch(_ type: String, _ text: String, _ now: UInt64) {
        let (reply, broadcast) = handlers.withLock { $0 }
        if Self.replyTypes.contains(type) || type == "closed" {
            reply?(type, text, now)
        } else {
            broadcast?(type, text, now)
        }
    }

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    func close() async {
        try? await outbound.close(.normalClosure, reason: nil)
    }
}

/// A single pending reply: arm, send, await.
final class ReplySlot: Sendable {
    private enum State {
        case idle
        case armed
        case ready(String, String, UInt64)
        case waiting(CheckedContinuation<(String, String, UInt64), Never>)
    }
    private let state = Mutex(State.idle)

    func arm() { state.withLock { $0 = .armed } }

    /// Called from the connection's reader.
    func deliver(_ type: String, _ text: String, _ now: UInt64) {
        let continuation: CheckedContinuation<(String, String, UInt64), Never>? = state.withLock { state in
            switch state {
            case .armed:
                state = .ready(type, text, now)
                return nil
            case .waiting(let continuation):
                state = .idle
                return continuation
            case .idle, .ready:
                return nil  // an unexpected reply (not armed): ignored
            }
        }
        continuation?.resume(returning: (type, text, now))
    }

    func wait() async -> (type: String, text: String, receivedNanos: UInt64) {
        await withCheckedContinuation { (continuation: CheckedContinuation<(String, String, UInt64), Never>) in
            let ready: (String, String, UInt64)? = state.withLock { state in
                if case .ready(let type, let text, let now) = state {
                    state = .idle
                    return (type, text, now)
                }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

struct LoadgenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Cheap field extraction from JSON frames (both servers' encodings: with or without spaces).
enum Frame {
    static func type(of text: String) -> String? { stringField("type", in: text) }

    /// The value of a top-level string field `"key": "value"` (no escapes in the value).
    static func stringField(_ key: String, in text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            guard let start = valueStart(key, bytes), start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
            var end = start + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<end]), as: UTF8.self)
        }
    }

    /// The value of a top-level integer field `"key": 123`.
    static func intField(_ key: String, in text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            guard var index = valueStart(key, bytes) else { return nil }
            var value = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value * 10 + Int(bytes[index] - 48)
                index += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    private static func valueStart(_ key: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let pattern = Array("\"\(key)\"".utf8)
        let n = bytes.count
        let m = pattern.count
        guard n >= m else { return nil }
        var i = 0
        while i <= n - m {
            if bytes[i] == pattern[0] {
                var j = 1
                while j < m, bytes[i + j] == pattern[j] { j += 1 }
                if j == m {
                    var k = i + m
                    while k < n, bytes[k] == 32 { k += 1 }
                    if k < n, bytes[k] == UInt8(ascii: ":") {
                        k += 1
                        while k < n, bytes[k] == 32 { k += 1 }
                        return k
                    }
                }
            }
            i += 1
        }
        return nil
    }
}

/// A mutex-protected value that closures can share (Mutex itself cannot be captured).
final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: sending Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R { try mutex.withLock(body) }
}

/// A shared counter.
final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)
    @discardableResult func add(_ n: Int = 1) -> Int { atomic.add(n, ordering: .relaxed).newValue }
    func load() -> Int { atomic.load(ordering: .relaxed) }
    func store(_ value: Int) { atomic.store(value, ordering: .relaxed) }
}
