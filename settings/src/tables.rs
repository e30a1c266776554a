//! DynamoDB tables for local runs and tests (moto, DynamoDB Local): creating one as Terraform does in AWS,
//! unless it exists. Both deployables' tables (the connection records, the chat) are created this way when
//! a local run asks for it; in AWS, Terraform owns the tables and nothing here runs.

use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::TimeToLiveSpecification;

/// An error with the SDK's whole chain in its text.
pub type TableError = Box<dyn std::error::Error + Send + Sync>;

fn sdk<E: std::error::Error + Send + Sync + 'static>(error: E) -> TableError {
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string().into()
}

/// Sends `create` (a `CreateTable` of `table`) unless `DescribeTable` finds the table, then turns TTL on
/// for the attribute `ttl`. Returns whether it created the table. A table created meanwhile (by another
/// instance, or by an attempt of this call that the SDK retried after a timeout) and a TTL already on count
/// as done; any other failure, a slow endpoint included, is the caller's to see: it is no reason to create
/// a table that may well exist.
///
/// # Errors
/// The SDK's error, when the table can neither be described nor created, or TTL not turned on.
pub async fn create_if_missing(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    create: CreateTableFluentBuilder,
) -> Result<bool, TableError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(false),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(error) => return Err(sdk(error)),
    }
    match create.table_name(table).send().await {
        Ok(_) => {}
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(sdk(error)),
    }
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build()?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(true),
        Err(error) if format!("{error:?}").contains("already enabled") => Ok(true),
        Err(error) => Err(sdk(error)),
    }
}
