//! Section 5: the compiled function alone: cold start behind a Lambda Runtime API like the service's,
//! memory and CPU time per event, and the zip that ships it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use apigw_ws_emulator::events::{self, ConnectionMeta};
use axum::http::{HeaderMap, HeaderValue};
use dev_stack::measure::{cpu_time, machine, status_mib};
use dev_stack::runtime_api::RuntimeApi;
use serde_json::Value;

use crate::setup::{
    self, Launcher, backend, broadcast, clients, fresh_table, moto_sdk, spawn_function, tokens,
};

/// The `$connect` authorizer's event for Alice on booking 1, as API Gateway sends it.
fn authorizer_event(token: &str) -> anyhow::Result<Value> {
    let meta = ConnectionMeta {
        api_id: "benchapi01".into(),
        stage: "local".into(),
        domain_name: "benchapi01.execute-api.us-east-1.amazonaws.com".into(),
        connection_id: "bench-connection=".into(),
        connected_at: chat_wire::time::now_millis(),
        source_ip: "127.0.0.1".into(),
        user_agent: Some("chat-bench".into()),
        authorizer: None,
    };
    let mut headers = HeaderMap::new();
    headers.insert("sec-websocket-protocol", HeaderValue::from_str(&format!("chat.v1, bearer.{token}"))?);
    Ok(events::authorizer(&meta, "us-east-1", &headers, &[("booking_id".into(), "1".into())]))
}

fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    format!("p50 {median:>6.2} ms   min {:>6.2} ms   max {:>6.2} ms", values[0], values[values.len() - 1])
}

/// Cold start: `runs` fresh processes, each handed a `$connect` authorizer event (a real token, checked by
/// the real backend) as its first event.
pub(crate) async fn cold_start(binary: &Path, runs: usize) -> anyhow::Result<()> {
    println!(
        "5. The compiled function ({}), started as Lambda starts it: a Runtime API on loopback,",
        binary.display()
    );
    println!("   configuration from the environment. ({})", machine());
    if !binary.exists() {
        println!("   not measured: {} is missing (make bench builds it)\n", binary.display());
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (backend_url, settings) = backend(dir.path()).await?;
    let table = fresh_table(&moto_sdk()).await?;
    let event = authorizer_event(&tokens(&settings)?[0])?;
    let (mut init, mut first) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let runtime = RuntimeApi::start().await?;
        let (function, started) = spawn_function(
            &Launcher::default(),
            binary,
            &runtime,
            &backend_url,
            &table,
            "http://127.0.0.1:9/local",
        )?;
        let answer = runtime.invoke(event.clone()).await.context("the first event")?;
        let answered = started.elapsed();
        if answer["policyDocument"]["Statement"][0]["Effect"] != "Allow" {
            bail!("the authorizer did not allow Alice: {answer}");
        }
        let asked = runtime.first_next().context("the function never asked for an event")?;
        init.push((asked - started).as_secs_f64() * 1000.0);
        first.push(answered.as_secs_f64() * 1000.0);
        drop(function);
    }
    println!("{:>44}: {}", "start → first request for an event (init)", summary(init));
    println!("{:>44}: {}", "start → first event answered ($connect auth)", summary(first));
    println!("   The first event includes its backend call over loopback HTTP; on AWS add the network.\n");
    Ok(())
}

/// Peak memory and CPU time per event: one process through `events` messages (each: the backend call,
/// one Query on moto, two posts through the emulator's Management API).
pub(crate) async fn per_event(binary: &Path, events: usize) -> anyhow::Result<()> {
    if !binary.exists() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let stack = setup::compiled(&Launcher::default(), binary, dir.path()).await?;
    let pid = stack.function.0.id();
    let mut pair = clients(&stack.ws_url, &stack.tokens, 2).await?;
    let idle = status_mib(pid, "VmRSS").context("the function's memory")?;
    let before = cpu_time(pid).context("the function's CPU time")?;
    let started = Instant::now();
    broadcast(&mut pair, events, "per-event").await?;
    let wall = started.elapsed();
    let cpu = cpu_time(pid).context("the function's CPU time")?.saturating_sub(before);
    let peak = status_mib(pid, "VmHWM").context("the function's peak memory")?;
    let per_event = |d: Duration| d.as_secs_f64() * 1000.0 / events as f64;
    println!("   Through {events} messages to a booking of 2 (one process, one event at a time):");
    println!("{:>44}: {idle:.1} MiB", "resident after two connects");
    println!("{:>44}: {peak:.1} MiB", "peak resident (VmHWM)");
    println!("{:>44}: {:.3} ms", "CPU time per message event (user + system)", per_event(cpu));
    println!("{:>44}: {:.3} ms", "wall time per message (send → both delivered)", per_event(wall));
    println!("   On Lambda, CPU is shared in proportion to memory (1,769 MB = one vCPU): at 128 MB a");
    println!(
        "   millisecond of CPU here takes about 14 ms; the rest of an event is waiting on the network.\n"
    );
    Ok(())
}

/// The zip `make package` built, if it did.
pub(crate) fn package_size() {
    for arch in ["arm64", "x86_64"] {
        let zip = setup::workspace_root().join(format!("target/lambda/{arch}/chat-proxy/bootstrap.zip"));
        match std::fs::metadata(&zip) {
            Ok(meta) => println!(
                "   package ({arch}): {} = {:.2} MB ({} bytes)",
                zip.display(),
                meta.len() as f64 / 1_000_000.0,
                meta.len()
            ),
            Err(_) => println!("   package ({arch}): not built (make package ARCH={arch})"),
        }
    }
}
