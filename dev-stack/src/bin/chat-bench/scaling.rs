//! Section 3: a message's cost as the table grows from 1 to 1,000 bookings.

use chat_connections::metering::AwsCalls;
use chat_connections::ports::ConnectionStore;
use chat_connections::record::ConnectionRecord;
use chat_connections::store::DynamoDbConnectionStore;
use chat_wire::proxy::ConnectionType;
use chat_wire::time::{now_millis, now_seconds};
use dev_stack::measure::machine;
use futures_util::{StreamExt, TryStreamExt};

use crate::setup::{
    self, Adapters, broadcast, clients, fresh_table, in_process, moto_sdk, percentile, tokens,
};

/// The other bookings' records, straight into the table: they only need to be there.
async fn fill(table: &str, bookings: i64, per_booking: usize) -> anyhow::Result<()> {
    let store = DynamoDbConnectionStore::new(aws_sdk_dynamodb::Client::new(&moto_sdk()), table);
    let records = (2..=bookings).flat_map(|booking_id| {
        (0..per_booking).map(move |n| ConnectionRecord {
            booking_id: 10_000 + booking_id,
            connection_id: format!("other-{booking_id}-{n}"),
            user_id: format!("user-{n}"),
            connection_type: ConnectionType::Chat,
            connected_at: now_millis(),
            ttl: now_seconds() + 3_600,
        })
    });
    futures_util::stream::iter(records.map(|record| {
        let store = &store;
        async move { store.put(&record).await }
    }))
    .buffer_unordered(16)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}

pub(crate) async fn table_size(messages: usize) -> anyhow::Result<()> {
    let messages = messages.max(10);
    println!("3. Cost per message as the table grows: bookings × connections each, records on moto, the");
    println!("   Lambda in-process with the real adapters; {messages} messages in one booking per row.");
    println!("   ({})", machine());
    println!(
        "{:>16} {:>13} {:>10} {:>11} {:>10} {:>8} {:>7}",
        "bookings × conns", "table items", "Query/msg", "items/msg", "posts/msg", "p50 ms", "×p50"
    );
    let mut baseline = None;
    for (bookings, per_booking) in [(1i64, 2usize), (10, 2), (100, 2), (1_000, 2), (100, 10)] {
        let dir = tempfile::tempdir()?;
        let table = fresh_table(&moto_sdk()).await?;
        fill(&table, bookings, per_booking).await?;
        let calls = AwsCalls::default();
        let stack = in_process(&Adapters::Aws { calls: calls.clone(), table }, dir.path()).await?;
        let tokens = tokens(&setup::backend_settings(dir.path())?)?;
        let mut booking = clients(&stack.ws_url, &tokens, per_booking).await?;
        calls.reset();
        let (latencies, _) = broadcast(&mut booking, messages, &format!("scale-{bookings}")).await?;
        let per_message = |n: u64| n as f64 / messages as f64;
        let p50 = percentile(&latencies, 0.5);
        let first = *baseline.get_or_insert(p50);
        println!(
            "{:>16} {:>13} {:>10.2} {:>11.2} {:>10.2} {p50:>8.2} {:>7.2}",
            format!("{bookings} × {per_booking}"),
            bookings * per_booking as i64,
            per_message(calls.of("Query")),
            per_message(calls.items_read()),
            per_message(calls.of("PostToConnection")),
            p50 / first,
        );
        drop(booking);
        stack.stop().await;
    }
    println!(
        "   Calls and items read follow the booking, never the table. moto answers a Query in time that"
    );
    println!(
        "   grows with the whole table (it is Python, scanning); DynamoDB's does not: read ×p50 as moto's.\n"
    );
    Ok(())
}
