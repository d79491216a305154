import Foundation
import MariaDB
import TestSupport
import XCTest

/// What a refused request could have left: the user's rows and stored objects in `stack`
/// (its folder, or its bucket), and anyone's temp files.
func leftovers(of user: String, in stack: LocalStack) throws -> (rows: Int, files: [String], temporary: [String]) {
    let database = Database(configuration: try ConnectionConfiguration(url: XCTUnwrap(TestEnvironment.databaseURL)))
    let rows = try database.queryOne("SELECT COUNT(*) AS n FROM `MediaAsset` WHERE `userId` = ?", [user])!
        .get("n", as: Int.self)
    return (rows, try stack.storedObjects(under: user + "/"), stack.temporaryFiles())
}
