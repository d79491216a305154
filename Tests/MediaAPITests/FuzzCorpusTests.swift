import Foundation
import TestSupport
import XCTest

/// Every seed and every past crash in Tests/FuzzCorpus goes through its parser target
/// again (the media-fuzz binary in replay mode, built beside media-server): a parser that
/// traps on any of them fails here, without the fuzzer.
final class FuzzCorpusTests: XCTestCase {
    func testEveryCorpusInputReplaysWithoutATrap() throws {
        let binary = (TestEnvironment.binary as NSString).deletingLastPathComponent + "/media-fuzz"
        let corpus = TestEnvironment.repository.appendingPathComponent("Tests/FuzzCorpus").path
        let targets = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted()
        XCTAssertEqual(targets, ["container", "cursor", "ffprobe", "json", "jwt", "metadata", "multipart", "owners", "query", "s3xml",
                                 "sniffer"])
        for target in targets {
            let folder = corpus + "/" + target
            let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
            XCTAssertFalse(inputs.isEmpty, target)
            let result = try runProcess(binary, [target] + inputs)
            XCTAssertEqual(result.status, 0, "\(target): \(result.text)")
            XCTAssertTrue(result.text.contains("replayed \(inputs.count) input(s) through \(target)"), result.text)
        }
    }
}
