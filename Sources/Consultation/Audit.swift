import Foundation
import Store
import Index

/// What `lrj log verify` found: the chain and checkpoints, then everything the log vouches for.
public struct AuditReport: Sendable {
  /// The hash chain and the signed checkpoints in the registry.
  public var chain: VerificationReport
  /// Each thing that does not follow from the log, one line each, naming it. Empty when all holds.
  public var problems: [String]
  /// Facts worth knowing that are not faults (an interrupted operation the next command settles).
  public var notes: [String]

  /// Whether everything verifies.
  public var isValid: Bool { chain.isValid && problems.isEmpty }
}

extension Installation {
  /// Verifies the consultation log and everything it vouches for:
  ///
  /// 1. the hash chain and every signed checkpoint in the registry;
  /// 2. the checkpoints kept outside the registry (`$LRJ_HOME/checkpoint`, this user's cache, and
  ///    `checkpoints` given by the caller): a cut tail or an older registry is named;
  /// 3. the registry's users, procedures, authorisations, closures and running operations against the
  ///    state the log's operations build: a row inserted, edited or deleted behind lrj's back is named;
  /// 4. every presented token's signature against its registry row;
  /// 5. every open procedure's key and vault, and every exhibit's stored tracks against the digest its
  ///    ingest logged: a track or exhibit edited, added or deleted is named; a closed procedure has no vault.
  public func verifyLog(checkpoints extra: [KeptCheckpoint] = []) throws -> AuditReport {
    let keys = try users().compactMap { user -> CheckpointVerifierKey? in
      guard let raw = Data(base64Encoded: user.publicKey), let key = try? PasetoV4PublicKey(rawRepresentation: raw) else { return nil }
      return CheckpointVerifierKey(name: user.id, publicKey: key)
    }
    let chain = try log.verify(trustedKeys: keys)
    var audit = AuditReport(chain: chain, problems: [], notes: [])
    guard chain.isValid else { return audit }
    if chain.entryCount > 0, chain.checkpointCount == 0 {
      audit.problems.append("no signed checkpoint in the registry, though the installation signs one when it is created (removed)")
    }
    for kept in keptCheckpoints() + extra {
      if let problem = try disagreement(with: kept) { audit.problems.append(problem) }
    }
    let stored = try log.entries(LogFilter(includePurged: true))
    let entries = stored.map { (seq: $0.seq, entry: $0.entry) }
    let logged = RegistryState.replay(entries, installation: id)
    let found = try registry.read { tx in try RegistryState.stored(in: tx) }
    audit.problems += logged.differences(from: found).map { $0 + " [registry.sqlite]" }
    audit.problems += Self.closureEdits(entries)
    audit.problems += try tokenProblems(state: logged)
    let (problems, notes) = try vaultProblems(procedures: found.procedures, entries: entries, purged: chain.purgedCount > 0)
    audit.problems += problems
    audit.notes += notes
    for operation in try interruptedOperations() {
      audit.notes.append("\(operation.kind) by \(operation.user) (entry \(operation.startedSeq)) was interrupted; "
                         + "the next command of an authenticated user settles it")
    }
    return audit
  }

  /// Closures whose registry row was edited behind lrj's back: a retry found its row differing from
  /// the log (and resumed as the log says), or, before lrj checked, resumed at an earlier step than the
  /// log had recorded.
  static func closureEdits(_ entries: [(seq: Int64, entry: LogEntry?)]) -> [String] {
    var furthest: [String: ClosureStep] = [:]
    var problems: [String] = []
    for (seq, entry) in entries {
      guard let entry, let procedure = entry.procedure, entry.operation == ProcedureOperation.close.rawValue,
        entry.outcome == .success || entry.outcome == .started,
        let step = entry.parameters["step"].flatMap(ClosureStep.init(rawValue:))
      else { continue }
      if let edited = entry.parameters[ClosureRecord.editedParameter] {
        problems.append("procedure \(procedure)'s closure was edited in the registry: entry \(seq) found \(edited) [registry.sqlite]")
      } else if let before = furthest[procedure], step < before {
        problems.append("procedure \(procedure)'s closure was edited in the registry: entry \(seq) resumed it at \(step.rawValue) "
                        + "after the log had recorded \(before.rawValue) [registry.sqlite]")
      }
      furthest[procedure] = max(step, furthest[procedure] ?? step)
    }
    return problems
  }

  /// Every presented token must verify under its issuer's enrolled key and say what its row says.
  private func tokenProblems(state: RegistryState) throws -> [String] {
    try registry.read { tx in
      var problems: [String] = []
      for (record, token) in try ProcedureRegistry.authorisations(procedure: nil, in: tx) {
        guard let token else { continue }
        let claims = try? Authorisation.verify(
          token, publicKeyLookup: { try? Self.enrolledMagistrateKey($0, in: tx) }, installation: id,
          procedure: record.procedure, now: record.issuedAt)
        guard let claims, claims.jti == record.tokenID, claims.iss == record.issuer, claims.kind == record.kind,
          claims.investigators == record.investigators, claims.exp == record.expires, claims.nbf == record.notBefore
        else {
          problems.append("authorisation \(record.tokenID): the registry's row or token differs from the token the magistrate signed [registry.sqlite]")
          continue
        }
      }
      return problems
    }
  }

  /// Keys, vaults and evidence of every procedure.
  private func vaultProblems(
    procedures: [String: RegistryState.Procedure], entries: [(seq: Int64, entry: LogEntry?)], purged: Bool
  ) throws -> (problems: [String], notes: [String]) {
    var problems: [String] = []
    var notes: [String] = []
    let kek = try? keyEncryptionKey()
    let ledger = EvidenceLedger(entries)
    let publicKeys = try registry.read { tx in
      Dictionary(uniqueKeysWithValues: try tx.rows("SELECT id, public_key FROM procedure").map {
        (try $0["id"] as String, try $0["public_key"] as Data?)
      })
    }
    let keyFiles = Set(procedureKeys.procedures())
    for orphan in keyFiles.subtracting(publicKeys.keys).sorted() {
      notes.append("a key file for procedure \(orphan), which the registry does not hold, is in \(procedureKeys.folder.path) (an open that never completed)")
    }
    if kek == nil, procedures.values.contains(where: { $0.closure == nil }) {
      problems.append("the installation key \(home.appendingPathComponent("keys/kek").path) is missing or unreadable: no procedure's data can be opened")
    }
    for (procedure, record) in procedures.sorted(by: { $0.key < $1.key }) {
      let folder = ProcedureWorkspace.folder(of: procedure, home: home)
      switch record.closure {
      case .erased, .keyDestroyed:
        if keyFiles.contains(procedure) {
          problems.append("procedure \(procedure)'s key was destroyed, but its key file \(procedureKeys.url(of: procedure).path) remains")
        }
      case .claimed, .reported, nil:
        break
      }
      switch record.closure {
      case .erased:
        if FileManager.default.fileExists(atPath: folder.path) {
          problems.append("procedure \(procedure) is closed, but its vault \(folder.path) remains")
        }
        if indexes.service != nil, (try? indexes.exists(procedure)) != false {
          problems.append("procedure \(procedure) is closed, but its index \(indexes.name(of: procedure)) remains")
        }
        continue
      case .keyDestroyed:
        notes.append("procedure \(procedure): closure under way, key destroyed; lrj procedure close finishes erasing its vault")
        continue
      case .claimed, .reported, nil:
        break
      }
      if record.closure != nil { notes.append("procedure \(procedure): closure under way (\(record.closure!.rawValue)); lrj procedure close finishes it") }
      if kek != nil {
        if let publicKey = publicKeys[procedure] ?? nil {
          do { _ = try procedureOpener(procedure, publicKey: publicKey) } catch { problems.append(String(describing: error)) }
        } else {
          problems.append("open procedure \(procedure) has no public key in the registry")
        }
      }
      // The digests cover the stored (sealed) bytes: checking them opens nothing.
      guard let store = try? indexes.openLocked(procedure) else {
        problems.append("the vault of open procedure \(procedure) is missing or does not open (\(indexes.name(of: procedure)))")
        continue
      }
      if purged, ledger.hasPurgedIngests {
        notes.append("procedure \(procedure): ingests older than five years have purged entries; their exhibits are not checked")
        continue
      }
      do {
        let (p, n) = try ledger.compare(procedure: procedure, with: store)
        problems += p
        notes += n
      } catch {
        problems.append("the index of procedure \(procedure) cannot be read: \(error)")
      }
      try? store.close()
    }
    return (problems, notes)
  }

  /// A magistrate's enrolled key, enabled or since disabled (their past signatures stay valid).
  static func enrolledMagistrateKey(_ user: String, in tx: any StoreTransaction) throws -> PasetoV4PublicKey? {
    guard let text = try tx.value(String.self, "SELECT public_key FROM \"user\" WHERE id = ? AND role = 'magistrate'", user),
          let raw = Data(base64Encoded: text)
    else { return nil }
    return try? PasetoV4PublicKey(rawRepresentation: raw)
  }

  /// Writes the registry's current state into the log, when an installation made by an earlier lrj is
  /// upgraded: its earlier entries do not carry every value a replay needs (trusted as found).
  func writeBaseline(now: Date = Date()) throws {
    try registry.write { tx in
      let state = try RegistryState.stored(in: tx)
      let last = try tx.value(Int64.self, "SELECT max(seq) FROM log_entry") ?? 0
      try log.append(
        LogEntry(time: now, user: "lrj", role: "system", procedure: nil, operation: RegistryOperation.baseline.rawValue,
                 parameters: [RegistryState.snapshotParameter: state.snapshot(), RegistryState.throughParameter: String(last),
                              "reason": "installation upgraded: the registry as found is the baseline of later checks"],
                 outcome: .success), in: tx)
    }
  }
}

extension RegistryState {
  /// The state the registry's tables hold.
  static func stored(in tx: any StoreTransaction) throws -> RegistryState {
    var state = RegistryState()
    for row in try tx.rows("SELECT * FROM \"user\"") {
      state.users[try row["id"]] = try User(role: row["role"], publicKey: row["public_key"], enabled: row["enabled"] as Int == 1,
                                            enrolledBy: row["enrolled_by"])
    }
    for row in try tx.rows(ProcedureRegistry.select) {
      let record = try ProcedureRegistry.record(row)
      let closure: ClosureStep? = record.isClosed ? .erased : record.closure.flatMap(ClosureStep.init(rawValue:))
      state.procedures[record.id] = Procedure(kind: record.kind.rawValue, magistrate: record.magistrate, openedBy: record.openedBy,
                                              closure: closure, sealKey: (try row["public_key"] as Data?)?.base64EncodedString())
    }
    for (record, _) in try ProcedureRegistry.authorisations(procedure: nil, in: tx) {
      state.grants[record.tokenID] = Grant(
        procedure: record.procedure, kind: record.kind.rawValue, issuer: record.issuer, investigators: record.investigators,
        notBefore: Int64(record.notBefore.timeIntervalSince1970.rounded(.down)),
        expires: Int64(record.expires.timeIntervalSince1970.rounded(.down)),
        registeredBy: record.registeredAt == nil ? nil : record.registeredBy, revokedBy: record.revokedAt == nil ? nil : record.revokedBy)
    }
    for operation in try OperationRecord.all(in: tx) {
      state.operations[operation.id] = Operation(
        procedure: operation.procedure, kind: operation.kind, user: operation.user, startedSeq: operation.startedSeq,
        outcomeLogged: operation.outcomeSeq != nil)
    }
    return state
  }
}

/// The exhibits each procedure's index must hold, as its logged ingests and erasures say.
struct EvidenceLedger {
  struct Exhibit {
    var seq: Int64
    var digest: String?
    var tracks: [String]
    var hints: [String]
  }

  private(set) var exhibits: [String: [String: Exhibit]] = [:]
  private(set) var hasPurgedIngests = false

  init(_ entries: [(seq: Int64, entry: LogEntry?)]) {
    for (seq, entry) in entries {
      guard let entry else { hasPurgedIngests = true; continue }
      guard entry.outcome == .success, let procedure = entry.procedure else { continue }
      let p = entry.parameters
      switch ProcedureOperation(rawValue: entry.operation) {
      case .ingest:
        guard p["duplicate"] != "true", let exhibit = p["exhibit"] else { continue }
        exhibits[procedure, default: [:]][exhibit] = Exhibit(
          seq: seq, digest: p["digest"], tracks: p["tracks"].flatMap(TrackRanges.decode) ?? [],
          hints: p["track-hints"].flatMap(ExhibitDigest.hints) ?? [])
      case .erase:
        if let track = p["track"], let exhibit = p["exhibit"], var known = exhibits[procedure]?[exhibit] {
          if let index = known.tracks.firstIndex(of: track) {
            known.tracks.remove(at: index)
            if index < known.hints.count { known.hints.remove(at: index) }
          }
          known.digest = p["digest"]
          known.seq = seq
          exhibits[procedure]?[exhibit] = known
        } else if p["track"] == nil, let exhibit = p["exhibit"] {
          exhibits[procedure]?[exhibit] = nil
        }
      default:
        // A procedure of an earlier lrj upgraded: its data was sealed anew, so were its exhibits' digests.
        guard entry.operation == RegistryOperation.procedureUpgrade.rawValue else { continue }
        for (exhibit, var known) in exhibits[procedure] ?? [:] {
          guard let digest = p["digest-" + exhibit] else { continue }
          known.digest = digest
          known.hints = p["track-hints-" + exhibit].flatMap(ExhibitDigest.hints) ?? known.hints
          known.seq = seq
          exhibits[procedure]?[exhibit] = known
        }
      }
    }
  }

  /// Every difference between what the log says procedure `procedure`'s index holds and what it holds.
  func compare(procedure: String, with store: IndexStore) throws -> (problems: [String], notes: [String]) {
    var problems: [String] = []
    var notes: [String] = []
    let expected = exhibits[procedure] ?? [:]
    let visible = Set(try store.exhibits().map(\.id))
    let staged = try store.stagedExhibits()
    for exhibit in visible.union(expected.keys).sorted(by: { ($0.count, $0) < ($1.count, $1) }) {
      guard let known = expected[exhibit] else {
        problems.append("exhibit \(exhibit) is in the index of procedure \(procedure), but no logged ingest stored it (added behind lrj's back)")
        continue
      }
      let isStaged = staged.contains { $0.exhibit == exhibit }
      guard visible.contains(exhibit) || isStaged else {
        problems.append("exhibit \(exhibit) of procedure \(procedure), logged as ingested (entry \(known.seq)), is missing from its index (deleted)")
        continue
      }
      guard let digest = known.digest else {
        notes.append("exhibit \(exhibit) of procedure \(procedure) was ingested by an earlier lrj that logged no digest; not checked")
        continue
      }
      let current = try store.digest(ofExhibit: exhibit)
      guard current.digest != digest else {
        if isStaged { notes.append("exhibit \(exhibit) of procedure \(procedure) is logged and stored, not yet visible; the next command publishes it") }
        continue
      }
      var named: [String] = []
      let currentHints = Dictionary(uniqueKeysWithValues: zip(current.trackIDs, current.trackDigests.map { String($0.prefix(16)) }))
      let knownHints = Dictionary(uniqueKeysWithValues: zip(known.tracks, known.hints))
      for track in known.tracks where currentHints[track] == nil { named.append("track \(track) deleted") }
      for track in current.trackIDs where knownHints[track] == nil && !known.tracks.contains(track) { named.append("track \(track) added") }
      for track in current.trackIDs {
        if let hint = knownHints[track], let now = currentHints[track], hint != now { named.append("track \(track) edited") }
      }
      if named.isEmpty { named.append("its stored description or search blocks edited") }
      problems.append("exhibit \(exhibit) of procedure \(procedure) differs from what its ingest logged (entry \(known.seq)): "
                      + named.joined(separator: ", "))
    }
    for leftover in staged where expected[leftover.exhibit] == nil {
      notes.append("exhibit \(leftover.exhibit) of procedure \(procedure) was staged by an ingest that did not finish; the next command removes it")
    }
    return (problems, notes)
  }
}
