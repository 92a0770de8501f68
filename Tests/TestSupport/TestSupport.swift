import Foundation

/// Paths and helpers shared by the test targets.
public enum TestPaths {
  /// The package root (three levels above this file).
  public static let repository: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The Samples clip.
  public static var samplesClip: String { repository.appendingPathComponent("Samples/street.mp4").path }

  /// The Samples ground truth.
  public static var samplesTruth: String { repository.appendingPathComponent("Samples/street.json").path }

  /// `../shared/footage` beside the repository, when present.
  public static var footage: URL? {
    let url = repository.deletingLastPathComponent().appendingPathComponent("shared/footage")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }

  /// `../shared/models/yolox_nano.onnx` beside the repository (the CNN classifier's model), when present.
  public static var classifierModel: String? {
    let path = repository.deletingLastPathComponent().appendingPathComponent("shared/models/yolox_nano.onnx").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  /// Every video clip of the shared footage (empty when absent), sorted.
  public static var footageClips: [String] {
    guard let footage, let walker = FileManager.default.enumerator(atPath: footage.path) else { return [] }
    return walker.compactMap { $0 as? String }
      .filter { ["mp4", "avi", "mkv", "mov"].contains(($0 as NSString).pathExtension.lowercased()) }
      .map { footage.appendingPathComponent($0).path }
      .sorted()
  }

  /// The folder holding the built products (`lrj`, `lrj-samplegen`) of this test run.
  public static var products: URL {
    // The test bundle sits in the products folder: .build/<triple>/debug/lrjPackageTests.xctest
    let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
    var folder = bundle.deletingLastPathComponent()
    for _ in 0..<3 where !FileManager.default.fileExists(atPath: folder.appendingPathComponent("lrj").path) {
      folder = folder.deletingLastPathComponent()
    }
    if FileManager.default.fileExists(atPath: folder.appendingPathComponent("lrj").path) { return folder }
    return repository.appendingPathComponent(".build/debug")
  }

  /// A new empty temporary folder.
  public static func temporaryFolder(_ name: String = "lrj-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// What a finished process printed and returned.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var standardOutput: String
  public var standardError: String
  public var outputData: Data
}

/// Runs programs and collects their output.
public enum Run {
  /// Runs `executable` (a path, or a name looked up on PATH) with `arguments`, no standard input.
  public static func program(_ executable: String, _ arguments: [String], environment: [String: String] = [:])
    throws -> ProcessResult
  {
    let process = Process()
    if executable.contains("/") {
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [executable] + arguments
    }
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    // Output goes to files, so that neither stream can fill a pipe and block the child.
    let folder = try TestPaths.temporaryFolder("lrj-run")
    defer { try? FileManager.default.removeItem(at: folder) }
    let outputURL = folder.appendingPathComponent("stdout")
    let errorURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let output = try FileHandle(forWritingTo: outputURL)
    let error = try FileHandle(forWritingTo: errorURL)
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try output.close()
    try error.close()
    let outputData = try Data(contentsOf: outputURL)
    let errorData = try Data(contentsOf: errorURL)
    return ProcessResult(
      status: process.terminationStatus,
      standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: String(decoding: errorData, as: UTF8.self),
      outputData: outputData)
  }

  /// Starts the built `lrj` and kills it with SIGKILL after `delay` seconds (if it still runs then).
  /// - Returns: its exit status or signal, and whether it was killed.
  @discardableResult
  public static func lrjKilled(_ arguments: [String], environment: [String: String] = [:], after delay: Double) throws
    -> (status: Int32, killed: Bool)
  {
    let process = Process()
    process.executableURL = TestPaths.products.appendingPathComponent("lrj")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(delay)
    while process.isRunning, Date() < deadline { usleep(2_000) }
    let killed = process.isRunning
    if killed { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return (process.terminationStatus, killed)
  }

  /// Runs the built `lrj` and returns how long it took, in seconds.
  public static func lrjTimed(_ arguments: [String], environment: [String: String] = [:]) throws -> (ProcessResult, Double) {
    let started = Date()
    let result = try lrj(arguments, environment: environment)
    return (result, Date().timeIntervalSince(started))
  }

  /// Runs the built `lrj` with `arguments`.
  public static func lrj(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try program(TestPaths.products.appendingPathComponent("lrj").path, arguments, environment: environment)
  }
}

/// FFmpeg's command-line tools, as the reference the tests compare against.
public enum Reference {
  /// Whether `ffmpeg` and `ffprobe` are installed.
  public static var available: Bool {
    (try? Run.program("ffprobe", ["-version"]).status) == 0
  }

  /// The number of video frames ffprobe decodes (`-count_frames`).
  public static func decodedFrameCount(_ path: String) throws -> Int {
    let result = try Run.program(
      "ffprobe",
      ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames",
       "-of", "csv=p=0", path])
    return Int(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")[0]) ?? -1
  }

  /// The first frame as ffmpeg decodes it, packed RGB24, optionally scaled with ffmpeg's default filter.
  public static func firstFrameRGB(_ path: String, width: Int? = nil, height: Int? = nil) throws -> [UInt8] {
    var arguments = ["-v", "error", "-i", path, "-frames:v", "1"]
    if let width, let height { arguments += ["-vf", "scale=\(width):\(height)"] }
    arguments += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    return [UInt8](try Run.program("ffmpeg", arguments).outputData)
  }
}

/// Image comparisons.
public enum Compare {
  /// Mean absolute difference between two byte arrays of equal length.
  public static func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty)
    var sum = 0
    for i in a.indices { sum += abs(Int(a[i]) - Int(b[i])) }
    return Double(sum) / Double(a.count)
  }

  /// Peak signal-to-noise ratio in dB of two 8-bit arrays of equal length.
  public static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty)
    var sum = 0.0
    for i in a.indices {
      let d = Double(Int(a[i]) - Int(b[i]))
      sum += d * d
    }
    let mse = sum / Double(a.count)
    return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
  }
}
