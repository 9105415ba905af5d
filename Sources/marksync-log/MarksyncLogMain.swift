import Foundation
import MarksyncCLI

/// The `marksync-log` executable: everything lives in the MarksyncCLI library.
@main
struct MarksyncLogMain {
    static func main() async {
        let code = await CommandLineRunner.run(Array(CommandLine.arguments.dropFirst()))
        exit(code)
    }
}
