//! `chat-backend-lambda`: the backend as a Lambda function (`make package` zips it as `bootstrap`).

#[tokio::main]
async fn main() -> Result<(), chat_backend::lambda::Error> {
    chat_backend::lambda::run().await
}
