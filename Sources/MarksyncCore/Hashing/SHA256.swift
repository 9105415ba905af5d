import Crypto

/// SHA-256 (FIPS 180-4) through swift-crypto's BoringSSL, which uses the CPU's SHA extensions where it has
/// them: the server hashes every written block to check the writer's `sha`, so this is on the ack path.
///
/// Block manifests, event hashes and checkpoints use it. Feed bytes with ``update(_:)`` and read the
/// digest with ``finalize()``, or use the one-shot helpers:
///
/// ```swift
/// let hex = SHA256.hexDigest(of: "print(1)")   // lowercase, 64 characters
/// ```
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    /// Starts a new digest.
    public init() {}

    /// Adds bytes to the digest.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// Adds bytes from contiguous storage.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// Adds the UTF-8 bytes of a string.
    public mutating func update(_ string: String) {
        var copy = string
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Finishes and returns the 32-byte digest.
    public mutating func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    /// The digest of some bytes.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// The lowercase hex digest of the UTF-8 bytes of a string (the block sha256 of the wire protocol).
    public static func hexDigest(of string: String) -> String {
        var hasher = SHA256()
        hasher.update(string)
        return hex(hasher.finalize())
    }

    /// The lowercase hex digest of some bytes.
    public static func hexDigest(of bytes: [UInt8]) -> String { hex(digest(bytes)) }

    /// Lowercase hex of bytes.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
