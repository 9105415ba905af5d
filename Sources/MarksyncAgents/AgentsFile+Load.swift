import Foundation
import MarksyncCore

extension AgentsFile {
    /// Reads and parses an agents file.
    public static func load(_ path: String) throws -> OrchestrationPlan {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Failure(message: "cannot read \(path): no such file (give the agents file with -c)")
        }
        return try parse(text)
    }
}
