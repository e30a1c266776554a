//! The HTTP backend client against backends that are down, slow or failing. (Against the real backend, it
//! is tested where the parts are composed: `dev-stack/tests/contract.rs`.)

use std::time::{Duration, Instant};

use chat_proxy::backend::HttpBackend;
use chat_proxy::ports::{Backend, BackendError};
use chat_wire::proxy::{ConnectRequest, ConnectionType};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROXY_SECRET: &str = "lambda-test-proxy-secret";

fn client(url: &str, secret: &str, timeout: Duration) -> HttpBackend {
    HttpBackend::new(url, SecretString::from(secret.to_owned()), timeout).expect("client")
}

fn connect_request(token: String) -> ConnectRequest {
    ConnectRequest { connection_id: "c1".into(), token, connection_type: ConnectionType::Chat }
}

#[tokio::test]
async fn a_backend_that_is_down_is_unavailable() {
    let port = local_services::free_port();
    let backend = client(&format!("http://127.0.0.1:{port}"), PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(
        backend.connect(1, &connect_request("t".into())).await,
        Err(BackendError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_backend_that_is_too_slow_is_unavailable_after_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, read nothing, never answer
        }
    });
    let backend = client(&format!("http://127.0.0.1:{port}"), PROXY_SECRET, Duration::from_millis(300));
    let started = Instant::now();
    let result = backend.connect(1, &connect_request("t".into())).await;
    assert!(matches!(result, Err(BackendError::Unavailable(ref e)) if e.contains("timed out")), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_backend_answering_5xx_or_garbage_is_unavailable_or_outside_the_contract() {
    async fn canned(response: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = vec![0; 8192];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        format!("http://127.0.0.1:{port}")
    }
    let failing =
        canned("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let backend = client(&failing, PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(
        backend.connect(1, &connect_request("t".into())).await,
        Err(BackendError::Unavailable(_))
    ));
    let garbage = canned("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\nconnection: close\r\n\r\n{oops").await;
    let backend = client(&garbage, PROXY_SECRET, Duration::from_secs(2));
    assert!(matches!(backend.connect(1, &connect_request("t".into())).await, Err(BackendError::Contract(_))));
}
