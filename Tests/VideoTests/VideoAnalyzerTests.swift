@testable import Video
import XCTest

final class VideoAnalyzerTests: XCTestCase {
    private func analysis(_ json: String) throws -> VideoAnalysis {
        try VideoAnalyzer.analysis(ffprobeJSON: Array(json.utf8))
    }

    func testPortraitPhoneVideoIsStoredAsDisplayed() throws {
        let result = try analysis("""
            {"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                          "avg_frame_rate": "30000/1001", "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
                         {"codec_type": "audio", "codec_name": "aac"}],
             "format": {"duration": "12.345000", "bit_rate": "8000000", "nb_streams": 2}}
            """)
        XCTAssertEqual(result, VideoAnalysis(width: 1080, height: 1920, rotation: 90, durationMs: 12_345, claimedSeconds: 12.345,
                                             videoSeconds: 12.345, videoCodec: "h264", frameRate: 29.97, audioCodec: "aac",
                                             bitRate: 8_000_000, streamCount: 2))
    }

    func testLegacyRotateTagAndHalfTurn() throws {
        let tagged = try analysis(#"{"streams": [{"codec_type": "video", "width": 640, "height": 480, "tags": {"rotate": "270"}}]}"#)
        XCTAssertEqual([tagged.width, tagged.height, tagged.rotation], [480, 640, 270])
        let upsideDown = try analysis(#"{"streams": [{"codec_type": "video", "width": 640, "height": 480, "side_data_list": [{"rotation": 180}]}]}"#)
        XCTAssertEqual([upsideDown.width, upsideDown.height, upsideDown.rotation], [640, 480, 180])
    }

    func testCoverArtAloneIsNoVideo() {
        XCTAssertThrowsError(try analysis("""
            {"streams": [{"codec_type": "audio", "codec_name": "aac"},
                         {"codec_type": "video", "codec_name": "mjpeg", "width": 500, "height": 500, "disposition": {"attached_pic": 1}}]}
            """)) { error in
            XCTAssertEqual(error as? VideoError, .noVideoStream("audio, video only"))
        }
        XCTAssertThrowsError(try analysis(#"{"streams": [{"codec_type": "attachment"}]}"#)) { error in
            XCTAssertEqual(error as? VideoError, .noVideoStream("attachment only"))
        }
        XCTAssertThrowsError(try analysis(#"{"streams": []}"#)) { error in
            XCTAssertEqual(error as? VideoError, .noVideoStream("no streams"))
        }
    }

    func testHostileNumbersAreRefusedOrDropped() throws {
        XCTAssertThrowsError(try analysis(#"{"streams": [{"codec_type": "video", "width": 0, "height": 480}]}"#))
        XCTAssertThrowsError(try analysis("not json"))
        let odd = try analysis("""
            {"streams": [{"codec_type": "video", "width": 64, "height": 64, "avg_frame_rate": "0/0", "r_frame_rate": "1/0",
                          "side_data_list": [{"rotation": 1e300}]}],
             "format": {"duration": "1e300", "bit_rate": "-5", "nb_streams": 1}}
            """)
        XCTAssertNil(odd.durationMs, "too long to store")
        XCTAssertEqual(odd.claimedSeconds, 1e300, "but still checked against the limit")
        XCTAssertNil(odd.frameRate)
        XCTAssertNil(odd.bitRate)
        XCTAssertEqual(odd.rotation, 0)
        XCTAssertThrowsError(try analysis("""
            {"streams": [{"codec_type": "video", "width": 64, "height": 64}], "format": {"duration": "-3"}}
            """))
        XCTAssertThrowsError(try analysis(#"{"streams": [{"codec_type": "video", "width": 1e30, "height": 64}]}"#))
    }

    /// The poster is looked for in the video stream, not past its end when audio runs on.
    func testPosterSeekPoints() throws {
        func points(_ seconds: Double?) -> [String] {
            VideoPreviewer.attempts(videoSeconds: seconds).map { "\($0.seconds)\($0.keyframe ? "k" : "")" }
        }
        XCTAssertEqual(points(nil), ["0.0"])
        XCTAssertEqual(points(4), ["1.0k", "1.0", "2.0", "3.0", "0.0"])
        XCTAssertEqual(points(4 * 3600), ["15.0k", "15.0", "30.0", "45.0", "0.0"])
        let audioLonger = try analysis("""
            {"streams": [{"codec_type": "video", "width": 64, "height": 64, "duration": "2.0"},
                         {"codec_type": "audio", "duration": "10.0"}], "format": {"duration": "10.0"}}
            """)
        XCTAssertEqual(audioLonger.videoSeconds, 2)
        XCTAssertEqual(audioLonger.durationMs, 10_000)
    }
}
