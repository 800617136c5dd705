-- A court referral sent again must be the same referral: the hash of the
-- registration it made is kept with its claim, so that the same court case
-- number sent with a different body is refused instead of silently
-- answered with the first case. Claims made before this migration have no
-- hash and are taken as matching.
ALTER TABLE court_referral_claims ADD COLUMN body_hash bytea;
