import Foundation
import Store

/// The registry's schema on each engine, one migration per version; a migration is never edited
/// once shipped. SQLite keeps the versions it has had since the first installations (their ids were
/// recorded by GRDB's migrator); PostgreSQL starts from the schema as it is now.
enum RegistrySchema {
  static func migrator(_ dialect: StoreDialect) -> StoreMigrator {
    var migrator = StoreMigrator()
    switch dialect {
    case .sqlite:
      migrator.register("v1") { tx in
        try tx.execute("""
          CREATE TABLE "user"(
            id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            role TEXT NOT NULL CHECK (role IN ('investigator', 'magistrate', 'controller', 'administrator')),
            public_key TEXT NOT NULL UNIQUE,
            enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
            enrolled_at REAL NOT NULL,
            enrolled_by TEXT NOT NULL
          ) STRICT
          """)
      }
      migrator.register("v2-procedures") { tx in
        try tx.execute("""
          CREATE TABLE procedure(
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            opened_at REAL NOT NULL,
            opened_by TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            closed_at REAL,
            closed_by TEXT,
            wrapped_key BLOB
          ) STRICT;
          CREATE TABLE authorisation(
            jti TEXT PRIMARY KEY CHECK (length(jti) = 32),
            procedure TEXT NOT NULL,
            kind TEXT NOT NULL,
            issuer TEXT NOT NULL,
            investigators TEXT NOT NULL,
            nbf REAL NOT NULL,
            exp REAL NOT NULL,
            iat REAL NOT NULL,
            token TEXT,
            registered_at REAL,
            registered_by TEXT,
            revoked_at REAL,
            revoked_by TEXT
          ) STRICT;
          CREATE INDEX authorisation_procedure ON authorisation(procedure);
          CREATE TABLE maintenance(task TEXT PRIMARY KEY, last_run REAL NOT NULL) STRICT;
          """)
      }
      migrator.register("v3-governance") { tx in
        try tx.execute("ALTER TABLE procedure ADD COLUMN magistrate TEXT")
        try tx.execute("""
          UPDATE procedure SET magistrate = (
            SELECT a.issuer FROM authorisation a WHERE a.procedure = procedure.id AND a.registered_at IS NOT NULL
            ORDER BY a.registered_at, a.jti LIMIT 1)
          """)
        try tx.execute("""
          CREATE TABLE closure(
            procedure TEXT PRIMARY KEY REFERENCES procedure(id),
            step TEXT NOT NULL CHECK (step IN ('claimed', 'reported', 'key-destroyed')),
            operation TEXT NOT NULL,
            closer TEXT NOT NULL,
            report_folder TEXT NOT NULL,
            with_data INTEGER NOT NULL CHECK (with_data IN (0, 1)),
            files TEXT
          ) STRICT
          """)
        try tx.execute("""
          CREATE TABLE operation(
            id TEXT PRIMARY KEY CHECK (length(id) = 32),
            procedure TEXT,
            kind TEXT NOT NULL,
            "user" TEXT NOT NULL,
            role TEXT NOT NULL,
            started_seq INTEGER NOT NULL UNIQUE,
            staging TEXT NOT NULL DEFAULT '[]',
            outcome_seq INTEGER,
            target TEXT
          ) STRICT
          """)
      }
      migrator.register("log-v1") { tx in
        for statement in ConsultationLog.schema(.sqlite) { try tx.execute(statement) }
      }
      migrator.register("v4-procedure-key-pairs") { tx in
        // The public half of each procedure's key pair; the private half is a file under keys/procedures/.
        try tx.execute("ALTER TABLE procedure ADD COLUMN public_key BLOB")
      }
      migrator.register("v5-worker-role") { tx in
        // Workers (DESIGN.md §13): a role of its own. SQLite changes a CHECK by copying the table.
        try tx.execute("""
          CREATE TABLE user_v5(
            id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            role TEXT NOT NULL CHECK (role IN ('investigator', 'magistrate', 'controller', 'administrator', 'worker')),
            public_key TEXT NOT NULL UNIQUE,
            enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
            enrolled_at REAL NOT NULL,
            enrolled_by TEXT NOT NULL
          ) STRICT
          """)
        try tx.execute("INSERT INTO user_v5 SELECT id, role, public_key, enabled, enrolled_at, enrolled_by FROM \"user\"")
        try tx.execute("DROP TABLE \"user\"")
        try tx.execute("ALTER TABLE user_v5 RENAME TO \"user\"")
      }
      migrator.register("v6-ingest-queue") { tx in
        for statement in IngestQueueSchema.statements(.sqlite) { try tx.execute(statement) }
      }
    case .postgres:
      migrator.register("pg-v1") { tx in
        let statements = [
          """
          CREATE TABLE "user"(
            id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            role TEXT NOT NULL CHECK (role IN ('investigator', 'magistrate', 'controller', 'administrator')),
            public_key TEXT NOT NULL UNIQUE,
            enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
            enrolled_at DOUBLE PRECISION NOT NULL,
            enrolled_by TEXT NOT NULL
          )
          """,
          """
          CREATE TABLE procedure(
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            opened_at DOUBLE PRECISION NOT NULL,
            opened_by TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            closed_at DOUBLE PRECISION,
            closed_by TEXT,
            wrapped_key BYTEA,
            magistrate TEXT
          )
          """,
          """
          CREATE TABLE authorisation(
            jti TEXT PRIMARY KEY CHECK (length(jti) = 32),
            procedure TEXT NOT NULL,
            kind TEXT NOT NULL,
            issuer TEXT NOT NULL,
            investigators TEXT NOT NULL,
            nbf DOUBLE PRECISION NOT NULL,
            exp DOUBLE PRECISION NOT NULL,
            iat DOUBLE PRECISION NOT NULL,
            token TEXT,
            registered_at DOUBLE PRECISION,
            registered_by TEXT,
            revoked_at DOUBLE PRECISION,
            revoked_by TEXT
          )
          """,
          "CREATE INDEX authorisation_procedure ON authorisation(procedure)",
          "CREATE TABLE maintenance(task TEXT PRIMARY KEY, last_run DOUBLE PRECISION NOT NULL)",
          """
          CREATE TABLE closure(
            procedure TEXT PRIMARY KEY REFERENCES procedure(id),
            step TEXT NOT NULL CHECK (step IN ('claimed', 'reported', 'key-destroyed')),
            operation TEXT NOT NULL,
            closer TEXT NOT NULL,
            report_folder TEXT NOT NULL,
            with_data BIGINT NOT NULL CHECK (with_data IN (0, 1)),
            files TEXT
          )
          """,
          """
          CREATE TABLE operation(
            id TEXT PRIMARY KEY CHECK (length(id) = 32),
            procedure TEXT,
            kind TEXT NOT NULL,
            "user" TEXT NOT NULL,
            role TEXT NOT NULL,
            started_seq BIGINT NOT NULL UNIQUE,
            staging TEXT NOT NULL DEFAULT '[]',
            outcome_seq BIGINT,
            target TEXT
          )
          """,
        ] + ConsultationLog.schema(.postgres)
        for statement in statements { try tx.execute(statement) }
      }
      migrator.register("pg-v2-procedure-key-pairs") { tx in
        try tx.execute("ALTER TABLE procedure ADD COLUMN public_key BYTEA")
      }
      migrator.register("pg-v3-worker-role") { tx in
        try tx.execute("ALTER TABLE \"user\" DROP CONSTRAINT user_role_check")
        try tx.execute("""
          ALTER TABLE "user" ADD CONSTRAINT user_role_check
            CHECK (role IN ('investigator', 'magistrate', 'controller', 'administrator', 'worker'))
          """)
      }
      migrator.register("pg-v4-ingest-queue") { tx in
        for statement in IngestQueueSchema.statements(.postgres) { try tx.execute(statement) }
      }
    }
    return migrator
  }

  /// Removes every registry table from a PostgreSQL database (an `lrj init` that failed half way).
  static func drop(_ engine: any StoreEngine) throws {
    guard engine.dialect == .postgres else { return }
    try engine.write { tx in
      try tx.execute("""
        DROP TABLE IF EXISTS ingest_span, ingest_job, log_body, log_entry, log_checkpoint, operation, closure, authorisation, procedure, maintenance,
          "user", store_migrations CASCADE
        """)
      try tx.execute("DROP FUNCTION IF EXISTS lrj_append_only()")
    }
  }
}
