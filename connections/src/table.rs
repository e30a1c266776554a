//! The connections table as Terraform creates it (keys of the record layout, on demand, TTL on `ttl`), for
//! local DynamoDB (moto, DynamoDB Local) and tests. In AWS, Terraform owns the table; nothing here runs there.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

/// Creates the connections table unless it exists.
///
/// # Errors
/// The SDK's error, when the table can neither be described nor created.
pub async fn create_if_missing(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(()),
        // Only a table that is not there is created: any other failure (a slow or overloaded endpoint) is
        // the caller's to see, not a reason to create a table that may well exist.
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(error) => return Err(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string().into()),
    }
    let attribute = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
    };
    let key =
        |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("booking_id")?)
        .attribute_definitions(attribute("connection_id")?)
        .key_schema(key("booking_id", KeyType::Hash)?)
        .key_schema(key("connection_id", KeyType::Range)?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Created meanwhile: by an earlier attempt of this very call that timed out on a slow endpoint and
        // was retried by the SDK, or by someone else. It exists; its TTL is set below all the same.
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string().into()),
    }
    enable_ttl(client, table).await?;
    Ok(())
}

/// Turns on TTL on the attribute `ttl` of `table`; a TTL already on (set by another creator, or by an
/// earlier attempt) counts as done. Both tables' creation ends with it.
///
/// # Errors
/// The SDK's error, with its whole chain in its text.
pub async fn enable_ttl(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build()?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        Err(error) if format!("{error:?}").contains("already enabled") => Ok(()),
        Err(error) => Err(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string().into()),
    }
}
