//! Connection records in process memory: for the local stack and for tests. Laid out as the DynamoDB
//! table is, by booking, so listing a booking costs what its own connections cost, however many other
//! bookings there are.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use chat_wire::BookingId;

use crate::ports::{ConnectionStore, StoreError};
use crate::record::ConnectionRecord;

type Bookings = HashMap<BookingId, BTreeMap<String, ConnectionRecord>>;

/// Connection records by booking, then by connection id.
#[derive(Debug, Default)]
pub struct InMemoryConnectionStore {
    bookings: Mutex<Bookings>,
}

impl InMemoryConnectionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Bookings> {
        self.bookings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether no record exists (tests).
    pub fn is_empty(&self) -> bool {
        self.lock().values().all(BTreeMap::is_empty)
    }

    /// The record of a connection, expired or not, whatever its booking (tests).
    pub fn get(&self, connection_id: &str) -> Option<ConnectionRecord> {
        self.lock().values().find_map(|records| records.get(connection_id)).cloned()
    }
}

impl ConnectionStore for InMemoryConnectionStore {
    async fn put(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        self.lock()
            .entry(record.booking_id)
            .or_default()
            .insert(record.connection_id.clone(), record.clone());
        Ok(())
    }

    async fn remove(&self, booking_id: BookingId, connection_id: &str) -> Result<(), StoreError> {
        let mut bookings = self.lock();
        if let Some(records) = bookings.get_mut(&booking_id) {
            records.remove(connection_id);
            if records.is_empty() {
                bookings.remove(&booking_id);
            }
        }
        Ok(())
    }

    async fn list(&self, booking_id: BookingId) -> Result<Vec<ConnectionRecord>, StoreError> {
        Ok(self
            .lock()
            .get(&booking_id)
            .map(|records| records.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn find(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        Ok(self.lock().get(&booking_id).and_then(|records| records.get(connection_id)).cloned())
    }

    async fn renew(&self, booking_id: BookingId, connection_id: &str, ttl: i64) -> Result<bool, StoreError> {
        let mut bookings = self.lock();
        let record = bookings.get_mut(&booking_id).and_then(|records| records.get_mut(connection_id));
        Ok(record.map(|record| record.ttl = ttl).is_some())
    }
}
