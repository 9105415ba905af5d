import NIOCore

/// Cuts a byte stream into lines (NDJSON, server-sent events) as its chunks arrive: a line split across
/// two chunks comes out whole, and so does a UTF-8 character split across them, since lines are only
/// decoded once complete.
struct LineSplitter {
    /// A line longer than this is an error rather than an unbounded buffer.
    let maxLineLength: Int
    private var pending: [UInt8] = []

    init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    /// The lines completed by `buffer`, without their `\n` or `\r\n`.
    mutating func append(_ buffer: ByteBuffer) throws(LineTooLong) -> [[UInt8]] {
        try append(contentsOf: buffer.readableBytesView)
    }

    /// The lines completed by `bytes`, without their `\n` or `\r\n`.
    mutating func append<Bytes: Collection<UInt8>>(contentsOf bytes: Bytes) throws(LineTooLong) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if pending.isEmpty {
                lines.append(Self.dropCarriageReturn(Array(bytes[start..<newline])))
            } else {
                pending.append(contentsOf: bytes[start..<newline])
                lines.append(Self.dropCarriageReturn(pending))
                pending.removeAll(keepingCapacity: true)
            }
            start = bytes.index(after: newline)
        }
        pending.append(contentsOf: bytes[start...])
        if pending.count > maxLineLength { throw LineTooLong() }
        return lines
    }

    /// The last line when the stream did not end with a newline.
    mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        let line = Self.dropCarriageReturn(pending)
        return line.isEmpty ? nil : line
    }

    private static func dropCarriageReturn(_ line: [UInt8]) -> [UInt8] {
        line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
    }

    struct LineTooLong: Error {}
}
