import Foundation
import HTTPTypes
import Hummingbird
import MarksyncCore
import MarksyncStore
import NIOCore

/// The HTTP side of the Yjs projection (docs/crdt.md):
///
/// * `GET /api/v1/docs/{doc}/yjs[?at=N][&sv=<base64 state vector>]` → `application/octet-stream`: a Yjs
///   update (format v1) of the document at seq N (the head by default), whole or as the diff from the
///   state vector; the `X-Marksync-Seq` header names the seq.
/// * `GET /api/v1/docs/{doc}/yjs/authors[?at=N]` → JSON: each Yjs client id of the projection and the
///   author it stands for.
extension HTTPAPI {
    func registerYjs(on router: Router<MarksyncRequestContext>) {
        router.get("/api/v1/docs/:doc/yjs") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let seq = try await yjsSeq(request, document)
                var vector: YjsStateVector?
                if let raw = request.uri.queryParameters.get("sv") {
                    guard let bytes = Self.base64(String(raw)), let decoded = try? YjsStateVector(decoding: bytes) else {
                        throw Failure(status: .badRequest, code: "bad_state_vector", message: "sv must be an encoded Yjs state vector in base64")
                    }
                    vector = decoded
                }
                let update = try await server.log.yjsUpdate(document, at: seq, from: vector)
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "application/octet-stream", HTTPField.Name("X-Marksync-Seq")!: String(seq),
                        .cacheControl: "no-cache",
                    ],
                    body: .init(byteBuffer: ByteBuffer(bytes: update)))
            }
        }
        router.get("/api/v1/docs/:doc/yjs/authors") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let seq = try await yjsSeq(request, document)
                let projection = try await server.log.yjsProjection(document, at: seq)
                var clients = [String: JSONValue]()
                for entry in projection.authors { clients[String(entry.client)] = .string(entry.author) }
                return Self.json([
                    "document": .string(document), "seq": .int(seq), "format": .string(YjsProjection.format), "clients": .object(clients),
                ])
            }
        }
    }

    /// `?at=N`, checked against the head; the head when absent.
    private func yjsSeq(_ request: Request, _ document: String) async throws -> Int {
        let head = try await server.log.headSeq(document)
        guard let at = try seqParameter(request, "at") else { return head }
        guard at <= head else { throw Failure(status: .badRequest, code: "bad_seq", message: "\(document) has events 1…\(head)") }
        return at
    }

    /// Base64 or base64url, padded or not (a `+` that became a space in a query is taken back).
    static func base64(_ text: String) -> [UInt8]? {
        var normalized = text.replacingOccurrences(of: " ", with: "+").replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while normalized.count % 4 != 0 { normalized += "=" }
        return Data(base64Encoded: normalized).map { [UInt8]($0) }
    }
}
