//! Adapters of [`ConnectionStore`](crate::ports::ConnectionStore).

mod dynamodb;
mod memory;

pub use dynamodb::DynamoDbConnectionStore;
pub use memory::InMemoryConnectionStore;
