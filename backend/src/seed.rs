//! The demo data (`docs/architecture.md`, the local stack): booking 1 (owner `alice`, renter `bob`) and booking 2 (owner `carol`, renter
//! `dave`). Seeding is idempotent and never overwrites a booking that exists.

use crate::domain::{Booking, BookingStatus};
use crate::store::{ChatStore, StoreError};

/// The demo bookings.
pub fn demo() -> [Booking; 2] {
    [
        Booking {
            id: 1,
            owner_id: "alice".into(),
            renter_id: "bob".into(),
            title: "Canoe for the weekend".into(),
            status: BookingStatus::Confirmed,
            chat: Default::default(),
        },
        Booking {
            id: 2,
            owner_id: "carol".into(),
            renter_id: "dave".into(),
            title: "Cargo bike, one week".into(),
            status: BookingStatus::Requested,
            chat: Default::default(),
        },
    ]
}

/// Inserts the demo bookings that are missing. Returns how many were inserted.
///
/// # Errors
/// [`StoreError`].
pub async fn demo_bookings(store: &dyn ChatStore) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for booking in demo() {
        if store.insert_booking_if_absent(&booking).await? {
            inserted += 1;
        }
    }
    Ok(inserted)
}
