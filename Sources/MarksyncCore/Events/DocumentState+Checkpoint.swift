extension DocumentState {
    /// Format version of checkpoint snapshots.
    public static let checkpointVersion = 1

    /// The state as a checkpoint snapshot (uncompressed): seq, line ending, prose, and every block with its
    /// header, content, versions and sha256.
    public func encodeCheckpoint() -> [UInt8] {
        var w = ByteWriter(capacity: 1024)
        w.varint(Self.checkpointVersion)
        w.varint(seq)
        w.byte(lineEnding == .crlf ? 1 : 0)
        w.varint(prose.count)
        for segment in prose { w.string(segment) }
        w.varint(blocks.count)
        for block in blocks {
            w.string(block.id)
            w.string(block.header.kind)
            w.string(block.header.lang)
            w.string(block.header.meta)
            w.optionalString(block.header.path)
            w.byte(block.header.style == .langFirst ? 0 : 1)
            w.string(block.header.openingLine)
            w.string(block.header.closingLine)
            w.byte(block.bodyIsOneEmptyLine ? 1 : 0)
            w.varint(block.createdSeq)
            w.varint(block.versionSeq)
            let content = block.content
            w.raw(SHA256.digest(Array(content.utf8)))
            w.string(content)
            // Blame: line versions, as differences from the block's version (small numbers).
            w.varint(block.lines.versions.count)
            for version in block.lines.versions { w.zigzag(block.versionSeq - version) }
        }
        return w.bytes
    }

    /// Why a checkpoint could not be read.
    public struct CheckpointError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { "damaged checkpoint: \(message)" }
    }

    /// A state from a checkpoint snapshot. Every block's sha256 is checked.
    public init(checkpoint bytes: [UInt8]) throws(CheckpointError) {
        var r = ByteReader(bytes)
        do {
            let version = try r.varint("version")
            guard version == Self.checkpointVersion else {
                throw CheckpointError(message: "version \(version) is not known to this marksync-log")
            }
            self.init()
            seq = try r.varint("seq")
            lineEnding = try r.byte("line ending") == 1 ? .crlf : .lf
            let proseCount = try r.varint("prose count")
            guard proseCount >= 1, proseCount <= bytes.count else { throw CheckpointError(message: "bad prose count") }
            var prose = [String]()
            for _ in 0..<proseCount { prose.append(try r.string("prose")) }
            let blockCount = try r.varint("block count")
            guard blockCount == proseCount - 1 else { throw CheckpointError(message: "block and prose counts disagree") }
            var blocks = [Block]()
            for _ in 0..<blockCount {
                let id = try r.string("block id")
                let header = BlockHeader(
                    kind: try r.string("kind"), lang: try r.string("lang"), meta: try r.string("meta"),
                    path: try r.optionalString("path"), style: try r.byte("style") == 0 ? .langFirst : .markpactFirst,
                    openingLine: try r.string("opening fence"), closingLine: try r.string("closing fence"))
                let oneEmptyLine = try r.byte("flags") == 1
                let created = try r.varint("created seq")
                let version = try r.varint("version seq")
                let sha = Array(try r.raw(count: 32, "sha256"))
                let content = try r.string("content")
                guard SHA256.digest(Array(content.utf8)) == sha else {
                    throw CheckpointError(message: "block \(id) does not match its sha256")
                }
                var block = Block(id: id, header: header, content: content, bodyIsOneEmptyLine: oneEmptyLine, seq: created)
                block.versionSeq = version
                let lineCount = try r.varint("line count")
                guard lineCount == block.lines.versions.count else {
                    throw CheckpointError(message: "block \(id) has \(block.lines.versions.count) lines but \(lineCount) line versions")
                }
                var versions = [Int]()
                versions.reserveCapacity(lineCount)
                for _ in 0..<lineCount { versions.append(version - (try r.zigzag("line version"))) }
                block.lines = LineVersions(versions: versions)
                blocks.append(block)
            }
            guard r.isAtEnd else { throw CheckpointError(message: "trailing bytes") }
            self.prose = prose
            self.blocks = blocks
            reindexBlocks(from: 0)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(message: "\(error)")
        }
    }
}
