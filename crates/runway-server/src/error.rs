//! The error edge.
//!
//! Policy:
//! - Every error a client sees is an RFC 9457 `application/problem+json`
//!   document with a stable, machine-readable `code`. Clients branch on
//!   `code`, never on `title` or `detail`.
//! - Handlers return `Result<_, ApiError>`. Backend errors convert through
//!   `From` impls here, in one place: constraint violations become 409s,
//!   outages become 503s. Nothing is mapped ad hoc in handlers.
//! - A 5xx is logged here with its internal cause; the cause never reaches
//!   the client, and no secret is ever put into an error.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details, with runway's stable `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:runway:problem:<code>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable error code.
    pub code: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Internal cause, logged for 5xx, never sent.
    cause: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<Option<String>>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            headers: Vec::new(),
            cause: None,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, Some(detail.into()))
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, Some(detail.into()))
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, Some(detail.into()))
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, Some(detail.into())).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", None)
    }

    pub fn too_many_requests(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            Some(format!("too many requests; retry in {secs} s")),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(secs))
    }

    pub fn unavailable(code: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, None)
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            .with_cause(cause)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", None).with_cause(cause)
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            kind: format!("urn:runway:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(
                code = self.code,
                status = self.status.as_u16(),
                cause = self.cause.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let mut response = (self.status, Json(self.to_problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

impl From<runway_store::StoreError> for ApiError {
    fn from(e: runway_store::StoreError) -> Self {
        use runway_store::StoreError as E;
        match e {
            E::Conflict(what) => ApiError::conflict("conflict", format!("{what} already exists")),
            E::NotFound => ApiError::not_found(),
            other => ApiError::unavailable("database_unavailable", other),
        }
    }
}

impl From<runway_jobs::QueueError> for ApiError {
    fn from(e: runway_jobs::QueueError) -> Self {
        ApiError::unavailable("queue_unavailable", e)
    }
}

impl From<runway_core::domain::Invalid> for ApiError {
    fn from(e: runway_core::domain::Invalid) -> Self {
        ApiError::unprocessable(e.code, e.message)
    }
}
