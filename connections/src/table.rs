//! The connections table as Terraform creates it (keys of the record layout, on demand, TTL on `ttl`), for
//! local DynamoDB (moto, DynamoDB Local) and tests. In AWS, Terraform owns the table; nothing here runs there.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Creates the connections table unless it exists ([`chat_settings::tables::create_if_missing`]).
///
/// # Errors
/// The SDK's error, when the table can neither be described nor created.
pub async fn create_if_missing(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), chat_settings::tables::TableError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
    };
    let key =
        |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let create = client
        .create_table()
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("booking_id")?)
        .attribute_definitions(attribute("connection_id")?)
        .key_schema(key("booking_id", KeyType::Hash)?)
        .key_schema(key("connection_id", KeyType::Range)?);
    chat_settings::tables::create_if_missing(client, table, create).await.map(drop)
}
