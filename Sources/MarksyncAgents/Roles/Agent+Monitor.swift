import Foundation
import MarksyncCore

extension Agent {
    /// The monitor: one audit line per event (seq, block, size, sha256, author), as text on standard output
    /// or as JSON lines in the audit file. With a file, seqs already in it are not written again (a restart
    /// that sees an event twice writes one line).
    func audit(seq: Int, type: String, blockID: String?, content: String?, author: String) {
        if let path = configuration.auditFile, auditFile == nil, !auditFileFailed { openAuditFile(path) }
        guard audited.insert(seq).inserted else {
            status.skipped += 1
            return
        }
        status.handled += 1
        let size = content?.utf8.count
        let sha = content.map { SHA256.hexDigest(of: $0) }
        if let file = auditFile {
            var object: [String: Any] = ["seq": seq, "type": type, "author": author, "ts": Date().timeIntervalSince1970]
            object["block"] = blockID
            object["size"] = size
            object["sha256"] = sha
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                file.write(data + Data("\n".utf8))
            }
        } else {
            var line = "[\(name):monitor] seq=\(seq) \(type) block=\(blockID ?? "-")"
            if let size, let sha { line += " size=\(size) sha256=\(sha.prefix(12))" }
            line += " author=\(author)"
            output.audit(line)
        }
    }

    private func openAuditFile(_ path: String) {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let seq = object["seq"] as? Int {
                    audited.insert(seq)
                }
            }
        } else {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            auditFile = handle
        } catch {
            auditFileFailed = true
            fail("cannot write the audit file \(path): \(error.localizedDescription); writing to standard output")
        }
    }
}
