/// The binary encoding of event bodies (the log's payloads) and the hash chain.
///
/// A payload does not repeat the block id: the store keeps it in its own column (as a small integer
/// key). Patch text that diff-match-patch would write back identically is stored in a compact binary
/// form (hunk coordinates as varints, diff texts as UTF-8) and turned back into the same text on read;
/// any other patch text is stored as received.
public enum EventCodec {
    /// Format version of payloads. Bump when the encoding changes; readers keep decoding older versions.
    public static let payloadVersion = 1
    /// Bytes of the chained hash kept per event (a SHA-256 prefix).
    public static let hashLength = 16

    private static let dmp = DiffMatchPatch()

    /// Why a payload could not be read.
    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var kind: EventKind?
        public var message: String
        public var description: String { "cannot decode \(kind?.name ?? "event") payload: \(message)" }
    }

    // MARK: Encoding

    /// Encodes a body without its block id.
    public static func encode(_ body: EventBody) -> [UInt8] {
        var w = ByteWriter()
        switch body {
        case .blockCreated(let created):
            w.varint(created.index)
            encodeHeader(created.header, into: &w)
            w.byte((created.bodyIsOneEmptyLine ? 1 : 0) | (created.proseBefore != nil ? 2 : 0))
            if let before = created.proseBefore { w.string(before) }
            w.string(created.proseAfter)
            w.string(created.content)
        case .blockPatched(_, let patch, let resultLength, let sha):
            let compact = compactPatch(patch)
            let shaBytes = sha.flatMap(hexBytes)  // only well-formed lowercase hex is ever recorded
            w.byte((shaBytes != nil ? 1 : 0) | (compact != nil ? 2 : 0))
            w.varint(resultLength)
            if let shaBytes { w.raw(shaBytes) }
            if let compact { w.raw(compact) } else { w.raw(patch.utf8) }
        case .blockReplaced(_, let content):
            w.raw(content.utf8)
        case .blockDeleted:
            break
        case .blockHeaderChanged(_, let header):
            encodeHeader(header, into: &w)
        case .proseEdited(let index, let text):
            w.varint(index)
            w.raw(text.utf8)
        case .reviewNote(let note):
            w.varint(note.blockSeq)
            w.string(note.blockSHA256)
            w.string(note.verdict)
            w.string(note.text)
        case .deployResult(let result):
            w.varint(result.documentSeq)
            w.string(result.command)
            w.zigzag(Int(result.startedMs))
            w.zigzag(Int(result.durationMs))
            w.byte(result.exitCode == nil ? 0 : 1)
            if let code = result.exitCode { w.zigzag(code) }
            w.string(result.outputTail)
        case .lineEndingChanged(let ending):
            w.byte(ending == .crlf ? 1 : 0)
        }
        return w.bytes
    }

    private static func encodeHeader(_ header: BlockHeader, into w: inout ByteWriter) {
        w.string(header.kind)
        w.string(header.lang)
        w.string(header.meta)
        w.optionalString(header.path)
        w.byte(header.style == .langFirst ? 0 : 1)
        w.string(header.openingLine)
        w.string(header.closingLine)
    }

    /// The compact form of a patch text, or nil when diff-match-patch would not write it back identically.
    static func compactPatch(_ text: String) -> [UInt8]? {
        guard let patches = try? dmp.patchFromText(text), !patches.isEmpty, dmp.patchToText(patches) == text else {
            return nil
        }
        var w = ByteWriter(capacity: 32)
        w.varint(patches.count)
        for patch in patches {
            w.varint(patch.start1)
            w.varint(patch.length1)
            w.zigzag(patch.start2 - patch.start1)
            w.varint(patch.length2)
            w.varint(patch.diffs.count)
            for diff in patch.diffs {
                let utf8 = Array(DMPCodePoints.string(diff.text).utf8)
                let op: Int =
                    switch diff.operation {
                    case .equal: 0
                    case .insert: 1
                    case .delete: 2
                    }
                w.varint(utf8.count << 2 | op)
                w.raw(utf8)
            }
        }
        return w.bytes
    }

    static func expandCompactPatch(_ reader: inout ByteReader) throws(ByteReaderError) -> String {
        dmp.patchToText(try readCompactHunks(&reader))
    }

    /// The hunks of the compact form (see ``compactPatch(_:)``).
    static func readCompactHunks(_ reader: inout ByteReader) throws(ByteReaderError) -> [Patch] {
        // Damaged data must give an error, not a trap: counts are checked against the bytes left (each
        // hunk and diff takes at least one byte) before anything is reserved, and coordinates are held to
        // the bound patch text has (``DiffMatchPatch/maxPatchNumber``), so the start2 sum cannot overflow.
        func coordinate(_ field: String, _ value: Int) throws(ByteReaderError) -> Int {
            guard value >= -1, value <= DiffMatchPatch.maxPatchNumber else {
                throw ByteReaderError(field: field, offset: reader.offset)
            }
            return value
        }
        let count = try reader.varint("hunk count")
        guard count <= reader.remaining else { throw ByteReaderError(field: "hunk count", offset: reader.offset) }
        var patches = [Patch]()
        patches.reserveCapacity(count)
        for _ in 0..<count {
            var patch = Patch()
            // A start of -1 (`@@ -0 +… @@`, or `@@ -0,5 …`) was written by `varint(Int)` as its 64-bit pattern.
            patch.start1 = try coordinate("start1", Int(Int64(bitPattern: try reader.varint64("start1"))))
            patch.length1 = try coordinate("length1", try reader.varint("length1"))
            let shift = try reader.zigzag("start2")
            guard shift >= -2 * DiffMatchPatch.maxPatchNumber, shift <= 2 * DiffMatchPatch.maxPatchNumber else {
                throw ByteReaderError(field: "start2", offset: reader.offset)
            }
            patch.start2 = try coordinate("start2", patch.start1 + shift)
            patch.length2 = try coordinate("length2", try reader.varint("length2"))
            let diffCount = try reader.varint("diff count")
            guard diffCount <= reader.remaining else { throw ByteReaderError(field: "diff count", offset: reader.offset) }
            patch.diffs.reserveCapacity(diffCount)
            for _ in 0..<diffCount {
                let tag = try reader.varint("diff")
                guard tag & 3 != 3, let scalars = UTF8Scalars.decode(try reader.raw(count: tag >> 2, "diff text")) else {
                    throw ByteReaderError(field: "diff text", offset: reader.offset)
                }
                patch.diffs.append(Diff(tag & 3 == 0 ? .equal : (tag & 3 == 1 ? .insert : .delete), scalars))
            }
            patches.append(patch)
        }
        return patches
    }

    // MARK: Decoding

    /// A stored patch event read straight into hunks, for replay loops (no patch text is built or parsed).
    public struct DecodedPatch: Sendable {
        public var patches: [Patch]
        public var resultLength: Int
        public var resultSHA256: String?
    }

    /// Decodes a `block.patched` payload into hunks when it is in the compact form; nil when the patch was
    /// stored as text (then use ``decode(kind:blockID:payload:)``).
    public static func decodePatchFast(_ payload: [UInt8]) throws(DecodeError) -> DecodedPatch? {
        var r = ByteReader(payload)
        do {
            let flags = try r.byte("flags")
            guard flags & 2 != 0 else { return nil }
            let length = try r.varint("result length")
            let sha = flags & 1 != 0 ? SHA256.hex(Array(try r.raw(count: 32, "sha256"))) : nil
            let patches = try readCompactHunks(&r)
            return DecodedPatch(patches: patches, resultLength: length, resultSHA256: sha)
        } catch {
            throw DecodeError(kind: .blockPatched, message: "\(error)")
        }
    }

    /// Decodes a payload written by ``encode(_:)``.
    public static func decode(kind: EventKind, blockID: String?, payload: [UInt8]) throws(DecodeError) -> EventBody {
        var r = ByteReader(payload)
        func needID() throws(DecodeError) -> String {
            guard let blockID else { throw DecodeError(kind: kind, message: "the event has no block") }
            return blockID
        }
        func text(_ slice: ArraySlice<UInt8>) throws(DecodeError) -> String {
            guard let value = String(validating: slice, as: UTF8.self) else {
                throw DecodeError(kind: kind, message: "the text is not UTF-8")
            }
            return value
        }
        do {
            switch kind {
            case .blockCreated:
                let index = try r.varint("index")
                let header = try decodeHeader(&r)
                let flags = try r.byte("flags")
                let before = flags & 2 != 0 ? try r.string("prose before") : nil
                let after = try r.string("prose after")
                let content = try r.string("content")
                return .blockCreated(
                    BlockCreated(
                        blockID: try needID(), index: index, header: header, content: content, bodyIsOneEmptyLine: flags & 1 != 0,
                        proseBefore: before, proseAfter: after))
            case .blockPatched:
                let flags = try r.byte("flags")
                let length = try r.varint("result length")
                let sha = flags & 1 != 0 ? SHA256.hex(Array(try r.raw(count: 32, "sha256"))) : nil
                let patch = flags & 2 != 0 ? try expandCompactPatch(&r) : try text(r.rest())
                return .blockPatched(blockID: try needID(), patch: patch, resultLength: length, resultSHA256: sha)
            case .blockReplaced:
                return .blockReplaced(blockID: try needID(), content: try text(r.rest()))
            case .blockDeleted:
                return .blockDeleted(blockID: try needID())
            case .blockHeaderChanged:
                return .blockHeaderChanged(blockID: try needID(), header: try decodeHeader(&r))
            case .proseEdited:
                let index = try r.varint("index")
                return .proseEdited(index: index, text: try text(r.rest()))
            case .reviewNote:
                return .reviewNote(
                    ReviewNote(
                        blockID: try needID(), blockSeq: try r.varint("block seq"), blockSHA256: try r.string("sha256"),
                        verdict: try r.string("verdict"), text: try r.string("text")))
            case .deployResult:
                let seq = try r.varint("seq")
                let command = try r.string("command")
                let started = try r.zigzag("start")
                let duration = try r.zigzag("duration")
                let exitCode = try r.byte("exit flag") == 1 ? try r.zigzag("exit code") : nil
                return .deployResult(
                    DeployResult(
                        documentSeq: seq, command: command, startedMs: Int64(started), durationMs: Int64(duration), exitCode: exitCode,
                        outputTail: try r.string("output")))
            case .lineEndingChanged:
                return .lineEndingChanged(try r.byte("line ending") == 1 ? .crlf : .lf)
            }
        } catch let error as ByteReaderError {
            throw DecodeError(kind: kind, message: error.description)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw DecodeError(kind: kind, message: "\(error)")
        }
    }

    private static func decodeHeader(_ r: inout ByteReader) throws(ByteReaderError) -> BlockHeader {
        BlockHeader(
            kind: try r.string("kind"), lang: try r.string("lang"), meta: try r.string("meta"), path: try r.optionalString("path"),
            style: try r.byte("style") == 0 ? .langFirst : .markpactFirst, openingLine: try r.string("opening fence"),
            closingLine: try r.string("closing fence"))
    }

    // MARK: Hash chain

    /// The event's chained hash: the first ``hashLength`` bytes of SHA-256 over the previous hash and the
    /// event's logical content (seq, time, author, client id, base seq, kind, block id, payload).
    public static func chainHash(
        previous: [UInt8], seq: Int, timestampMs: Int64, author: String, clientMessageID: String?, baseSeq: Int?,
        kind: EventKind, blockID: String?, payload: [UInt8]
    ) -> [UInt8] {
        var w = ByteWriter(capacity: payload.count + 96)
        w.lengthPrefixed(previous)
        w.varint(seq)
        w.zigzag(Int(timestampMs))
        w.string(author)
        w.optionalString(clientMessageID)
        w.byte(baseSeq == nil ? 0 : 1)
        if let baseSeq { w.varint(baseSeq) }
        w.byte(kind.rawValue)
        w.optionalString(blockID)
        w.lengthPrefixed(payload)
        return Array(SHA256.digest(w.bytes).prefix(hashLength))
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(32)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var i = 0
        while i < 64 {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
