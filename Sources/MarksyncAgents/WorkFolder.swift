import Foundation
import MarksyncCore

/// The folder a deployer materialises a project into. Every file block's path must stay inside it: no
/// absolute paths, no `..`, no way out through a symbolic link (the seed's markpact wrote anywhere).
public struct WorkFolder: Sendable {
    public let url: URL

    /// The folder at `path` (created when missing).
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw AgentError("io", "cannot create the work folder \(path): \(error.localizedDescription)")
        }
        self.url = url.resolvingSymlinksInPath()
    }

    /// Where a block's path goes, or an `unsafe_path` error when it would leave the folder.
    public func destination(of path: String) throws -> URL {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasPrefix("~"), !path.contains("\0"), !path.hasSuffix("/"),
            !parts.contains(where: { $0 == ".." })
        else {
            throw AgentError("unsafe_path", "the path \(path.debugDescription) would leave the work folder; refused")
        }
        let target = url.appendingPathComponent(path).standardizedFileURL
        guard target.path.hasPrefix(url.path + "/") else {
            throw AgentError("unsafe_path", "the path \(path.debugDescription) would leave the work folder; refused")
        }
        return target
    }

    /// Writes README.md and every `file` block. All paths are checked before anything is written.
    /// - Returns: the relative paths written.
    @discardableResult
    public func materialise(_ document: MarkpactDocument, markdown: String) throws -> [String] {
        var files = [(URL, String, String)]()
        for block in document.blocks where block.kind == "file" {
            guard let path = block.path, !path.isEmpty else { continue }
            files.append((try destination(of: path), path, block.content))
        }
        try write(markdown, to: url.appendingPathComponent("README.md"))
        for (target, path, content) in files {
            let parent = target.deletingLastPathComponent()
            do { try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
                throw AgentError("io", "cannot create \(parent.path): \(error.localizedDescription)")
            }
            // A symbolic link inside the folder must not lead out of it.
            let resolvedParent = parent.resolvingSymlinksInPath().path
            guard resolvedParent == url.path || resolvedParent.hasPrefix(url.path + "/") else {
                throw AgentError("unsafe_path", "the path \(path.debugDescription) leads out of the work folder through a link; refused")
            }
            try write(content.hasSuffix("\n") || content.isEmpty ? content : content + "\n", to: target)
        }
        return files.map(\.1)
    }

    private func write(_ text: String, to target: URL) throws {
        do { try Data(text.utf8).write(to: target, options: .atomic) } catch {
            throw AgentError("io", "cannot write \(target.path): \(error.localizedDescription)")
        }
    }
}
