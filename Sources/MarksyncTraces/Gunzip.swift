import CZlib
import Foundation

/// Decompresses gzip (and zlib) data with the system zlib.
public enum Gunzip {
    /// Errors raised while inflating.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// zlib refused to start (out of memory or a library mismatch).
        case initFailed(code: Int32)
        /// The input is not gzip data or is damaged.
        case corrupt(code: Int32, message: String)
        /// The input ended before the end of the compressed stream.
        case truncated

        public var description: String {
            switch self {
            case .initFailed(let code): "zlib could not start (code \(code))"
            case .corrupt(let code, let message): "the gzip data is damaged (zlib code \(code): \(message))"
            case .truncated: "the gzip data ends too early: the file is truncated"
            }
        }
    }

    /// Inflates a whole gzip or zlib stream held in memory.
    /// - Parameter data: the compressed bytes.
    /// - Returns: the decompressed bytes.
    public static func decompress(_ data: [UInt8]) throws(Failure) -> [UInt8] {
        if data.isEmpty { throw .truncated }
        var stream = z_stream()
        // 15 + 32: accept both gzip and zlib headers.
        let initCode = czlib_inflate_init2(&stream, 15 + 32)
        guard initCode == Z_OK else { throw .initFailed(code: initCode) }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        output.reserveCapacity(max(data.count * 4, 1 << 16))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var input = data
        var result: Int32 = Z_OK
        let failure: Failure? = input.withUnsafeMutableBufferPointer { inBuffer -> Failure? in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return outBuffer.count - Int(stream.avail_out)
                }
                if result != Z_OK && result != Z_STREAM_END {
                    if result == Z_BUF_ERROR && stream.avail_in == 0 { return .truncated }
                    let message = stream.msg.map { String(cString: $0) } ?? "unknown error"
                    return .corrupt(code: result, message: message)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while result != Z_STREAM_END
            return nil
        }
        if let failure { throw failure }
        return output
    }

    /// Reads and inflates a `.gz` file.
    public static func decompressFile(atPath path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return try decompress([UInt8](data))
    }
}
