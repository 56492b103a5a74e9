-- Up Migration
--
-- Where along its main (pipe_id) an acoustic sensor sits, m from the main's
-- start (DeviceRegistration.chainageM): two sensors on one main are a
-- correlator's pair, this far apart. Null: not recorded.
ALTER TABLE devices ADD COLUMN chainage_m double precision;
-- A near_prv / near_pump sensor's PRV or pump, where along the same main it
-- stands: a correlator's pair takes a peak there for it, not a leak.
ALTER TABLE devices ADD COLUMN source_chainage_m double precision;

-- Down Migration
ALTER TABLE devices DROP COLUMN source_chainage_m;
ALTER TABLE devices DROP COLUMN chainage_m;
