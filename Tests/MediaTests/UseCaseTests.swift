import Foundation
import Imaging
import MariaDB
@testable import Media
import TestSupport
import XCTest

/// The domain's use cases against the live test MariaDB and a real storage folder, with no
/// nginx and no pool: what each one commits, refuses and leaves behind.
final class UseCaseTests: XCTestCase {
    var database: Database!
    var root: String!
    var library: AssetLibrary!
    var attachments: AttachmentService!
    var queue: GenerationQueue!
    let stranger = "u-usecase-\(UInt32.random(in: 0...UInt32.max))"

    override func setUpWithError() throws {
        let url = try XCTUnwrap(TestEnvironment.databaseURL, "run the tests with ./scripts/test")
        database = Database(configuration: try ConnectionConfiguration(url: url))
        root = NSTemporaryDirectory() + "usecase-\(UUID().uuidString)"
        let storage = try LocalOriginStorage(root: root)
        let registry = try OwnersRegistry(
            contentsOf: TestEnvironment.repository.appendingPathComponent("prisma-compat/owners.json").path)
        let presenter = AssetPresenter(variants: VariantRepository(database: database),
                                       delivery: PublicDelivery(baseURL: "/uploads"))
        attachments = AttachmentService(database: database, registry: registry, presenter: presenter)
        library = AssetLibrary(
            database: database, storage: storage,
            ingest: IngestService(database: database, storage: storage, processor: ImageProcessor(maxPixels: 10_000_000)),
            attachments: attachments, presenter: presenter, stagingDirectory: storage.temporaryDirectory,
            uploadLimits: UploadLimits(imageBytes: 1024 * 1024, videoBytes: 1024 * 1024))
        queue = GenerationQueue(database: database, provider: ProceduralProvider(), attachments: attachments,
                                presenter: presenter, wakeRunner: {})
        let database = database!, root = root!, stranger = stranger
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: root)
            _ = try? database.execute("""
                DELETE FROM `MediaAttachment`
                WHERE `userId` = ? OR (`userId` = 'u-alice' AND `ownerId` = 'scene-alice-2' AND `role` = 'reference')
                """, [stranger])
            _ = try? database.execute("DELETE FROM `MediaGenerationJob` WHERE `userId` = ?", [stranger])
            _ = try? database.execute("""
                DELETE FROM `MediaAsset` WHERE `userId` = ? OR (`userId` = 'u-alice' AND `title` = 'usecase-test')
                """, [stranger])
        }
    }

    func stagedJPEG(width: Int = 64, height: Int = 48) throws -> StagedFile {
        let file = try library.stageUpload()
        let bytes = try Fixtures.bytes(Fixtures.jpeg(width: width, height: height))
        try bytes.withUnsafeBytes { try file.append($0) }
        return file
    }

    func rows(of user: String) throws -> Int {
        try XCTUnwrap(database.queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [user]))
            .get("n", as: Int.self)
    }

    func storedFiles() -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { !$0.hasPrefix(".tmp") }
    }

    func temporaryFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")) ?? []
    }

    func details(attachTo target: AttachmentTarget? = nil) -> UploadDetails {
        UploadDetails(title: "usecase-test", description: nil, tags: ["a", " a ", "b"], originalFilename: "x.jpg",
                      attachTo: target)
    }

    func testUploadShowEditDeleteAndThePage() throws {
        let (uploaded, attachment) = try library.upload(try stagedJPEG(), details(), userId: stranger)
        XCTAssertNil(attachment)
        XCTAssertEqual(uploaded.asset.status, .ready)
        XCTAssertEqual(uploaded.asset.tags, ["a", "b"])
        XCTAssertEqual(uploaded.variants.map(\.kind), [.original, .thumbnail, .preview])
        XCTAssertTrue(uploaded.urls.allSatisfy { $0.description.hasPrefix("/uploads/\(stranger)/\(uploaded.asset.id)/") })
        XCTAssertEqual(try library.asset(id: uploaded.asset.id, userId: stranger).asset.id, uploaded.asset.id)
        XCTAssertThrowsError(try library.asset(id: uploaded.asset.id, userId: "u-alice")) {
            XCTAssertEqual($0 as? MediaError, .notFound(.asset))
        }

        let edited = try library.update(id: uploaded.asset.id, userId: stranger,
                                        AssetChanges(title: .some("  usecase-test  "), description: .some(nil), tags: .none))
        XCTAssertEqual(edited.asset.title, "usecase-test")
        XCTAssertEqual(edited.asset.tags, ["a", "b"])
        XCTAssertThrowsError(try library.update(id: uploaded.asset.id, userId: stranger,
                                                AssetChanges(title: .some(String(repeating: "x", count: 256)),
                                                             description: .none, tags: .none))) {
            XCTAssertEqual(($0 as? MediaError).map { if case .invalid(let code, _) = $0 { code } else { "" } }, "invalid_title")
        }

        guard case .page(let items, let next, let validator, _) = try library.page(LibraryQuery(userId: stranger)) else {
            return XCTFail("a page was expected")
        }
        XCTAssertEqual(items.map(\.asset.id), [uploaded.asset.id])
        XCTAssertNil(next)
        guard case .notModified(validator) = try library.page(LibraryQuery(userId: stranger),
                                                              currentValidator: validator) else {
            return XCTFail("the same page with its validator is not modified")
        }

        try library.delete(id: uploaded.asset.id, userId: stranger)
        XCTAssertEqual(storedFiles().filter { $0.contains(uploaded.asset.id) }, [])
        XCTAssertThrowsError(try library.delete(id: uploaded.asset.id, userId: stranger)) {
            XCTAssertEqual($0 as? MediaError, .notFound(.asset))
        }
        guard case .page(let after, _, let changed, _) = try library.page(LibraryQuery(userId: stranger),
                                                                       currentValidator: validator) else {
            return XCTFail("a delete changes the page")
        }
        XCTAssertEqual(after.count, 0)
        XCTAssertNotEqual(changed, validator)
    }

    func testUploadWithAttachCommitsBothOrNeither() throws {
        // Another user's owner: refused after the variants were made, and nothing remains.
        let aliceScene = try AttachmentTarget(ownerType: .scene, ownerId: "scene-alice-2", role: .gallery)
        XCTAssertThrowsError(try library.upload(try stagedJPEG(), details(attachTo: aliceScene), userId: stranger)) {
            XCTAssertEqual($0 as? MediaError, .notFound(.owner))
        }
        XCTAssertEqual(try rows(of: stranger), 0)
        XCTAssertEqual(storedFiles(), [])
        XCTAssertEqual(temporaryFiles(), [])

        // The owner's user: the asset and its attachment commit together.
        let reference = try AttachmentTarget(ownerType: .scene, ownerId: "scene-alice-2", role: .reference)
        let (uploaded, attachment) = try library.upload(try stagedJPEG(), details(attachTo: reference), userId: "u-alice")
        let attached = try XCTUnwrap(attachment)
        XCTAssertEqual(attached.assetId, uploaded.asset.id)
        guard case .content(let media, _) = try attachments.media(ownerType: .scene, ownerId: "scene-alice-2",
                                                                   userId: "u-alice", role: .reference) else {
            return XCTFail("without kept renderings, the content is read")
        }
        XCTAssertEqual(media.map(\.attachment.id), [attached.id])
        XCTAssertEqual(media.first?.asset.variants.count, 3)
        try library.delete(id: uploaded.asset.id, userId: "u-alice")
        guard case .content(let after, _) = try attachments.media(ownerType: .scene, ownerId: "scene-alice-2",
                                                                   userId: "u-alice", role: .reference) else {
            return XCTFail("without kept renderings, the content is read")
        }
        XCTAssertEqual(after.count, 0)
    }

    func testAServerSideIngestFailureLeavesTheRowFailedAndNoFiles() throws {
        // A real storage failure: a plain file where the user's folder must go (ENOTDIR, as root too).
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/" + stranger, contents: Data("x".utf8)))
        XCTAssertThrowsError(try library.upload(try stagedJPEG(), details(), userId: stranger)) { error in
            XCTAssertTrue(error is StorageError, "\(error)")
        }
        let statuses = try database.query("SELECT `status` FROM `MediaAsset` WHERE `userId` = ?", [stranger])
            .map { try $0.get("status", as: MediaStatus.self) }
        XCTAssertEqual(statuses, [.failed])
        XCTAssertEqual(storedFiles(), [stranger])  // only the obstacle itself
        XCTAssertEqual(temporaryFiles(), [])
    }

    func testGenerationOrdersAreValidatedInOnePlace() throws {
        func order(_ type: String? = nil, prompt: String? = "a lighthouse", width: Int? = nil, height: Int? = nil,
                   seed: UInt64? = nil, quality: String? = nil, style: String? = nil,
                   attachTo: AttachmentTarget? = nil) -> GenerationOrder {
            GenerationOrder(prompt: prompt, negativePrompt: nil, type: type, width: width, height: height, seed: seed,
                            quality: quality, style: style, attachTo: attachTo)
        }
        func code(_ body: () throws -> Any) -> String? {
            do {
                _ = try body()
                return nil
            } catch MediaError.invalid(let code, _) {
                return code
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(code { try self.queue.enqueue(order("video"), userId: self.stranger, requestId: "t") },
                       "unsupported_generation_type")
        XCTAssertEqual(code { try self.queue.enqueue(order("gif"), userId: self.stranger, requestId: "t") }, "invalid_type")
        XCTAssertEqual(code { try self.queue.enqueue(order(prompt: "  "), userId: self.stranger, requestId: "t") },
                       "invalid_prompt")
        XCTAssertEqual(code { try self.queue.enqueue(order(width: 300), userId: self.stranger, requestId: "t") },
                       "invalid_size")
        XCTAssertEqual(code { try self.queue.enqueue(order(seed: 1 << 60), userId: self.stranger, requestId: "t") },
                       "invalid_params")
        XCTAssertEqual(code { try self.queue.enqueue(order(quality: "ultra"), userId: self.stranger, requestId: "t") },
                       "invalid_params")
        XCTAssertEqual(code { try self.queue.enqueue(order(style: "noir"), userId: self.stranger, requestId: "t") },
                       "invalid_params")
        let aliceScene = try AttachmentTarget(ownerType: .scene, ownerId: "scene-alice-1", role: .cover)
        XCTAssertThrowsError(try queue.enqueue(order(attachTo: aliceScene), userId: stranger, requestId: "t")) {
            XCTAssertEqual($0 as? MediaError, .notFound(.owner))
        }
        XCTAssertEqual(try rows(of: stranger), 0)

        let job = try queue.enqueue(order(width: 512), userId: stranger, requestId: "t")
        XCTAssertEqual(job.status, .queued)
        let parameters = try XCTUnwrap(job.params?.decode(GenerationParameters.self))
        XCTAssertEqual([parameters.width, parameters.height], [512, 512])
        XCTAssertLessThanOrEqual(parameters.seed, GenerationParameters.maxSeed)
        XCTAssertEqual(try queue.job(id: job.id, userId: stranger).job, job)
        XCTAssertThrowsError(try queue.job(id: job.id, userId: "u-alice")) {
            XCTAssertEqual($0 as? MediaError, .notFound(.job))
        }
    }

    /// Renderings the API keeps, by key (the domain only asks whether one is there).
    final class KeptKeys: RenderedContent {
        var keys: Set<ContentKey> = []
        func contains(_ key: ContentKey) -> Bool { keys.contains(key) }
    }

    /// A kept rendering answers a read only while every row it was made from is the same:
    /// a title, a variant's column, a new upload, a delete each make the read new again.
    func testKeptRenderingsAnswerOnlyExactlyTheSameContent() throws {
        let kept = KeptKeys()
        let (uploaded, _) = try library.upload(try stagedJPEG(), details(), userId: stranger)
        var validators: Set<String> = [], contents: Set<ContentKey> = []
        /// The page, read anew (and its key kept), then found kept with the same key and validator.
        func readAnewThenKept(_ what: String, ids: [String]) throws {
            guard case .page(let items, _, let validator, let content) = try library.page(LibraryQuery(userId: stranger),
                                                                                          rendered: kept) else {
                return XCTFail("\(what): the page is read anew")
            }
            XCTAssertEqual(items.map(\.asset.id), ids, what)
            XCTAssertFalse(contents.contains(content), "\(what): a new content")
            validators.insert(validator)
            contents.insert(content)
            kept.keys.insert(content)
            guard case .rendered(content, validator) = try library.page(LibraryQuery(userId: stranger), rendered: kept) else {
                return XCTFail("\(what): the same content again is found kept")
            }
        }
        try readAnewThenKept("the first read", ids: [uploaded.asset.id])
        _ = try library.update(id: uploaded.asset.id, userId: stranger,
                               AssetChanges(title: .some("usecase-test 2"), description: .none, tags: .none))
        try readAnewThenKept("a new title", ids: [uploaded.asset.id])
        // A variant's row changes with no change to its asset's row: the validator stays (it
        // covers the assets), the content does not.
        XCTAssertEqual(try database.execute("UPDATE `MediaVariant` SET `width` = `width` + 1 WHERE `assetId` = ? AND `kind` = 'thumbnail'",
                                            [uploaded.asset.id]), 1)
        try readAnewThenKept("a variant's width", ids: [uploaded.asset.id])
        XCTAssertEqual(validators.count, 2)
        let (second, _) = try library.upload(try stagedJPEG(), details(), userId: stranger)
        try readAnewThenKept("a new upload", ids: [second.asset.id, uploaded.asset.id])
        try library.delete(id: uploaded.asset.id, userId: stranger)
        try readAnewThenKept("a delete", ids: [second.asset.id])
        XCTAssertEqual(validators.count, 4)
        // Another user's page of the same shape is never this one's.
        guard case .page(_, _, _, let other) = try library.page(LibraryQuery(userId: stranger + "-other"), rendered: kept) else {
            return XCTFail("another user's page is read anew")
        }
        XCTAssertFalse(kept.keys.contains(other))

        // An owner's media: kept until an attachment's row changes.
        let reference = try AttachmentTarget(ownerType: .scene, ownerId: "scene-alice-2", role: .reference)
        let (attached, attachment) = try library.upload(try stagedJPEG(), details(attachTo: reference), userId: "u-alice")
        let read = { try self.attachments.media(ownerType: .scene, ownerId: "scene-alice-2", userId: "u-alice",
                                                role: .reference, rendered: kept) }
        guard case .content(let media, let recorded) = try read() else { return XCTFail("read anew") }
        XCTAssertEqual(media.map(\.asset.asset.id), [attached.asset.id])
        let content = try XCTUnwrap(recorded, "with renderings to look in, the read is keyed")
        kept.keys.insert(content)
        guard case .rendered(content) = try read() else { return XCTFail("found kept") }
        _ = try attachments.update(attachmentId: try XCTUnwrap(attachment).id, userId: "u-alice", sortOrder: 7,
                                   meta: .none)
        guard case .content(_, let changed) = try read() else { return XCTFail("a new position is read anew") }
        XCTAssertNotEqual(changed, content)
        // Without renderings to look in, nothing is keyed.
        guard case .content(_, nil) = try attachments.media(ownerType: .scene, ownerId: "scene-alice-2", userId: "u-alice",
                                                            role: .reference) else { return XCTFail("read unkeyed") }
    }

    func testPageValidatorsOfDifferentQueriesDiffer() throws {
        func validator(tag: String?, title: String?) throws -> String {
            guard case .page(_, _, let validator, _) = try library.page(
                LibraryQuery(userId: stranger, tag: tag, titleContains: title)) else { throw TestFailure("no page") }
            return validator
        }
        let validators = [try validator(tag: "x|", title: "y"), try validator(tag: "x", title: "|y"),
                          try validator(tag: nil, title: "x||y"), try validator(tag: nil, title: nil)]
        XCTAssertEqual(Set(validators).count, validators.count, "\(validators)")
    }

    func testCursorsCarryOnlyDatesTheColumnHolds() {
        let id = MediaID.generate()
        for milliseconds in ["9223372036854775807", "-99999999999999", "253402300800000", "-30610224000001",
                             "99999999999999999999"] {
            XCTAssertNil(LibraryCursor(token: Base64URL.encode(Array("v1:\(milliseconds):\(id)".utf8))), milliseconds)
        }
        for milliseconds in ["253402300799999", "-30610224000000", "0"] {
            XCTAssertNotNil(LibraryCursor(token: Base64URL.encode(Array("v1:\(milliseconds):\(id)".utf8))), milliseconds)
        }
    }
}
