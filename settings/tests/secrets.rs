//! Secrets read at cold start from SSM Parameter Store or Secrets Manager, against moto_server.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_ssm::types::ParameterType;
use chat_settings::SecretSource;
use chat_settings::secrets::{SecretError, resolve};
use local_services::moto::Moto;
use secrecy::ExposeSecret;

fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .http_client(chat_settings::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(Moto::shared().endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "tests",
        )))
        .build()
}

#[tokio::test]
async fn a_securestring_parameter_is_read_decrypted() {
    let sdk = sdk_config();
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/booking-chat/test/proxy-secret")
        .value("from-ssm")
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
    let secret =
        resolve("PROXY_SECRET", &SecretSource::SsmParameter("/booking-chat/test/proxy-secret".into()), &sdk)
            .await
            .expect("read");
    assert_eq!(secret.expose_secret(), "from-ssm");
}

#[tokio::test]
async fn a_secrets_manager_secret_is_read() {
    let sdk = sdk_config();
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(format!("booking-chat-test-{}", fastrand::u32(..)))
        .secret_string("from-secrets-manager")
        .send()
        .await
        .expect("create secret");
    let arn = created.arn().expect("arn").to_owned();
    let secret = resolve("JWT_SECRET", &SecretSource::SecretsManager(arn), &sdk).await.expect("read");
    assert_eq!(secret.expose_secret(), "from-secrets-manager");
}

#[tokio::test]
async fn a_missing_parameter_fails_start_up_with_a_clear_error() {
    let error = resolve(
        "PROXY_SECRET",
        &SecretSource::SsmParameter("/booking-chat/test/missing".into()),
        &sdk_config(),
    )
    .await
    .expect_err("missing");
    assert!(matches!(error, SecretError::Fetch { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with("reading PROXY_SECRET from SSM parameter /booking-chat/test/missing failed: "),
        "{text}"
    );
    assert!(text.contains("ParameterNotFound"), "the cause is in the message: {text}");
}
