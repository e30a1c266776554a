//! Connection records in DynamoDB, with no Scan anywhere.
//!
//! Table: partition key `booking_id` (S), sort key `connection_id` (S), TTL attribute `ttl`.
//!
//! Each connection is one item, `(booking_id = "42", connection_id = "<id>")` with `user_id`,
//! `connection_type`, `connected_at` and `ttl`: recording it is one `PutItem`, forgetting it one `DeleteItem`,
//! and a booking's connections are one `Query` of partition `"42"`. A user connection is one such item in
//! each of its user's bookings and one under its user (`booking_id = "USER#{user_id}"`, found by one
//! `Query` when the user joins a booking later), written and deleted with one `BatchWriteItem` per 25.
//! Nothing looks a record up by connection id: every event after `$connect` carries the connection's
//! booking and user in API Gateway's authorizer context (`docs/connection-records.md`).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chat_wire::BookingId;
use chat_wire::proxy::ConnectionType;

use crate::ports::{ConnectionStore, StoreError};
use crate::record::ConnectionRecord;

/// Connection records in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbConnectionStore {
    client: Client,
    table: String,
    /// Items per Query page (DynamoDB's `Limit`); `None` leaves pages at DynamoDB's 1 MB.
    page_size: Option<i32>,
}

type Item = HashMap<String, AttributeValue>;

fn failed(operation: &'static str) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    move |source| StoreError { operation, source }
}

/// An SDK error with its whole chain in its text (an `SdkError` alone says only "service error").
fn sdk<E: std::error::Error + Send + Sync + 'static>(error: E) -> Box<dyn std::error::Error + Send + Sync> {
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string().into()
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl DynamoDbConnectionStore {
    /// A store over `table`, through a client built once at start.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), page_size: None }
    }

    /// A store over `table`, with a client of the shared SDK configuration, without the SDK's stalled-stream
    /// protection (`chat_settings::aws::without_stall_protection` says why).
    pub fn from_sdk_config(sdk_config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
            .stalled_stream_protection(chat_settings::aws::without_stall_protection());
        Self::new(Client::from_conf(config.build()), table)
    }

    /// Caps each Query page at `items` (DynamoDB's `Limit`).
    #[must_use]
    pub fn with_page_size(mut self, items: i32) -> Self {
        self.page_size = Some(items);
        self
    }

    fn booking_key(booking_id: BookingId, connection_id: &str) -> Item {
        Self::partition_key(booking_id.to_string(), connection_id)
    }

    /// The key of a user connection's record under its user.
    fn user_key(user_id: &str, connection_id: &str) -> Item {
        Self::partition_key(user_partition(user_id), connection_id)
    }

    fn partition_key(partition: String, connection_id: &str) -> Item {
        HashMap::from([
            ("booking_id".to_owned(), s(partition)),
            ("connection_id".to_owned(), s(connection_id)),
        ])
    }

    fn attributes(record: &ConnectionRecord) -> Item {
        HashMap::from([
            ("user_id".to_owned(), s(&record.user_id)),
            ("connection_type".to_owned(), s(record.connection_type.as_str())),
            ("connected_at".to_owned(), n(record.connected_at)),
            ("ttl".to_owned(), n(record.ttl)),
        ])
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(format!("attribute {name} is missing or not a string")),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, String> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|e| format!("attribute {name}: {e}")),
        _ => Err(format!("attribute {name} is missing or not a number")),
    }
}

/// The partition of a user's user connections.
fn user_partition(user_id: &str) -> String {
    format!("USER#{user_id}")
}

/// Reads a record from its item (a record under a user reads as booking 0).
fn record_from(item: &Item) -> Result<ConnectionRecord, String> {
    let connection_type = text(item, "connection_type")?;
    let partition = text(item, "booking_id")?;
    Ok(ConnectionRecord {
        booking_id: if partition.starts_with("USER#") {
            0
        } else {
            partition.parse().map_err(|e| format!("attribute booking_id: {e}"))?
        },
        connection_id: text(item, "connection_id")?.to_owned(),
        user_id: text(item, "user_id")?.to_owned(),
        connection_type: ConnectionType::parse(connection_type)
            .ok_or_else(|| format!("unknown connection_type {connection_type:?}"))?,
        connected_at: number(item, "connected_at")?,
        ttl: number(item, "ttl")?,
    })
}

/// Most write requests DynamoDB takes in one `BatchWriteItem`.
const BATCH_WRITE_LIMIT: usize = 25;

/// Rounds of `BatchWriteItem` for the items DynamoDB left unprocessed (throttling), before giving up.
const BATCH_WRITE_ATTEMPTS: u32 = 5;

impl DynamoDbConnectionStore {
    /// Writes `requests` with one `BatchWriteItem` per 25, sending again what DynamoDB leaves unprocessed
    /// (after a short pause) a bounded number of times.
    async fn write_batches(
        &self,
        requests: Vec<WriteRequest>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > BATCH_WRITE_ATTEMPTS {
                    let left = format!(
                        "{} items left unprocessed after {BATCH_WRITE_ATTEMPTS} attempts",
                        pending.len()
                    );
                    return Err(failed(operation)(left.into()));
                }
                if attempt > 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                let written = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| failed(operation)(sdk(e)))?;
                pending = written
                    .unprocessed_items
                    .and_then(|mut left| left.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

impl DynamoDbConnectionStore {
    /// The record at `key`, expired or not (one consistent `GetItem`).
    async fn get_record(&self, key: Item) -> Result<Option<ConnectionRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("reading a connection")(sdk(e)))?;
        found.item.as_ref().map(record_from).transpose().map_err(|e| failed("reading a connection")(e.into()))
    }

    /// Moves the expiry of the record at `key` to `ttl`; `false` when there is no such record.
    async fn renew_record(&self, key: Item, ttl: i64) -> Result<bool, StoreError> {
        let renewed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET #ttl = :ttl")
            .condition_expression("attribute_exists(connection_id)")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":ttl", n(ttl))
            .send()
            .await;
        match renewed {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(error) => Err(failed("renewing a connection")(sdk(error))),
        }
    }

    /// Every record of a partition (a booking's, or a user's user connections): one paginated, consistent
    /// Query.
    async fn query_partition(
        &self,
        partition: String,
        operation: &'static str,
    ) -> Result<Vec<ConnectionRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("booking_id = :partition")
                .expression_attribute_values(":partition", s(partition.clone()))
                .consistent_read(true)
                .set_limit(self.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| failed(operation)(sdk(e)))?;
            for item in page.items() {
                records.push(record_from(item).map_err(|e| failed(operation)(e.into()))?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(records)
    }
}

impl ConnectionStore for DynamoDbConnectionStore {
    async fn put_user_connection(
        &self,
        connection: &ConnectionRecord,
        booking_ids: &[BookingId],
    ) -> Result<(), StoreError> {
        const OP: &str = "recording a user connection";
        let keys = booking_ids
            .iter()
            .map(|booking_id| Self::booking_key(*booking_id, &connection.connection_id))
            .chain(std::iter::once(Self::user_key(&connection.user_id, &connection.connection_id)));
        let mut requests = Vec::with_capacity(booking_ids.len() + 1);
        for mut item in keys {
            item.extend(Self::attributes(connection));
            let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| failed(OP)(sdk(e)))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.write_batches(requests, OP).await
    }

    async fn remove_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
    ) -> Result<(), StoreError> {
        const OP: &str = "removing a user connection";
        let keys = booking_ids
            .iter()
            .map(|booking_id| Self::booking_key(*booking_id, connection_id))
            .chain(std::iter::once(Self::user_key(user_id, connection_id)));
        let mut requests = Vec::with_capacity(booking_ids.len() + 1);
        for key in keys {
            let delete =
                DeleteRequest::builder().set_key(Some(key)).build().map_err(|e| failed(OP)(sdk(e)))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.write_batches(requests, OP).await
    }

    async fn user_connections(&self, user_id: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.query_partition(user_partition(user_id), "listing a user's connections").await
    }

    async fn put(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        let mut item = Self::booking_key(record.booking_id, &record.connection_id);
        item.extend(Self::attributes(record));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| failed("recording a connection")(sdk(e)))?;
        Ok(())
    }

    async fn remove(&self, booking_id: BookingId, connection_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::booking_key(booking_id, connection_id)))
            .send()
            .await
            .map_err(|e| failed("removing a connection")(sdk(e)))?;
        Ok(())
    }

    async fn list(&self, booking_id: BookingId) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.query_partition(booking_id.to_string(), "listing a booking's connections").await
    }

    async fn find(
        &self,
        booking_id: BookingId,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        self.get_record(Self::booking_key(booking_id, connection_id)).await
    }

    async fn renew(&self, booking_id: BookingId, connection_id: &str, ttl: i64) -> Result<bool, StoreError> {
        self.renew_record(Self::booking_key(booking_id, connection_id), ttl).await
    }

    async fn find_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        self.get_record(Self::user_key(user_id, connection_id)).await
    }

    async fn renew_user_connection(
        &self,
        user_id: &str,
        connection_id: &str,
        booking_ids: &[BookingId],
        ttl: i64,
    ) -> Result<bool, StoreError> {
        if !self.renew_record(Self::user_key(user_id, connection_id), ttl).await? {
            return Ok(false);
        }
        for booking_id in booking_ids {
            self.renew_record(Self::booking_key(*booking_id, connection_id), ttl).await?;
        }
        Ok(true)
    }
}
