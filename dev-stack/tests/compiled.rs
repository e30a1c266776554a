//! `make dev-lambda`'s stack (`DevStack::start_compiled`): the compiled `chat-proxy` binary behind the
//! emulator, its copies polling the stack's own Lambda Runtime API, its records in DynamoDB on moto, its
//! frames through the emulator's Management API over HTTP. Two clients chat through it, and stopping the
//! stack stops the function's processes.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use apigw_ws_emulator::EmulatorConfig;
use chat_connections::ConnectionStore;
use chat_connections::store::DynamoDbConnectionStore;
use chat_connections::table::create_if_missing as ensure_connections_table;
use dev_stack::compiled::{FunctionError, FunctionOptions};
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackError, StackOptions};
use local_services::moto::Moto;
use serde_json::json;
use support::{connect_as, next_of_type, send};

/// The host build of the function (the code `make package` zips as `bootstrap`).
fn function_binary() -> PathBuf {
    support::workspace_binary("chat-proxy")
}

fn options(dir: &Path, records: ConnectionRecords) -> StackOptions {
    StackOptions {
        management: ManagementPath::InProcess,
        backend: support::backend_settings(dir),
        emulator_addr: "127.0.0.1:0".parse().expect("addr"),
        emulator: EmulatorConfig::default(),
        records,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(10),
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit(')').next().map(|rest| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

#[tokio::test]
async fn two_clients_chat_through_the_compiled_function_and_it_stops_with_the_stack() {
    let binary = function_binary();
    let moto = Moto::shared();
    let table = format!("compiled-connections-{}", fastrand::u32(..));
    let patient = support::dynamodb_at(&moto.endpoint(), Duration::from_secs(30));
    ensure_connections_table(&patient, &table).await.expect("table on moto");
    let dir = tempfile::tempdir().expect("temp dir");
    let records = ConnectionRecords::DynamoDb { client: support::dynamodb(), table: table.clone() };
    let function = FunctionOptions {
        binary,
        instances: 2,
        dynamodb_endpoint: moto.endpoint(),
        region: "us-east-1".into(),
        log_level: "warn".into(),
    };
    let stack = DevStack::start_compiled(options(dir.path(), records), function).await.expect("stack starts");
    let pids = stack.function_pids();
    assert_eq!(pids.len(), 2, "two copies of the binary");

    let mut alice = connect_as(&stack, 1, "alice").await;
    let mut bob = connect_as(&stack, 1, "bob").await;
    let store = DynamoDbConnectionStore::new(support::dynamodb(), &table);
    assert_eq!(store.list(1).await.expect("list").len(), 2, "the binary recorded both connections in moto");
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "compiled", "client_message_id": "c-1"}}),
    )
    .await;
    let own = next_of_type(&mut alice, "message").await;
    assert_eq!(own["message"]["body"], "compiled");
    assert_eq!(next_of_type(&mut bob, "message").await["message"], own["message"]);

    stack.stop().await;
    assert!(pids.iter().all(|pid| !alive(*pid)), "the function's processes stopped with the stack");
}

#[tokio::test]
async fn the_compiled_function_needs_its_records_in_dynamodb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let function = FunctionOptions {
        binary: PathBuf::from("/nonexistent/chat-proxy"),
        instances: 1,
        dynamodb_endpoint: "http://127.0.0.1:9".into(),
        region: "us-east-1".into(),
        log_level: "warn".into(),
    };
    let refused = DevStack::start_compiled(options(dir.path(), ConnectionRecords::InMemory), function).await;
    assert!(
        matches!(refused, Err(StackError::Function(FunctionError::NeedsDynamoDb))),
        "{:?}",
        refused.err()
    );
}

#[tokio::test]
async fn a_missing_binary_is_named_with_the_command_that_builds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = ConnectionRecords::DynamoDb { client: support::dynamodb(), table: "unused".into() };
    let function = FunctionOptions {
        binary: PathBuf::from("/nonexistent/chat-proxy"),
        instances: 1,
        dynamodb_endpoint: Moto::shared().endpoint(),
        region: "us-east-1".into(),
        log_level: "warn".into(),
    };
    let error =
        DevStack::start_compiled(options(dir.path(), records), function).await.err().expect("refused");
    let text = error.to_string();
    assert!(text.contains("/nonexistent/chat-proxy") && text.contains("make dev-lambda"), "{text}");
}
