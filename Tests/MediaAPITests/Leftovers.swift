import Foundation
import MariaDB
import TestSupport
import XCTest

/// What a refused request could have left: the user's rows and files in `stack`, and
/// anyone's temp files.
func leftovers(of user: String, in stack: LocalStack) throws -> (rows: Int, files: [String], temporary: [String]) {
    let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
    let rows = try database.queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [user])!
        .get("n", as: Int.self)
    let root = stack.runDirectory + "/uploads"
    let files = FileManager.default.enumerator(atPath: root + "/" + user)?.allObjects as? [String] ?? []
    let temporary = (try? FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")) ?? []
    return (rows, files, temporary)
}
