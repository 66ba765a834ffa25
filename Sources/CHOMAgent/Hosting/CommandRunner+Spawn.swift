import Glibc
import CHOMCore

/// posix_spawn with what Foundation.Process does not promise: a new process group, default
/// signal dispositions and an empty mask, no inherited descriptor beyond 0–2, an exact
/// environment and a working directory, and the output pipe created close-on-exec so that
/// programs started concurrently elsewhere in the agent never inherit it.
enum Spawn {
    struct Child: Sendable {
        let pid: pid_t
        /// The read end of the stdout+stderr pipe, non-blocking.
        let output: Int32
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    // glibc 2.29 / 2.9 GNU extensions the Glibc module does not export.
    private static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    private static let pipe2: Pipe2? = symbol("pipe2")

    private static func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }

    static func start(_ command: CommandRunner.Command) throws(CHOMError) -> Child {
        guard command.executable.hasPrefix("/") else {
            throw CHOMError(.invalidInput, "\(command.executable) is not an absolute path")
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard let pipe2 else { throw CHOMError(.unavailable, "this C library has no pipe2") }
        guard pipe2(&pipeEnds, O_CLOEXEC) == 0 else { throw failure("cannot create a pipe") }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)  // not a tenant path: /dev/null
        defer {
            close(pipeEnds[1])
            if null >= 0 { close(null) }
        }
        guard null >= 0 else {
            close(pipeEnds[0])
            throw failure("cannot open /dev/null")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, null, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        do {
            try SpawnedDescriptors.closeAllButStandard(&actions)
        } catch {
            close(pipeEnds[0])
            throw error
        }
        if let directory = command.workingDirectory {
            guard let addChdir else {
                close(pipeEnds[0])
                throw CHOMError(.unavailable, "this C library cannot set a spawned program's working directory")
            }
            _ = addChdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        SpawnedSignals.reset(&attributes, flags: POSIX_SPAWN_SETPGROUP)

        var executable = command.executable
        var arguments = command.arguments
        if let cgroup = command.cgroup {
            arguments = ["-c", RunCgroup.joinScript, "chom-join"] + cgroup.procsFiles + ["--", executable] + arguments
            executable = RunCgroup.joinShell
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            close(pipeEnds[0])
            throw CHOMError(.unavailable, "cannot start \(command.executable): \(String(cString: strerror(result)))")
        }
        _ = fcntl(pipeEnds[0], F_SETFL, fcntl(pipeEnds[0], F_GETFL) | O_NONBLOCK)
        return Child(pid: pid, output: pipeEnds[0])
    }

    private static func failure(_ what: String) -> CHOMError {
        CHOMError(.internal, "\(what): \(String(cString: strerror(errno)))")
    }
}
