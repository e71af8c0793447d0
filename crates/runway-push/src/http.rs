//! The pooled HTTP(S) client used by FCM and Web Push (and by the alert
//! Lambda for its webhooks).
//!
//! hyper-util's pooled client over hyper-rustls, with a rustls config built
//! on an explicit provider (see `tls`). reqwest is deliberately not used:
//! its rustls backend without a bundled provider falls back to the
//! process-level default and panics when none is installed, and enabling
//! such a feature here would unify into every other reqwest user of the
//! workspace.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::{PushError, tls};

/// Largest response body read from a provider.
const MAX_RESPONSE_BODY: usize = 64 * 1024;

pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    Timeout,
    Connect,
    Io,
}

impl HttpError {
    pub fn reason(self) -> &'static str {
        match self {
            HttpError::Timeout => "timeout",
            HttpError::Connect => "connection_error",
            HttpError::Io => "io_error",
        }
    }
}

impl HttpClient {
    /// `ca_pem`: extra trusted roots (PEM) besides the WebPKI ones.
    pub fn new(ca_pem: Option<&str>, timeout: Duration) -> Result<HttpClient, PushError> {
        let tls = tls::client_config(ca_pem, &[])?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Ok(HttpClient { client, timeout })
    }

    /// Send a request and read the (size-limited) response, all within the
    /// configured timeout.
    pub async fn request(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<HttpResponse, HttpError> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    HttpError::Connect
                } else {
                    HttpError::Io
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|_| HttpError::Io)?
                .to_bytes();
            Ok(HttpResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout),
        }
    }
}
