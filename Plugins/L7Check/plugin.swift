import Foundation
import PackagePlugin

/// L7 at compile time (DESIGN.md §2, §8): before a target compiles, `lrj-l7-scan` applies the rules
/// of `L7Rules` to its files, to the C, C++ and system-library targets it depends on (build-tool
/// plugins cannot run for those, so their Swift dependents scan them), to any such target nothing
/// depends on, and to Package.swift (dependencies, linker settings). A line that breaks a rule
/// fails the build, naming the file, the line and the rule.
///
/// The scan's only output is a Swift file holding a comment, added to the target: the target's
/// compilation depends on it, so the scan cannot be skipped, and it runs again whenever one of the
/// scanned files changes.
@main
struct L7Check: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target as? SourceModuleTarget else { return [] }
    var files = module.sourceFiles.map(\.url)
    // This package's targets only: other packages' sources are theirs (their names, linked
    // libraries and linker settings are in this manifest, which is scanned).
    let own = Set(context.package.targets.map(\.id))
    let dependencies = module.recursiveTargetDependencies.filter { own.contains($0.id) }
    let covered = Set(dependencies.map(\.id))
    for dependency in dependencies {
      if let folder = Self.nonSwiftFolder(dependency) { files += Self.files(in: folder) }
    }
    for other in Self.unreachedNonSwiftTargets(context.package) where !covered.contains(other.id) {
      if let folder = Self.nonSwiftFolder(other) { files += Self.files(in: folder) }
    }
    let root = context.package.directoryURL
    files.append(root.appending(path: "Package.swift"))
    let stamp = context.pluginWorkDirectoryURL.appending(path: "lrj-l7-check-\(target.name).swift")
    let paths = Array(Set(files.map(\.path))).sorted()
    return [
      .buildCommand(
        displayName: "L7: checking \(target.name) for biometric processing",
        executable: try context.tool(named: "lrj-l7-scan").url,
        arguments: ["--target", target.name, "--stamp", stamp.path, "--package-root", root.path] + paths,
        inputFiles: paths.map { URL(fileURLWithPath: $0) },
        outputFiles: [stamp])
    ]
  }

  /// The folder of a C, C++ or system-library target; nil for other targets.
  static func nonSwiftFolder(_ target: any Target) -> URL? {
    if let clang = target as? ClangSourceModuleTarget { return clang.directoryURL }
    if let system = target as? SystemLibraryTarget { return system.directoryURL }
    return nil
  }

  /// Every file under `folder` (C and system-library targets: sources, headers, module maps).
  static func files(in folder: URL) -> [URL] {
    guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
    else { return [] }
    return walker.compactMap { $0 as? URL }.filter {
      (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
    }
  }

  /// C, C++ and system-library targets that no Swift target of the package depends on: no plugin
  /// would scan them otherwise.
  static func unreachedNonSwiftTargets(_ package: Package) -> [any Target] {
    var reached = Set<Target.ID>()
    for case let swift as SwiftSourceModuleTarget in package.targets {
      for dependency in swift.recursiveTargetDependencies { reached.insert(dependency.id) }
    }
    return package.targets.filter { nonSwiftFolder($0) != nil && !reached.contains($0.id) }
  }
}
