import Foundation

// Two ways to run the parser targets. Built with `-sanitize=fuzzer -DFUZZING`
// (scripts/fuzz-parsers), libFuzzer's driver runs `LLVMFuzzerTestOneInput` with the target
// named by MEDIA_FUZZ_TARGET (SwiftPM links an executable's own `main`, so the driver is
// called from it rather than from libFuzzer's). Built plainly, `media-fuzz TARGET FILE…`
// replays inputs (a corpus, a crash) through the same code, so a finding can be
// reproduced without the fuzzer.

nonisolated(unsafe) private var selectedTarget: ParserTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if selectedTarget == nil {
        let name = ProcessInfo.processInfo.environment["MEDIA_FUZZ_TARGET"] ?? ""
        guard let target = ParserTarget(rawValue: name) else {
            fatalError("MEDIA_FUZZ_TARGET must be one of: \(ParserTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        selectedTarget = target
    }
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget?.run(input)
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
enum FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = ParserTarget(rawValue: name) else {
            FileHandle.standardError.write(Data(
                "usage: media-fuzz {\(ParserTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE…\n".utf8))
            exit(64)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("media-fuzz: cannot read \(path)\n".utf8))
                exit(66)
            }
            target.run(Array(data))
        }
        print("replayed \(arguments.count - 1) input(s) through \(name)")
    }
}
#endif
