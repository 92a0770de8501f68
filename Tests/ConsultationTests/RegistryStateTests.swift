import Foundation
import Testing

@testable import Consultation

/// The registry rebuilt from the log alone (pure replay), and its comparison with the tables.
struct RegistryStateTests {
  static let t0 = Date(timeIntervalSince1970: 1_780_000_000)

  static func entry(_ user: String, _ operation: String, procedure: String? = nil, _ parameters: [String: String],
                    outcome: LogOutcome = .success) -> LogEntry {
    LogEntry(time: t0, user: user, role: "x", procedure: procedure, operation: operation, parameters: parameters, outcome: outcome)
  }

  static var log: [(seq: Int64, entry: LogEntry?)] {
    let grant = ["kind": "flagrance", "investigators": "opj", "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z"]
    return [
      entry("admin", "installation.create", ["installation": "i", "key": "A"]),
      entry("admin", "user.add", ["user": "judge", "role": "magistrate", "key": "J"]),
      entry("admin", "user.add", ["user": "opj", "role": "investigator", "key": "O"]),
      entry("judge", "authorise", procedure: "P1", grant.merging(["token": "t1"]) { $1 }),
      entry("judge", "authorise", procedure: "P1", grant.merging(["token": "refused"]) { $1 }, outcome: .refused),
      entry("opj", "procedure.open", procedure: "P1", grant.merging(["token": "t1", "issuer": "judge", "new": "true"]) { $1 }),
      entry("opj", "ingest", procedure: "P1", ["operation": "op1"], outcome: .started),
      entry("admin", "user.disable", ["user": "opj"]),
    ].enumerated().map { (Int64($0.offset + 1), $0.element) }
  }

  @Test func replayBuildsWhatTheOperationsSay() {
    let state = RegistryState.replay(Self.log, installation: "i")
    #expect(state.users["admin"]?.role == "administrator" && state.users["opj"]?.enabled == false)
    #expect(state.procedures["P1"] == .init(kind: "flagrance", magistrate: "judge", openedBy: "opj", closure: nil))
    #expect(state.grants.keys.sorted() == ["t1"], "refused entries grant nothing")
    #expect(state.grants["t1"]?.registeredBy == "opj")
    #expect(state.operations["op1"]?.startedSeq == 7, "a started operation without its end is running")
    #expect(state.differences(from: state).isEmpty)
  }

  @Test func differencesNameInsertedEditedAndDeletedRows() {
    let logged = RegistryState.replay(Self.log, installation: "i")
    var stored = logged
    stored.users["opj"]?.role = "controller"
    stored.users["mallory"] = .init(role: "controller", publicKey: "M", enabled: true, enrolledBy: "admin")
    stored.procedures["P1"] = nil
    let lines = logged.differences(from: stored)
    #expect(lines.count == 3)
    #expect(lines.contains { $0.hasPrefix("user opj differs from the log (edited): the registry holds role controller") })
    #expect(lines.contains { $0.hasPrefix("user mallory is in the registry") && $0.contains("(inserted)") })
    #expect(lines.contains { $0.hasPrefix("procedure P1") && $0.hasSuffix("(deleted)") })
  }

  @Test func aSnapshotStandsForThePurgedEntries() {
    let full = RegistryState.replay(Self.log, installation: "i")
    let through: Int64 = 6
    let snapshot = RegistryState.replay(Array(Self.log.prefix(Int(through))), installation: "i").snapshot()
    var purged: [(seq: Int64, entry: LogEntry?)] = Self.log.map { ($0.seq, $0.seq <= through ? nil : $0.entry) }
    purged.append((9, Self.entry("judge", "log-purge", ["registry-state": snapshot, "through_seq": String(through)])))
    #expect(RegistryState.replay(purged, installation: "i") == full)
  }

  @Test func trackRangesRoundTrip() {
    let ids = ["T5", "T6", "T7", "T9", "T12", "T13"]
    #expect(TrackRanges.encode(ids) == "T5-T7,T9,T12-T13")
    #expect(TrackRanges.decode("T5-T7,T9,T12-T13") == ids)
    #expect(TrackRanges.decode("") == [])
    #expect(TrackRanges.decode("T9-T5") == nil && TrackRanges.decode("X1") == nil && TrackRanges.decode("T1-T99999999999") == nil)
  }
}
