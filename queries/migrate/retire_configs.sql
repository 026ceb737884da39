-- Remove what an earlier import layout wrote for files being re-migrated, in the import's
-- transaction (docs/legacy-migration.md, "Re-migrating"). `_retire (config_hash, instance_id)`:
-- each superseded config with the instances the new import covers; their stage runs, outputs,
-- model calls and rewards go, and a config left with no stage run and no call goes too.
-- `_replaced (source_path, checksum)`: the `legacy_imports` rows the new import rewrites.
-- Texts (`contents`, content-addressed and shared) and `test_runs` (keyed by patch content, and
-- written again identically) stay.
DELETE FROM localizations AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM patches AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM selections AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM sequences AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM rewards AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM stage_runs AS t USING _retire AS r
WHERE t.config_hash = r.config_hash AND t.instance_id = r.instance_id;
DELETE FROM configs
WHERE config_hash IN (SELECT config_hash FROM _retire)
  AND config_hash NOT IN (SELECT config_hash FROM stage_runs)
  AND config_hash NOT IN (SELECT config_hash FROM sequences WHERE config_hash IS NOT NULL);
DELETE FROM legacy_imports AS t USING _replaced AS r
WHERE t.source_path = r.source_path AND t.checksum = r.checksum;
