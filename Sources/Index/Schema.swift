import Foundation
import GRDB
import StoreSQLite

/// The store's schema, one migration per version. A migration is never edited once it has shipped: a
/// change is a new migration.
enum Schema {
  static func migrator(sealing: any IndexSealing) -> DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1", migrate: v1)
    migrator.registerMigration("v2-operation", migrate: v2)
    migrator.registerMigration(sealedVersion) { try v3(db: $0, sealing: sealing) }
    return migrator
  }

  static let sealedVersion = "v3-sealed"

  /// Version 3, sealed at rest (DESIGN.md §4): a track row keeps only its ids and its sealed detail
  /// (``TrackDetail``: attributes, colours and path); search blocks and zones are sealed; the clear colour,
  /// path and extent tables go. Existing rows are sealed with the procedure's sealing; the track id
  /// sequence is kept, so an erased track's id is never given again. Deleted bytes are overwritten
  /// (`secure_delete`); the caller vacuums and truncates the write-ahead log afterwards.
  static func v3(db: Database, sealing: any IndexSealing) throws {
    let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'track'") ?? 0
    let blocked = try Int64.fetchAll(db, sql: "SELECT DISTINCT exhibit_id FROM search_block")
    try db.execute(
      sql: """
        CREATE TABLE track_sealed (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          code TEXT GENERATED ALWAYS AS ('T' || id) VIRTUAL,
          exhibit_id INTEGER NOT NULL,
          camera_id INTEGER NOT NULL,
          -- TrackDetail, sealed with the context "track T<id>".
          detail BLOB NOT NULL CHECK (length(detail) > 0),
          FOREIGN KEY (exhibit_id, camera_id) REFERENCES exhibit(id, camera_id) ON DELETE CASCADE
        ) STRICT;
        CREATE TABLE zone_sealed (
          id INTEGER PRIMARY KEY,
          camera_id INTEGER NOT NULL REFERENCES camera(id) ON DELETE CASCADE,
          name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '\(namePattern)'),
          -- {"kind": "polygon" | "line", "points": [[x, y], …]}, sealed with the context "zone <camera id>/<name>".
          shape BLOB NOT NULL CHECK (length(shape) > 0),
          saved_at REAL NOT NULL,
          UNIQUE (camera_id, name)
        ) STRICT;
        """)
    let insertTrack = try db.makeStatement(
      sql: "INSERT INTO track_sealed (id, exhibit_id, camera_id, detail) VALUES (?, ?, ?, ?)")
    let tracks = try Row.fetchAll(
      db,
      sql: """
        SELECT t.id, t.exhibit_id, t.camera_id, t.class, t.class_confidence, t.direction, t.speed, t.start_offset,
          t.end_offset, t.start_utc, t.end_utc, t.first_x, t.first_y, t.first_w, t.first_h, t.last_x, t.last_y,
          t.last_w, t.last_h, t.frame_width, t.frame_height, t.max_area, p.samples
        FROM track t JOIN track_path p ON p.track_id = t.id ORDER BY t.id
        """)
    for row in tracks {
      let id: Int64 = row[0]
      guard let objectClass = ObjectClass(rawValue: row[3]), let direction = Direction(rawValue: row[5]) else {
        throw IndexError.corruptData("class or direction of \(Identifier.track(id))")
      }
      let colours = try Row.fetchAll(db, sql: "SELECT colour, fraction FROM track_colour WHERE track_id = ?", arguments: [id])
        .compactMap { row in Colour(rawValue: row[0]).map { ColourFraction($0, row[1]) } }
      let detail = TrackDetail(
        objectClass: objectClass, direction: direction, classConfidence: row[4], speed: row[6], startOffset: row[7],
        endOffset: row[8], startUTC: row[9], endUTC: row[10], maxArea: row[21],
        firstBox: Box(x: row[11], y: row[12], width: row[13], height: row[14]),
        lastBox: Box(x: row[15], y: row[16], width: row[17], height: row[18]), frameWidth: row[19], frameHeight: row[20],
        colours: colours, path: row[22])
      insertTrack.setUncheckedArguments([
        id, row[1] as Int64, row[2] as Int64, try sealing.sealed(detail.encoded(), context: SealContext.track(id)),
      ])
      try insertTrack.execute()
    }
    for row in try Row.fetchAll(db, sql: "SELECT id, camera_id, name, kind, points, saved_at FROM zone") {
      let points = try JSONDecoder().decode([Point].self, from: Data((row[4] as String).utf8))
      let shape = try JSONEncoder().encode(StoredZoneShape(kind: row[3], points: points))
      try db.execute(
        sql: "INSERT INTO zone_sealed (id, camera_id, name, shape, saved_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          row[0] as Int64, row[1] as Int64, row[2] as String,
          try sealing.sealed(shape, context: SealContext.zone(camera: row[1], name: row[2])), row[5] as Double,
        ])
    }
    try db.execute(
      sql: """
        DROP TRIGGER track_extent_delete;
        DROP TABLE track_extent;
        DROP TABLE track_colour;
        DROP TABLE track_path;
        DROP TABLE search_block;
        DROP TABLE track;
        DROP TABLE zone;
        ALTER TABLE track_sealed RENAME TO track;
        ALTER TABLE zone_sealed RENAME TO zone;
        CREATE INDEX track_by_exhibit ON track (exhibit_id);
        -- Search blocks (derived; format in SearchBlock.swift): records and paths sealed; the time span clear.
        CREATE TABLE search_block (
          id INTEGER PRIMARY KEY,
          exhibit_id INTEGER NOT NULL REFERENCES exhibit(id) ON DELETE CASCADE,
          block INTEGER NOT NULL CHECK (block >= 0),
          track_count INTEGER NOT NULL CHECK (track_count BETWEEN 1 AND 4096),
          min_start_utc REAL NOT NULL,
          max_start_utc REAL NOT NULL CHECK (max_start_utc >= min_start_utc),
          max_end_utc REAL NOT NULL CHECK (max_end_utc >= max_start_utc),
          data BLOB NOT NULL,
          paths BLOB NOT NULL,
          UNIQUE (exhibit_id, block)
        ) STRICT;
        """)
    if sequence > 0 {
      try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = 'track'")
      try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('track', ?)", arguments: [sequence])
    }
    for exhibit in blocked { try SearchBlock.rebuild(SQLiteTransaction(db: db), exhibitRow: exhibit, sealing: sealing) }
  }

  /// Camera and zone names: 1…64 letters, digits, '-', '_', '.' or spaces.
  static let namePattern = "*[^A-Za-z0-9._ -]*"

  /// Version 2: each exhibit names the operation (of the consultation log) that stored it, so that an
  /// exhibit staged by an ingest that was killed can be told from one being stored right now.
  static func v2(_ db: Database) throws {
    try db.execute(sql: "ALTER TABLE exhibit ADD COLUMN operation TEXT CHECK (operation IS NULL OR length(operation) BETWEEN 1 AND 64)")
  }

  /// Version 1.
  ///
  /// Identifiers: exhibits and tracks are `INTEGER PRIMARY KEY AUTOINCREMENT` rows (compact, and never
  /// reused after a deletion); the ids users see, `E12` and `T17`, are the generated `code` columns.
  ///
  /// How searches use the schema (1,000,000 tracks, every search also counts all its hits):
  /// - Attribute filters run on `search_block`: per complete exhibit, blocks of up to 4,096 tracks sorted by
  ///   start time, each track a fixed 104-byte record of its filter attributes (SearchBlock.swift). Scanning
  ///   packed records in Swift costs a few nanoseconds per track where a SQLite row costs 100–200 ns, so any
  ///   combination of filters, even one no index leads with (a colour, a duration), is answered in tens of
  ///   milliseconds over a million tracks, with no query planner surprises. Blocks are derived data: written
  ///   from the tables by the exhibit's commit and rewritten by a deletion, in the same transaction; an
  ///   exhibit is searchable exactly when its blocks exist.
  /// - Zone queries scan the same blocks: a record also holds the track's ground-path bounding box and an
  ///   8×8 occupancy grid, so only tracks whose path comes near the zone have their path
  ///   (packed in the block's `paths`) evaluated.
  /// - `track_extent` (R*Tree): each track's ground-path bounding box with its camera as a third dimension,
  ///   for spatial lookups in SQL (``IndexStore/tracks(near:)``). The search itself does not use it: at
  ///   1,000,000 tracks, reading candidate ids from it and then each candidate's path row cost about 4 µs a
  ///   track, against well under 1 µs for the block records.
  /// - `track_by_exhibit` (exhibit, start): building an exhibit's blocks in start order, deleting an exhibit
  ///   (the cascade) and exporting its boxes.
  /// - Primary keys serve the rest: a track's colours, path and thumbnail by track id.
  static func v1(_ db: Database) throws {
    try db.execute(
      sql: """
        CREATE TABLE camera (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE
            CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '\(namePattern)')
        ) STRICT;

        CREATE TABLE exhibit (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          code TEXT GENERATED ALWAYS AS ('E' || id) VIRTUAL,
          file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 4096),
          sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
          size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
          container TEXT NOT NULL CHECK (length(container) <= 256),
          codec TEXT NOT NULL CHECK (length(codec) <= 256),
          width INTEGER NOT NULL CHECK (width BETWEEN 1 AND 65535),
          height INTEGER NOT NULL CHECK (height BETWEEN 1 AND 65535),
          fps REAL NOT NULL CHECK (fps > 0 AND fps <= 10000),
          camera_id INTEGER NOT NULL REFERENCES camera(id) ON DELETE RESTRICT,
          start_utc REAL NOT NULL,
          utc_offset INTEGER NOT NULL CHECK (utc_offset BETWEEN -64800 AND 64800 AND utc_offset % 60 = 0),
          ingested_at REAL NOT NULL,
          -- Set by the commit, in the same transaction as "complete = 1"; NULL while ingesting.
          duration REAL CHECK (duration >= 0),
          frames_decoded INTEGER CHECK (frames_decoded >= 0),
          skipped_packets INTEGER CHECK (skipped_packets >= 0),
          -- 0 while the ingest runs: invisible to searches; an interrupted ingest is removed by the next one.
          complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
          CHECK (complete = 0 OR (duration IS NOT NULL AND frames_decoded IS NOT NULL AND skipped_packets IS NOT NULL)),
          UNIQUE (id, camera_id)
        ) STRICT;

        CREATE TABLE track (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          code TEXT GENERATED ALWAYS AS ('T' || id) VIRTUAL,
          exhibit_id INTEGER NOT NULL,
          -- Copied from the exhibit (the composite key proves it) so camera filters need no join.
          camera_id INTEGER NOT NULL,
          class TEXT NOT NULL CHECK (class IN ('person', 'car', 'two-wheeler', 'bus-truck', 'other')),
          class_confidence REAL NOT NULL CHECK (class_confidence BETWEEN 0 AND 1),
          direction TEXT NOT NULL CHECK (direction IN
            ('up', 'up-right', 'right', 'down-right', 'down', 'down-left', 'left', 'up-left', 'stationary')),
          speed REAL NOT NULL CHECK (speed >= 0),
          -- Seconds from the exhibit's first frame.
          start_offset REAL NOT NULL CHECK (start_offset >= 0),
          end_offset REAL NOT NULL CHECK (end_offset >= start_offset),
          -- Wall clock, UTC seconds since 1970: the exhibit's start plus the offsets.
          start_utc REAL NOT NULL,
          end_utc REAL NOT NULL CHECK (end_utc >= start_utc),
          duration REAL GENERATED ALWAYS AS (end_offset - start_offset) VIRTUAL,
          -- Boxes in source pixels: left, top, width, height.
          first_x REAL NOT NULL, first_y REAL NOT NULL,
          first_w REAL NOT NULL CHECK (first_w > 0), first_h REAL NOT NULL CHECK (first_h > 0),
          last_x REAL NOT NULL, last_y REAL NOT NULL,
          last_w REAL NOT NULL CHECK (last_w > 0), last_h REAL NOT NULL CHECK (last_h > 0),
          frame_width INTEGER NOT NULL CHECK (frame_width BETWEEN 1 AND 65535),
          frame_height INTEGER NOT NULL CHECK (frame_height BETWEEN 1 AND 65535),
          -- Largest box area over the track, as a fraction of the frame.
          max_area REAL NOT NULL CHECK (max_area BETWEEN 0 AND 1),
          CHECK (first_x >= -1 AND first_y >= -1 AND first_x + first_w <= frame_width + 1
                 AND first_y + first_h <= frame_height + 1),
          CHECK (last_x >= -1 AND last_y >= -1 AND last_x + last_w <= frame_width + 1
                 AND last_y + last_h <= frame_height + 1),
          FOREIGN KEY (exhibit_id, camera_id) REFERENCES exhibit(id, camera_id) ON DELETE CASCADE
        ) STRICT;

        CREATE INDEX track_by_exhibit ON track (exhibit_id, start_utc);

        CREATE TABLE track_colour (
          track_id INTEGER NOT NULL REFERENCES track(id) ON DELETE CASCADE,
          colour TEXT NOT NULL CHECK (colour IN
            ('black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown')),
          fraction REAL NOT NULL CHECK (fraction BETWEEN 0 AND 1),
          PRIMARY KEY (track_id, colour)
        ) STRICT, WITHOUT ROWID;

        -- The stored path: one row per track, samples packed in a BLOB (format in PathCodec.swift:
        -- little-endian records of frame index, time from the track's start, box x, y, w, h in source
        -- pixels). One row instead of one per sample makes zone evaluation read one B-tree cell per
        -- candidate track, and keeps the store small.
        CREATE TABLE track_path (
          track_id INTEGER PRIMARY KEY REFERENCES track(id) ON DELETE CASCADE,
          sample_count INTEGER NOT NULL CHECK (sample_count >= 1),
          samples BLOB NOT NULL CHECK (length(samples) = 1 + 24 * sample_count)
        ) STRICT;

        CREATE TABLE thumbnail (
          track_id INTEGER PRIMARY KEY REFERENCES track(id) ON DELETE CASCADE,
          format TEXT NOT NULL CHECK (length(format) BETWEEN 1 AND 32),
          bytes BLOB NOT NULL CHECK (length(bytes) > 0)
        ) STRICT;

        CREATE TABLE zone (
          id INTEGER PRIMARY KEY,
          camera_id INTEGER NOT NULL REFERENCES camera(id) ON DELETE CASCADE,
          name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '\(namePattern)'),
          kind TEXT NOT NULL CHECK (kind IN ('polygon', 'line')),
          -- [[x, y], …] in normalised coordinates.
          points TEXT NOT NULL CHECK (json_valid(points) AND json_type(points) = 'array'),
          saved_at REAL NOT NULL,
          CHECK (kind = 'polygon' AND json_array_length(points) >= 3
                 OR kind = 'line' AND json_array_length(points) = 2),
          UNIQUE (camera_id, name)
        ) STRICT;

        -- Search blocks (derived; see above). Format in SearchBlock.swift.
        CREATE TABLE search_block (
          id INTEGER PRIMARY KEY,
          exhibit_id INTEGER NOT NULL REFERENCES exhibit(id) ON DELETE CASCADE,
          block INTEGER NOT NULL CHECK (block >= 0),
          track_count INTEGER NOT NULL CHECK (track_count BETWEEN 1 AND 4096),
          min_start_utc REAL NOT NULL,
          max_start_utc REAL NOT NULL CHECK (max_start_utc >= min_start_utc),
          max_end_utc REAL NOT NULL CHECK (max_end_utc >= max_start_utc),
          data BLOB NOT NULL CHECK (length(data) = 1 + 104 * track_count),
          paths BLOB NOT NULL CHECK (length(paths) % 12 = 1),
          UNIQUE (exhibit_id, block)
        ) STRICT;

        CREATE VIRTUAL TABLE track_extent USING rtree (id, min_camera, max_camera, min_x, max_x, min_y, max_y);
        CREATE TRIGGER track_extent_delete AFTER DELETE ON track BEGIN
          DELETE FROM track_extent WHERE id = OLD.id;
        END;
        """)
  }
}
