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
    if client.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    let attribute = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
    };
    let key =
        |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("booking_id")?)
        .attribute_definitions(attribute("connection_id")?)
        .key_schema(key("booking_id", KeyType::Hash)?)
        .key_schema(key("connection_id", KeyType::Range)?)
        .send()
        .await?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build()?,
        )
        .send()
        .await?;
    Ok(())
}
