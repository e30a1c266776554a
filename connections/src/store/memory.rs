//! Connection records in process memory: for the local stack and for tests. Laid out as the DynamoDB
//! table is, by booking, so listing a booking costs what its own connections cost, however many other
//! bookings there are; a user connection is also kept under its user, as the table keeps it under
//! `USER#{user_id}`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use chat_wire::BookingId;

use crate::ports::{ConnectionStore, StoreError};
use crate::record::ConnectionRecord;

/// Records by partition (a booking, or a user for the user connections under their user), then by
/// connection id.
type Partitions<K> = HashMap<K, BTreeMap<String, ConnectionRecord>>;
type Bookings = Partitions<BookingId>;

/// Connection records by booking, then by connection id; user connections also by user.
#[derive(Debug, Default)]
pub struct InMemoryConnectionStore {
    bookings: Mutex<Bookings>,
    users: Mutex<Partitions<String>>,
}

impl InMemoryConnectionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Bookings> {
        self.bookings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn users(&self) -> std::sync::MutexGuard<'_, Partitions<String>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether no record exists (tests).
    pub fn is_empty(&self) -> bool {
        self.lock().values().all(BTreeMap::is_empty) && self.users().values().all(BTreeMap::is_empty)
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

    async fn put_user_connection(
        &self,
        connection: &ConnectionRecord,
        booking_ids: &[BookingId],
    ) -> Result<(), StoreError> {
        for booking_id in booking_ids {
            self.put(&ConnectionRecord { booking_id: *booking_id, ..connection.clone() }).await?;
        }
        let under_user = ConnectionRecord { booking_id: 0, ..connection.clone() };
        self.users()
            .entry(connection.user_id.clone())
            .or_default()
            .insert(connection.connection_id.clone(), under_user);
        Ok(())
    }

    async fn remove_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
    ) -> Result<(), StoreError> {
        for booking_id in booking_ids {
            self.remove(*booking_id, connection_id).await?;
        }
        let mut users = self.users();
        if let Some(records) = users.get_mut(user_id) {
            records.remove(connection_id);
            if records.is_empty() {
                users.remove(user_id);
            }
        }
        Ok(())
    }

    async fn user_connections(&self, user_id: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        Ok(self.users().get(user_id).map(|records| records.values().cloned().collect()).unwrap_or_default())
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

    async fn find_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        Ok(self.users().get(user_id).and_then(|records| records.get(connection_id)).cloned())
    }

    async fn renew_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
        ttl: i64,
    ) -> Result<bool, StoreError> {
        {
            let mut users = self.users();
            let Some(record) = users.get_mut(user_id).and_then(|records| records.get_mut(connection_id))
            else {
                return Ok(false);
            };
            record.ttl = ttl;
        }
        for booking_id in booking_ids {
            self.renew(*booking_id, connection_id, ttl).await?;
        }
        Ok(true)
    }
}
