//! Counting the AWS calls the adapters make, by operation: on AWS the time and money of a message are
//! its calls, so the number of calls per message and per connection is the figure `make bench` prints
//! and the tests pin. [`AwsCalls`] is an SDK interceptor: attached to a client, it counts every operation
//! that client executes (once per operation, however many attempts it takes), and the items DynamoDB's
//! `Query`s read (their `ScannedCount`): the figure that shows a Query's cost follows its booking, not the
//! table. It also keeps each DynamoDB request, which [`crate::billing::Bill::of`] prices in request units
//! by AWS's rules.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::config::Intercept;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::billing::{Bill, Request};

/// Counts of AWS operations (`Query`, `PutItem`, `PostToConnection`, ...). Cheap to clone; clones share
/// the counts.
#[derive(Debug, Clone, Default)]
pub struct AwsCalls {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    items_read: Arc<AtomicU64>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl AwsCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The counts so far, by operation name.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    /// How many calls of `operation` so far.
    pub fn of(&self, operation: &str) -> u64 {
        self.lock().get(operation).copied().unwrap_or(0)
    }

    /// The items the counted `Query`s read (evaluated before any filter), so far.
    pub fn items_read(&self) -> u64 {
        self.items_read.load(Ordering::Relaxed)
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        self.items_read.store(0, Ordering::Relaxed);
        self.lock().clear();
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// What the DynamoDB requests so far cost, in request units ([`Bill::of`]; `client` unmetered).
    ///
    /// # Errors
    /// As [`Bill::of`].
    pub async fn bill(&self, client: &aws_sdk_dynamodb::Client) -> Result<Bill, aws_sdk_dynamodb::Error> {
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Bill::of(&requests, client).await
    }

    /// Keeps the DynamoDB request `input` (of any operation) to be priced.
    fn keep(&self, input: &aws_smithy_runtime_api::client::interceptors::context::Input) {
        use aws_sdk_dynamodb::operation::{
            delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput, query::QueryInput,
            transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
        };
        let kept = if let Some(put) = input.downcast_ref::<PutItemInput>() {
            Request::put(put)
        } else if let Some(update) = input.downcast_ref::<UpdateItemInput>() {
            Request::update(update)
        } else if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            Request::transaction(transaction)
        } else if let Some(delete) = input.downcast_ref::<DeleteItemInput>() {
            let table = delete.table_name().unwrap_or_default().to_owned();
            vec![Request::Write { table, key: None, item: None, transactional: false }]
        } else if let Some(get) = input.downcast_ref::<GetItemInput>() {
            vec![Request::Get(Box::new(get.clone()))]
        } else if let Some(query) = input.downcast_ref::<QueryInput>() {
            vec![Request::Query(Box::new(query.clone()))]
        } else {
            Vec::new()
        };
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).extend(kept);
    }

    /// A DynamoDB client of the shared SDK configuration whose calls are counted here.
    pub fn dynamodb_client(&self, sdk_config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk_config).interceptor(self.clone()).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

impl Intercept for AwsCalls {
    fn name(&self) -> &'static str {
        "AwsCalls"
    }

    // Before serialisation rather than before execution: a client's interceptors see the execution begin
    // before the operation's own configuration (which names it) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.keep(context.input());
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name).to_owned();
        *self.lock().entry(operation).or_default() += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error()
            && let Some(query) = output.downcast_ref::<QueryOutput>()
        {
            let scanned = u64::try_from(query.scanned_count()).unwrap_or(0);
            self.items_read.fetch_add(scanned, Ordering::Relaxed);
        }
        Ok(())
    }
}
