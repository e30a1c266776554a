-- The inbox lists a user's bookings, as owner or as renter.
CREATE INDEX bookings_by_owner ON bookings (owner_id);
CREATE INDEX bookings_by_renter ON bookings (renter_id);
