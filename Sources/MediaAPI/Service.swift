import FastCGI
import MariaDB
import Media

/// Builds the application a worker serves: every route, wired to its dependencies.
public enum Service {
    public static func makeApplication(configuration: ServiceConfiguration, scoreboard: Scoreboard,
                                       database: Database) -> Application {
        var router = Router()
        OperationsRoutes(scoreboard: scoreboard, checks: ["database": { databaseState(database) }])
            .register(in: &router, debugEndpoints: configuration.debugEndpoints)
        return Application(router: router)
    }

    static func databaseState(_ database: Database) -> String {
        if let error = database.ping() { return "down: \(error.message)" }
        return "up"
    }
}
