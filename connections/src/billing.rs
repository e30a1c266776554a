//! DynamoDB's bill for what the adapters did, by AWS's rules, counted where the calls are made
//! ([`crate::metering::AwsCalls`] keeps every DynamoDB request it sees; [`Bill::of`] prices them).
//!
//! The rules (AWS's "read and write request units"): a write costs one unit per KB of the item, rounded up,
//! the larger of the item before and after for an update; a transactional write twice that, a condition
//! check included; a strongly consistent read one unit per 4 KB read, rounded up per request (a `Query`
//! sums the items it read, filtered or not), an eventually consistent one half; a transactional read twice.
//! moto reports no real consumed capacity, so the sizes are measured: writes from the items as they are
//! after the run (what an update leaves), reads by replaying each read without its filter or projection,
//! which returns exactly the items DynamoDB read and billed. A replayed read sees the table after the run,
//! a write's size the item after it: the counts are for runs whose items do not shrink or vanish later
//! (a deleted item counts one unit, its usual size).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;

/// An item as DynamoDB holds it.
pub type Item = HashMap<String, AttributeValue>;

/// A DynamoDB request the meter kept, to be priced.
#[derive(Debug, Clone)]
pub enum Request {
    /// `PutItem`, `UpdateItem`, `DeleteItem` or one item of a `TransactWriteItems`.
    Write {
        /// The table.
        table: String,
        /// The key written, when its item is to be read after the run (an update).
        key: Option<Item>,
        /// The item put, when the request holds it.
        item: Option<Item>,
        /// Part of a transaction (billed twice).
        transactional: bool,
    },
    /// `GetItem`.
    Get(Box<GetItemInput>),
    /// `Query`.
    Query(Box<QueryInput>),
}

impl Request {
    /// The write requests of a `PutItem`.
    pub fn put(input: &PutItemInput) -> Vec<Self> {
        let (table, item) = (input.table_name().unwrap_or_default().to_owned(), input.item().cloned());
        vec![Self::Write { table, key: None, item, transactional: false }]
    }

    /// The write request of an `UpdateItem`: its item is read after the run.
    pub fn update(input: &UpdateItemInput) -> Vec<Self> {
        let table = input.table_name().unwrap_or_default().to_owned();
        vec![Self::Write { table, key: input.key().cloned(), item: None, transactional: false }]
    }

    /// The write requests of a `TransactWriteItems`, each transactional.
    pub fn transaction(input: &TransactWriteItemsInput) -> Vec<Self> {
        input
            .transact_items()
            .iter()
            .map(|entry| {
                let (table, key, item) = if let Some(put) = entry.put() {
                    (put.table_name(), None, Some(put.item().clone()))
                } else if let Some(update) = entry.update() {
                    (update.table_name(), Some(update.key().clone()), None)
                } else if let Some(delete) = entry.delete() {
                    (delete.table_name(), None, None)
                } else if let Some(check) = entry.condition_check() {
                    (check.table_name(), Some(check.key().clone()), None)
                } else {
                    ("", None, None)
                };
                Self::Write { table: table.to_owned(), key, item, transactional: true }
            })
            .collect()
    }
}

/// Request units, as AWS bills them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bill {
    /// Write request units.
    pub write_units: u64,
    /// Read request units (an eventually consistent read of up to 4 KB is 0.5).
    pub read_units: f64,
}

/// An item's size as DynamoDB bills it: each attribute's name in UTF-8 bytes plus its value's size.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        // A list or map: 3 bytes, and 1 more per element besides the elements' own sizes.
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        _ => 0,
    }
}

/// A number: about one byte per two significant digits, plus one.
fn number_size(number: &str) -> usize {
    let digits = number.trim_start_matches('-').replace('.', "");
    digits.trim_start_matches('0').trim_end_matches('0').len().div_ceil(2) + 1
}

fn write_units(size: usize, transactional: bool) -> u64 {
    let units = u64::try_from(size.div_ceil(1024).max(1)).unwrap_or(u64::MAX);
    if transactional { 2 * units } else { units }
}

fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

impl Bill {
    /// What `requests` cost, their items measured through `client` (a client that is not metered).
    ///
    /// # Errors
    /// A replayed read or a lookup that DynamoDB refused.
    pub async fn of(requests: &[Request], client: &Client) -> Result<Self, aws_sdk_dynamodb::Error> {
        let mut bill = Self::default();
        for request in requests {
            match request {
                Request::Write { table, key, item, transactional } => {
                    let size = match (item, key) {
                        (Some(item), _) => item_size(item),
                        (None, Some(key)) => current_size(client, table, key).await?,
                        (None, None) => 0,
                    };
                    bill.write_units += write_units(size, *transactional);
                }
                Request::Get(input) => {
                    let output = client
                        .get_item()
                        .set_table_name(input.table_name().map(str::to_owned))
                        .set_key(input.key().cloned())
                        .send()
                        .await?;
                    let size = output.item().map_or(0, item_size);
                    bill.read_units += read_units(size, input.consistent_read().unwrap_or(false));
                }
                Request::Query(input) => bill.read_units += replayed_query(client, input).await?,
            }
        }
        Ok(bill)
    }
}

async fn current_size(client: &Client, table: &str, key: &Item) -> Result<usize, aws_sdk_dynamodb::Error> {
    let output = client.get_item().table_name(table).set_key(Some(key.clone())).send().await?;
    Ok(output.item().map_or(0, item_size))
}

/// The read units of one `Query` page: the same key condition, start and limit, without the filter,
/// the projection or `Select: COUNT`, so that it returns what DynamoDB read.
async fn replayed_query(client: &Client, input: &QueryInput) -> Result<f64, aws_sdk_dynamodb::Error> {
    let output = client
        .query()
        .set_table_name(input.table_name().map(str::to_owned))
        .set_index_name(input.index_name().map(str::to_owned))
        .set_key_condition_expression(input.key_condition_expression().map(str::to_owned))
        .set_expression_attribute_values(input.expression_attribute_values().cloned().map(|values| {
            // Only the values the key condition names: DynamoDB refuses unused ones.
            let condition = input.key_condition_expression().unwrap_or_default();
            values.into_iter().filter(|(name, _)| condition.contains(name.as_str())).collect()
        }))
        .set_expression_attribute_names(input.expression_attribute_names().cloned().map(|names| {
            let condition = input.key_condition_expression().unwrap_or_default();
            names.into_iter().filter(|(name, _)| condition.contains(name.as_str())).collect()
        }))
        .set_scan_index_forward(input.scan_index_forward())
        .set_exclusive_start_key(input.exclusive_start_key().cloned())
        .set_limit(input.limit())
        .send()
        .await?;
    let bytes: usize = output.items().iter().map(item_size).sum();
    Ok(read_units(bytes, input.consistent_read().unwrap_or(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_units_follow_aws_rules() {
        let item: Item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("BOOKING#1".into())),
            ("n".to_owned(), AttributeValue::N("12300".into())),
            ("flag".to_owned(), AttributeValue::Bool(true)),
        ]);
        // "pk" and 9 bytes; "n" and 123 (3 significant digits: 2 bytes, and 1); "flag" and 1.
        assert_eq!(item_size(&item), 11 + 4 + 5);
        assert_eq!((write_units(1, false), write_units(1024, false), write_units(1025, false)), (1, 1, 2));
        assert_eq!(write_units(1025, true), 4, "a transactional write bills twice");
        assert_eq!((read_units(0, true), read_units(4097, true), read_units(100, false)), (1.0, 2.0, 0.5));
    }
}
