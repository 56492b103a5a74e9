-- Up Migration
--
-- What surrounds an acoustic sensor (SENSOR_SITES in store.ts), for the leak
-- model's per-site operating points. Null: not recorded.
ALTER TABLE devices ADD COLUMN site text;

-- Down Migration
ALTER TABLE devices DROP COLUMN site;
