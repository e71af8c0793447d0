//! The signed-in account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use runway_jobs::Job;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiResult, Problem};
use crate::http::extract::CurrentUser;
use crate::jobs::DeleteAccount;
use crate::routes::auth::UserView;
use crate::state::AppState;

/// The signed-in account.
#[utoipa::path(
    get, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_me(CurrentUser(user): CurrentUser) -> Json<UserView> {
    Json((&user).into())
}

#[derive(Serialize, ToSchema)]
pub struct DeletionAccepted {
    #[schema(example = "deletion_scheduled")]
    pub status: &'static str,
}

/// Delete the account and all its data.
///
/// Sign-in stops working at once and every session is revoked; the data is
/// removed by a durable background job.
#[utoipa::path(
    delete, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 202, body = DeletionAccepted),
        (status = 401, description = "`missing_token`, `invalid_token`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<(StatusCode, Json<DeletionAccepted>)> {
    // Enqueue first: if marking fails after this, the job still deletes the
    // account the user asked to delete. The reverse order could leave a
    // disabled account whose data is never removed.
    DeleteAccount { user_id: user.id }
        .enqueue(state.queue.as_ref())
        .await?;
    state
        .db
        .mark_user_deleted(user.id, runway_store::now_ms())
        .await?;
    tracing::info!(user_id = %user.id, "account deletion scheduled");
    Ok((
        StatusCode::ACCEPTED,
        Json(DeletionAccepted {
            status: "deletion_scheduled",
        }),
    ))
}
