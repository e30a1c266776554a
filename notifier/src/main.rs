//! `chat-notifier`: as a Lambda function when Lambda runs it (`AWS_LAMBDA_RUNTIME_API` is set), else
//! `chat-notifier poll`, which long-polls the queue (a local run beside moto). Configuration comes from the
//! environment (docs/configuration.md); this file only wires it up.

use anyhow::Context;
use chat_notifier::config::NotifierSettings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return chat_notifier::lambda::run().await.map_err(|e| anyhow::anyhow!(e));
    }
    match std::env::args().nth(1).as_deref() {
        Some("poll") => {}
        _ => anyhow::bail!("usage: chat-notifier poll   (on Lambda it serves SQS batches by itself)"),
    }
    let settings = NotifierSettings::from_env().context("configuration")?;
    chat_settings::logs::init(settings.json_logs).context("log setup")?;
    let (notifier, queue) = chat_notifier::build(&settings, None).await.context("opening the chat store")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(chat_notifier::poll(notifier, queue, stopped));
    tracing::info!(queue = %settings.queue_url, "polling for notifications; Ctrl-C stops");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    let _ = stop.send(true);
    poller.await.context("the poller")?;
    Ok(())
}
