//! `bootstrap` of the thumbnail function. See `runway_lambda::thumbnail`.

use lambda_runtime::{LambdaEvent, service_fn};
use runway_lambda::thumbnail::Thumbnailer;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runway_lambda::init();
    let handler = match Thumbnailer::from_env().await {
        Ok(handler) => handler,
        Err(e) => return Err(runway_lambda::init_failed(e).await),
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await
    }))
    .await
}
