import Foundation
import TestSupport
import Testing

/// L2–L4 as a red line: the executable (command line and web console) reaches procedure data only
/// through Consultation. It never opens a store, a vault or the registry itself, nor runs an ingest
/// behind the door's back. (`ProcedureWorkspace`, which holds a vault open, is internal to
/// Consultation, so the compiler already refuses it outside.)
struct DoorTests {
  static let forbidden = ["IndexStore", "import GRDB", "index.sqlite", "registry.sqlite", "DatabaseQueue", "DatabasePool",
                          "Ingestor(", "ProcedureWorkspace", "SynopsisMaker", "keys/kek"]

  @Test func theExecutableHasNoOtherDoorToProcedureData() throws {
    let folder = TestPaths.repository.appendingPathComponent("Sources/lrj")
    let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!
      .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    #expect(files.count > 10)
    for file in files {
      let text = try String(contentsOf: file, encoding: .utf8)
      for word in Self.forbidden {
        #expect(!text.contains(word), "\(file.lastPathComponent) uses \(word): procedure data go through Consultation")
      }
    }
  }
}
