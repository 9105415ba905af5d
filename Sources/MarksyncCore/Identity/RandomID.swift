import Foundation

/// Random identifiers for connections, subscriptions and temporary files, drawn from the system's CSPRNG.
///
/// Foundation's `UUID()` on Linux reads `/dev/urandom` through a file descriptor; when the process has no
/// descriptor left (a connection storm), it silently returns the all-zero UUID
/// `00000000-0000-4000-8000-000000000000`, and every new connection gets the same id. `RandomID` draws
/// from `SystemRandomNumberGenerator` instead, which on Linux is `getrandom(2)`: no descriptor needed. It
/// fails closed: if the kernel cannot supply randomness the standard library stops the process rather
/// than hand out a predictable id; it never returns a constant.
///
/// ```swift
/// let id = RandomID.make()      // "9f1c…-…", a version-4 UUID string, lowercase
/// let key = RandomID.uuid()     // the same, as a UUID value
/// ```
public enum RandomID {
    /// A new random version-4 UUID (122 random bits).
    public static func uuid() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return uuid(using: &generator)
    }

    /// A new random version-4 UUID from `generator` (tests pass a seeded one).
    public static func uuid(using generator: inout some RandomNumberGenerator) -> UUID {
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// A new random id as a lowercase UUID string (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
    public static func make() -> String { uuid().uuidString.lowercased() }
}
