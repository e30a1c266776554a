//! Connection records in process memory: for the local emulator and for tests.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chat_wire::BookingId;

use crate::ports::{ConnectionStore, StoreError};
use crate::record::{ConnectionRecord, now_seconds};

/// Connection records in a map, keyed by connection id.
#[derive(Debug, Default)]
pub struct InMemoryConnectionStore {
    records: Mutex<HashMap<String, ConnectionRecord>>,
}

impl InMemoryConnectionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ConnectionRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether no record exists (tests).
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The record of a connection, expired or not (tests).
    pub fn get(&self, connection_id: &str) -> Option<ConnectionRecord> {
        self.lock().get(connection_id).cloned()
    }
}

impl ConnectionStore for InMemoryConnectionStore {
    async fn put(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        self.lock().insert(record.connection_id.clone(), record.clone());
        Ok(())
    }

    async fn remove(&self, booking_id: BookingId, connection_id: &str) -> Result<(), StoreError> {
        let mut records = self.lock();
        if records.get(connection_id).is_some_and(|r| r.booking_id == booking_id) {
            records.remove(connection_id);
        }
        Ok(())
    }

    async fn list(&self, booking_id: BookingId) -> Result<Vec<ConnectionRecord>, StoreError> {
        let now = now_seconds();
        let mut found: Vec<ConnectionRecord> = self
            .lock()
            .values()
            .filter(|r| r.booking_id == booking_id && !r.is_expired(now))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
        Ok(found)
    }
}
