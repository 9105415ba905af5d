import CLZ4

/// Why an LZ4 payload could not be encoded or decoded.
public enum LZ4CodecError: Error, Equatable, CustomStringConvertible {
    /// The input is larger than LZ4's block limit (about 2 GB).
    case inputTooLarge(size: Int)
    /// Fewer than 4 bytes: the length header is missing.
    case truncatedHeader(size: Int)
    /// The header announces more bytes than the caller allows (a guard against decompression bombs).
    case declaredSizeTooLarge(declared: Int, limit: Int)
    /// The compressed block is damaged: LZ4 refused it or produced a different length than announced.
    case corruptBlock(declared: Int)

    public var description: String {
        switch self {
        case .inputTooLarge(let size): "cannot compress \(size) bytes: LZ4 blocks hold at most \(LZ4Codec.maxInputSize) bytes"
        case .truncatedHeader(let size): "LZ4 payload of \(size) bytes is too short for its 4-byte length header"
        case .declaredSizeTooLarge(let declared, let limit):
            "LZ4 payload announces \(declared) bytes, over the limit of \(limit): the data is damaged or hostile"
        case .corruptBlock(let declared): "LZ4 block is damaged (it should decode to \(declared) bytes)"
        }
    }
}

/// The LZ4 block format with a 4-byte little-endian length header: `[u32 size][lz4 block]`.
///
/// The block format does not store the uncompressed size, so the header carries it; decoding checks that
/// the block decodes to exactly that many bytes. Damaged input throws ``LZ4CodecError`` and never crashes.
public enum LZ4Codec {
    /// The largest input LZ4 accepts (`LZ4_MAX_INPUT_SIZE`).
    public static let maxInputSize = 0x7E00_0000
    /// The default upper bound for a decoded payload: 256 MiB.
    public static let defaultDecodeLimit = 256 << 20

    /// Compresses bytes into `[u32 size][lz4 block]`.
    public static func compress(_ input: [UInt8]) throws(LZ4CodecError) -> [UInt8] {
        guard input.count <= maxInputSize else { throw .inputTooLarge(size: input.count) }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var output = [UInt8](repeating: 0, count: 4 + bound)
        let size = UInt32(input.count)
        output[0] = UInt8(truncatingIfNeeded: size)
        output[1] = UInt8(truncatingIfNeeded: size >> 8)
        output[2] = UInt8(truncatingIfNeeded: size >> 16)
        output[3] = UInt8(truncatingIfNeeded: size >> 24)
        if input.isEmpty { return Array(output[0..<4]) }
        let written = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                source.withMemoryRebound(to: CChar.self) { src in
                    destination.withMemoryRebound(to: CChar.self) { dst in
                        LZ4_compress_default(src.baseAddress, dst.baseAddress! + 4, Int32(input.count), Int32(bound))
                    }
                }
            }
        }
        // LZ4_compress_default only fails when the bound is too small, which compressBound rules out.
        precondition(written > 0, "LZ4_compress_default failed with a sufficient bound")
        output.removeSubrange((4 + Int(written))...)
        return output
    }

    /// The uncompressed size announced by a payload's header.
    public static func declaredSize(of payload: [UInt8]) throws(LZ4CodecError) -> Int {
        guard payload.count >= 4 else { throw .truncatedHeader(size: payload.count) }
        return Int(UInt32(payload[0]) | UInt32(payload[1]) << 8 | UInt32(payload[2]) << 16 | UInt32(payload[3]) << 24)
    }

    /// Decompresses `[u32 size][lz4 block]`.
    /// - Parameters:
    ///   - payload: the compressed payload.
    ///   - limit: the largest decoded size accepted.
    public static func decompress(_ payload: [UInt8], limit: Int = defaultDecodeLimit) throws(LZ4CodecError) -> [UInt8] {
        let declared = try declaredSize(of: payload)
        guard declared <= limit, declared <= maxInputSize else { throw .declaredSizeTooLarge(declared: declared, limit: limit) }
        if declared == 0 {
            guard payload.count == 4 || (payload.count == 5 && payload[4] == 0) else { throw .corruptBlock(declared: 0) }
            return []
        }
        guard payload.count > 4 else { throw .corruptBlock(declared: declared) }
        var output = [UInt8](repeating: 0, count: declared)
        let decoded = payload.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                source.withMemoryRebound(to: CChar.self) { src in
                    destination.withMemoryRebound(to: CChar.self) { dst in
                        LZ4_decompress_safe(src.baseAddress! + 4, dst.baseAddress, Int32(payload.count - 4), Int32(declared))
                    }
                }
            }
        }
        guard decoded == Int32(declared) else { throw .corruptBlock(declared: declared) }
        return output
    }
}

/// How an event payload is stored: raw or LZ4-compressed, whichever is smaller.
public enum PayloadCodec: String, Sendable, Codable, CaseIterable {
    /// Stored as is.
    case raw
    /// Stored as ``LZ4Codec`` output.
    case lz4

    /// Encodes bytes with LZ4 when that makes them smaller, else keeps them raw.
    public static func encode(_ bytes: [UInt8]) -> (codec: PayloadCodec, data: [UInt8]) {
        // Tiny payloads never shrink (4-byte header + LZ4 overhead).
        if bytes.count >= 24, let compressed = try? LZ4Codec.compress(bytes), compressed.count < bytes.count {
            return (.lz4, compressed)
        }
        return (.raw, bytes)
    }

    /// Decodes bytes stored with this codec.
    public func decode(_ data: [UInt8], limit: Int = LZ4Codec.defaultDecodeLimit) throws(LZ4CodecError) -> [UInt8] {
        switch self {
        case .raw: data
        case .lz4: try LZ4Codec.decompress(data, limit: limit)
        }
    }
}
