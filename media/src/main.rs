//! `chat-media`: as a Lambda function when Lambda runs it (`AWS_LAMBDA_RUNTIME_API` is set), else
//! `chat-media poll [--queue-url URL]`, which polls the upload queue (a local run beside moto).
//! Configuration comes from the environment (docs/configuration.md); this file only wires it up.

use anyhow::Context;
use chat_media::config::MediaSettings;
use chat_media::queue::SqsQueue;

const USAGE: &str = "usage: chat-media poll [--queue-url URL]   (on Lambda it serves SQS batches by itself)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return chat_media::lambda::run().await.map_err(|e| anyhow::anyhow!(e));
    }
    let queue_url = poll_arguments(std::env::args().skip(1))?;
    let settings = MediaSettings::from_env().context("configuration")?;
    chat_settings::logs::init(settings.json_logs).context("log setup")?;
    let queue_url =
        queue_url.or_else(|| settings.queue_url.clone()).context("--queue-url or MEDIA_QUEUE_URL")?;
    let processor = chat_media::build(&settings, None).await.context("building the processor")?;
    let sqs =
        chat_settings::aws::local_or_aws(settings.sqs_endpoint.as_deref(), None, settings.aws_timeout).await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sqs), &queue_url);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(async move { chat_media::poll(&processor, &queue, stopped).await });
    tracing::info!(queue = %queue_url, "polling for uploads; Ctrl-C stops");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    let _ = stop.send(true);
    poller.await.context("the poller")?;
    Ok(())
}

/// The queue URL of `poll [--queue-url URL]` (or `--queue-url=URL`), if given.
fn poll_arguments(mut args: impl Iterator<Item = String>) -> anyhow::Result<Option<String>> {
    anyhow::ensure!(args.next().as_deref() == Some("poll"), USAGE);
    let url = match args.next() {
        None => None,
        Some(flag) if flag == "--queue-url" => Some(args.next().context(USAGE)?),
        Some(flag) => Some(flag.strip_prefix("--queue-url=").context(USAGE)?.to_owned()),
    };
    anyhow::ensure!(args.next().is_none(), USAGE);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> impl Iterator<Item = String> {
        line.split_whitespace().map(str::to_owned).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn poll_takes_an_optional_queue_url() {
        assert_eq!(poll_arguments(args("poll")).expect("bare"), None);
        assert_eq!(
            poll_arguments(args("poll --queue-url http://q")).expect("flag").as_deref(),
            Some("http://q")
        );
        assert_eq!(
            poll_arguments(args("poll --queue-url=http://q")).expect("flag").as_deref(),
            Some("http://q")
        );
        for bad in ["", "serve", "poll --queue-url", "poll --other", "poll --queue-url q extra"] {
            assert!(poll_arguments(args(bad)).is_err(), "{bad}");
        }
    }
}
