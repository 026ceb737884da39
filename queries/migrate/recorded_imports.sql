-- What `legacy_imports` holds for the sources of an import: path, checksum, format and the
-- import layout that wrote the row (`rows.layout`; rows written before per-level localization
-- configs have none: layout 1). See docs/legacy-migration.md, "Re-migrating".
-- $paths: the absolute source paths of the import.
SELECT source_path, checksum, format,
       coalesce(TRY_CAST(rows ->> 'layout' AS INTEGER), 1) AS layout
FROM legacy_imports
WHERE list_contains($paths, source_path)
