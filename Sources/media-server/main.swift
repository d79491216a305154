#if canImport(Glibc)
import Glibc
#endif
import FastCGI
import MediaAPI
import ServerLog

// The stop signals must be blocked before any thread starts (see Worker.prepareProcess).
Worker.prepareProcess()

let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "--help"
exit(Commands.run(command, arguments: Array(arguments.dropFirst())))
