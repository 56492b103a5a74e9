-- Up Migration
--
-- Where along its main (pipe_id) an acoustic sensor sits, m from the main's
-- start (DeviceRegistration.chainageM): two sensors on one main are a
-- correlator's pair, this far apart. Null: not recorded.
ALTER TABLE devices ADD COLUMN chainage_m double precision;

-- Down Migration
ALTER TABLE devices DROP COLUMN chainage_m;
