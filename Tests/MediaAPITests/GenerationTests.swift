import Foundation
import MariaDB
import TestSupport
import XCTest

/// Generation jobs end to end: the procedural provider, and the OpenAI-compatible one
/// against a stand-in that speaks the OpenAI images wire format on loopback.
final class GenerationTests: XCTestCase {
    let apiKey = "sk-test-\(UInt32.random(in: 0...UInt32.max))"

    /// scripts/openai-standin on a free port; stopped at the end of the test.
    func startStandIn() throws -> UInt16 {
        let standIn = try OpenAIStandIn(apiKey: apiKey)
        addTeardownBlock { standIn.stop() }
        return standIn.port
    }

    func openAIStack(_ name: String, port: UInt16, settings extra: [String: String] = [:]) throws -> LocalStack {
        var settings = OpenAIStandIn.providerSettings(port: port, apiKey: apiKey).merging([
            "MEDIA_OPENAI_TIMEOUT": "10s", "MEDIA_OPENAI_MAX_ATTEMPTS": "3", "MEDIA_OPENAI_BACKOFF": "100ms",
            "MEDIA_GENERATION_CONCURRENCY": "4",
        ]) { $1 }
        settings.merge(extra) { $1 }
        let stack = try LocalStack(name, settings: settings)
        addTeardownBlock { stack.stop() }
        return stack
    }

    /// The job once it is succeeded or failed.
    func finished(_ stack: LocalStack, _ id: String, as user: String, seconds: Double = 30) throws -> [String: Any] {
        var job: [String: Any] = [:]
        _ = try stack.waitUntil(seconds: seconds) {
            job = try stack.http.get("/api/media/jobs/\(id)", headers: ["X-User-Id": user]).json()
            return ["succeeded", "failed"].contains(job["status"] as? String ?? "")
        }
        return job
    }

    func calls(_ port: UInt16, _ prompt: String) throws -> Int { try OpenAIStandIn.calls(port: port, prompt: prompt) }

    func testProceduralJobsValidationAndOwnership() throws {
        let stack = try LocalStack("gen")
        defer { stack.stop() }
        let refused: [(String, Int, String)] = [
            (#"{"prompt":"","type":"image"}"#, 422, "invalid_prompt"),
            (#"{"prompt":"\#(String(repeating: "a", count: 4001))","type":"image"}"#, 422, "invalid_prompt"),
            (#"{"prompt":"a clip","type":"video"}"#, 422, "unsupported_generation_type"),
            (#"{"prompt":"x","type":"image","params":{"steps":30}}"#, 422, "unknown_param"),
            (#"{"prompt":"x","type":"image","params":{"width":300,"height":300}}"#, 422, "invalid_size"),
            (#"{"prompt":"x","type":"image","params":{"width":"big"}}"#, 422, "invalid_params"),
            (#"{"prompt":"x","type":"image","temperature":1}"#, 400, "unknown_field"),
            (#"{"prompt":"x","ownerType":"scene","ownerId":"scene-bob-1","role":"cover"}"#, 404, "not_found"),
            ("not json", 400, "invalid_json"),
        ]
        for (body, status, code) in refused {
            let response = try stack.generate(as: "u-alice", body)
            XCTAssertEqual(response.status, status, "\(body.prefix(60)): \(response.text)")
            XCTAssertEqual(response.errorCode, code, "\(body.prefix(60))")
        }
        XCTAssertTrue(try stack.generate(as: "u-alice", #"{"prompt":"a clip","type":"video"}"#).text.contains("not supported"))
        XCTAssertEqual(try stack.generate(as: "u-alice", #"{"prompt":"x"}"#).status == 202 ? 0 : 1, 0, "type defaults to image")

        let queued = try stack.generate(as: "u-alice", #"""
            {"prompt":"A lighthouse at dusk, oil painting","type":"image","params":{"width":512,"height":512,"seed":7},
             "ownerType":"scene","ownerId":"scene-alice-2","role":"reference"}
            """#)
        XCTAssertEqual(queued.status, 202, queued.text)
        XCTAssertEqual(queued.json()["status"] as? String, "queued")
        let id = try XCTUnwrap(queued.json()["id"] as? String)
        let job = try finished(stack, id, as: "u-alice")
        XCTAssertEqual(job["status"] as? String, "succeeded", "\(job)")
        XCTAssertEqual(job["attempts"] as? Int, 1)
        let asset = try XCTUnwrap(job["resultAsset"] as? [String: Any])
        XCTAssertEqual(asset["source"] as? String, "generated")
        XCTAssertEqual(asset["width"] as? Int, 512)
        XCTAssertEqual(((job["result"] as? [String: Any])?["facts"] as? [String: Any])?["seed"] as? Int, 7)
        // Stored in the stack's origin through the same ingest as uploads, and served from it.
        let resultId = try XCTUnwrap(asset["id"] as? String)
        XCTAssertEqual(try stack.storedObjects(under: "u-alice/\(resultId)/").count, 3, "original, thumbnail, preview")
        for variant in asset["variants"] as? [[String: Any]] ?? [] {
            let url = try XCTUnwrap(variant["url"] as? String)
            XCTAssertEqual(try stack.fetch(url).status, 200, url)
        }
        let library = try stack.http.get("/api/media?limit=5", headers: ["X-User-Id": "u-alice"]).json()
        XCTAssertTrue((library["items"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == job["resultAssetId"] as? String })
        let attached = try stack.http.get("/api/owners/scene/scene-alice-2/media?role=reference",
                                          headers: ["X-User-Id": "u-alice"]).json()["items"] as? [[String: Any]]
        XCTAssertTrue((attached ?? []).contains { $0["assetId"] as? String == job["resultAssetId"] as? String })

        XCTAssertEqual(try stack.http.get("/api/media/jobs/\(id)", headers: ["X-User-Id": "u-bob"]).status, 404)
        XCTAssertEqual(try stack.http.get("/api/media/jobs/\(id)").status, 401)
        let mine = try stack.http.get("/api/media/jobs?status=succeeded", headers: ["X-User-Id": "u-alice"]).json()
        XCTAssertTrue((mine["items"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == id })
        XCTAssertEqual((try stack.http.get("/api/media/jobs", headers: ["X-User-Id": "u-bob"]).json()["items"] as? [Any])?
            .count, 0)
        XCTAssertEqual(try stack.http.get("/api/media/jobs?status=done", headers: ["X-User-Id": "u-alice"]).status, 400)
    }

    func testOpenAIProviderOutcomes() throws {
        let port = try startStandIn()
        // A short timeout for the `slow` scenario (which answers after 10 s).
        let stack = try openAIStack("openai", port: port, settings: ["MEDIA_OPENAI_TIMEOUT": "4s"])
        let user = "u-gen-\(UInt32.random(in: 0...UInt32.max))"
        let tag = UInt32.random(in: 0...UInt32.max)
        // prompt → (status, provider calls, text in error or nil)
        let expectations: [(String, String, Int, String?)] = [
            ("ok \(tag)", "succeeded", 1, nil),
            ("url \(tag)", "succeeded", 1, nil),
            ("datauri \(tag)", "succeeded", 1, nil),
            ("policy \(tag)", "failed", 1, "content_policy_violation"),
            ("moderation \(tag)", "failed", 1, "moderation_blocked"),
            ("quota \(tag)", "failed", 1, "quota"),
            ("forbidden \(tag)", "failed", 1, "403"),
            ("ratelimit \(tag)", "succeeded", 2, nil),
            ("flaky \(tag)", "succeeded", 3, nil),
            ("slow 10 \(tag)", "failed", 3, "failed 3 times"),
            ("notimage \(tag)", "failed", 1, "refused"),
            ("empty \(tag)", "failed", 1, "without an image"),
            ("huge \(tag)", "failed", 1, "30000"),
        ]
        let ids = try expectations.map { try stack.queueImageJob(prompt: $0.0, as: user) }
        for ((prompt, status, providerCalls, errorText), id) in zip(expectations, ids) {
            let job = try finished(stack, id, as: user, seconds: 60)
            XCTAssertEqual(job["status"] as? String, status, "\(prompt): \(job)")
            XCTAssertEqual(try calls(port, prompt), providerCalls, "\(prompt): provider calls; \(job)\n"
                + stack.log().split(separator: "\n").filter { $0.contains(id) }.joined(separator: "\n"))
            if let errorText {
                XCTAssertTrue((job["error"] as? String ?? "").contains(errorText), "\(prompt): \(job["error"] ?? "")")
            } else {
                let facts = (job["result"] as? [String: Any])?["facts"] as? [String: Any]
                XCTAssertTrue((facts?["requestId"] as? String ?? "").hasPrefix("req_"), "\(prompt): \(job)")
                XCTAssertNotNil(job["resultAssetId"] as? String)
            }
        }
        let ok = try finished(stack, ids[0], as: user)
        let facts = (ok["result"] as? [String: Any])?["facts"] as? [String: Any]
        XCTAssertEqual(facts?["revisedPrompt"] as? String, "ok \(tag) (revised)")
        XCTAssertNotNil(facts?["usage"] as? [String: Any])

        let metrics = try stack.status()["generation"] as? [[String: Any]] ?? []
        for outcome in ["succeeded", "refused", "rejected", "unavailable", "invalid_output"] {
            XCTAssertTrue(metrics.contains { $0["provider"] as? String == "openai" && $0["outcome"] as? String == outcome },
                          "\(outcome) in \(metrics)")
        }
        XCTAssertTrue(stack.log().contains("\"event\":\"job.state\""))
    }

    func testAKilledWorkersJobIsReclaimedWithoutCallingTheProviderAgain() throws {
        let port = try startStandIn()
        let stack = try openAIStack("reclaim", port: port, settings: [
            "MEDIA_DEBUG_GENERATION_PAUSE": "3s", "MEDIA_GENERATION_STALE_AFTER": "2s",
        ])
        let user = "u-reclaim-\(UInt32.random(in: 0...UInt32.max))"
        let prompt = "ok reclaim \(UInt32.random(in: 0...UInt32.max))"
        let id = try stack.queueImageJob(prompt: prompt, as: user)
        // Running, with the provider's answer saved: the worker then pauses before ingest.
        XCTAssertTrue(try stack.waitUntil(seconds: 10) {
            let job = try stack.http.get("/api/media/jobs/\(id)", headers: ["X-User-Id": user]).json()
            return job["status"] as? String == "running" && (job["result"] as? [String: Any])?["facts"] != nil
        })
        for pid in try stack.workerPIDs() { kill(pid, SIGKILL) }
        let job = try finished(stack, id, as: user, seconds: 30)
        XCTAssertEqual(job["status"] as? String, "succeeded", "\(job)")
        XCTAssertEqual(job["attempts"] as? Int, 2, "reclaimed once")
        XCTAssertEqual(try calls(port, prompt), 1, "the saved bytes were used; the provider was not called again")
    }

    func testTwentyJobsAcrossTwoWorkersEachRunExactlyOnce() throws {
        let port = try startStandIn()
        let stack = try openAIStack("twenty", port: port)
        let user = "u-twenty-\(UInt32.random(in: 0...UInt32.max))"
        let prompts = (0..<20).map { "ok twenty \($0) \(UInt32.random(in: 0...UInt32.max))" }
        let ids = try prompts.map { try stack.queueImageJob(prompt: $0, as: user) }
        var assets = Set<String>()
        for (prompt, id) in zip(prompts, ids) {
            let job = try finished(stack, id, as: user)
            XCTAssertEqual(job["status"] as? String, "succeeded", prompt)
            XCTAssertEqual(job["attempts"] as? Int, 1, "\(prompt): \(job)\n" + stack.log().split(separator: "\n")
                .filter { $0.contains(id) || $0.contains("runner_error") }.joined(separator: "\n"))
            // One claim calls the provider once, plus once per retry it logged (a CI run once saw
            // a request the stand-in had received wait out the 10 s timeout; retrying was right).
            let lines = stack.log().split(separator: "\n").filter { $0.contains(id) }
            let retries = lines.filter { $0.contains(#""event":"generation.provider_retry""#) }.count
            XCTAssertEqual(try calls(port, prompt), 1 + retries, "\(prompt): " + lines.joined(separator: "\n"))
            if let asset = job["resultAssetId"] as? String { assets.insert(asset) }
        }
        XCTAssertEqual(assets.count, 20)
        let claimed = stack.claimedJobs
        for id in ids {
            XCTAssertEqual(claimed.filter { $0 == id }.count, 1, "job \(id) was claimed once")
        }
    }
}
