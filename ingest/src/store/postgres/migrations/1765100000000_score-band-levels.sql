-- Up Migration
--
-- A leak score's band levels (LeakScore.bandLevelsDb): float32 little-endian,
-- as the embedded store keeps them. Null where the model gave none.
ALTER TABLE leak_scores ADD COLUMN band_levels_db bytea;

-- Down Migration
ALTER TABLE leak_scores DROP COLUMN band_levels_db;
