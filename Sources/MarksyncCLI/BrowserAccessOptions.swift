import ArgumentParser

/// `--allow-origin` and `--allow-host` of the commands that serve HTTP (serve, api, orchestrate).
struct BrowserAccessOptions: ParsableArguments {
    @Option(
        name: .customLong("allow-origin"),
        help: ArgumentHelp(
            "A browser origin allowed to connect and write besides the server's own pages (repeatable; e.g. https://app.example:8443; * allows any).",
            valueName: "origin"))
    var allowOrigin: [String] = []

    @Option(
        name: .customLong("allow-host"),
        help: ArgumentHelp(
            "A Host name the server answers to besides localhost and IP addresses (repeatable; * allows any; guards against DNS rebinding).",
            valueName: "name"))
    var allowHost: [String] = []
}
