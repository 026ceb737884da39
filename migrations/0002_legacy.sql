-- Legacy cache migration (swepipe migrate): lines refused from a legacy file under --skip-bad.
-- A bad line never reaches the stage tables; it is kept here verbatim with the reason, so it can
-- be inspected, fixed and re-imported. (`legacy_imports` itself is in 0001.)
CREATE TABLE legacy_quarantine (
    source_path VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,         -- legacy_imports.checksum of the file the line came from
    line INTEGER,                      -- 1-based line number; NULL when the whole file is refused
    reason VARCHAR NOT NULL,
    raw VARCHAR,                       -- the line as it was (truncated to 100 kB)
    quarantined_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX legacy_quarantine_source ON legacy_quarantine (source_path, checksum);
