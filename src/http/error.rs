//! Errors are pages: each maps to a status, a title and a message, rendered by `error.html`
//! for the web and as JSON under `/api/`. A 500 hides its cause from the user and logs it.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::forms::FieldErrors;
use crate::{
    accounts::{SignInError, Throttled},
    import::{FileError, pipeline::SubmitError},
    storage::StorageError,
};

/// Where an agent changes their own password.
pub(crate) const AGENT_PASSWORD_PAGE: &str = "/agent/password";

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// Not signed in: the web redirects to the sign-in page, the API answers 401.
    #[error("Please sign in.")]
    SignInRequired,
    /// An agent's page without an agent's session: to the agents' sign-in page.
    #[error("Please sign in.")]
    AgentSignInRequired,
    /// An agent who must change their password first: to the page that does it.
    #[error("Choose a new password first.")]
    PasswordChangeRequired,
    /// The credentials were refused (the API's token request): why, in the sign-in form's words.
    #[error("{0}")]
    SignInRefused(String),
    /// A setup link once a master exists: it has done its job.
    #[error(
        "Roster is set up already, so setup links no longer work. Sign in with your administrator's email and password."
    )]
    SetupDone,
    /// Also what another group's objects answer: their existence is not revealed.
    #[error("There is nothing here, or it is not yours to see.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
    /// Input refused field by field, as a form shows it beside each field; the API lists them.
    #[error("Some fields need another value: {}.", .0.names())]
    Invalid(FieldErrors),
    /// The request does not fit the object's state (cancelling an import that has ended).
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    File(#[from] FileError),
    #[error("Too many sign-in attempts. Wait {0} seconds and try again.")]
    TooManyAttempts(u64),
    #[error("Something went wrong on our side. It has been logged; please try again.")]
    Internal(#[source] anyhow::Error),
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<Throttled> for AppError {
    fn from(error: Throttled) -> Self {
        AppError::TooManyAttempts(error.retry_after)
    }
}

/// A refused sign-in where no form shows it (the API): the form's words, with a 401.
impl From<SignInError> for AppError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::Throttled(throttled) => throttled.into(),
            refused @ (SignInError::WrongCredentials
            | SignInError::Disabled
            | SignInError::GroupDisabled) => AppError::SignInRefused(refused.to_string()),
            SignInError::Storage(error) => error.into(),
        }
    }
}

impl From<SubmitError> for AppError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::File(error) => AppError::File(error),
            SubmitError::Storage(error) => error.into(),
        }
    }
}

impl AppError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AppError::SignInRequired
            | AppError::AgentSignInRequired
            | AppError::SignInRefused(_) => StatusCode::UNAUTHORIZED,
            AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::SetupDone => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::File(FileError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::File(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::SignInRequired | AppError::AgentSignInRequired => "Sign-in required",
            AppError::SignInRefused(_) => "Sign-in refused",
            AppError::PasswordChangeRequired => "New password needed",
            AppError::NotFound => "Not found",
            AppError::SetupDone => "Already set up",
            AppError::Forbidden(_) => "Not allowed",
            AppError::BadRequest(_) => "That did not work",
            AppError::Invalid(_) => "Check the fields",
            AppError::Conflict(_) => "Not possible now",
            AppError::File(_) => "The file cannot be imported",
            AppError::TooManyAttempts(_) => "Too many attempts",
            AppError::Internal(_) => "Server error",
        }
    }

    fn log(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = %format!("{cause:#}"), "request failed");
        }
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            AppError::TooManyAttempts(seconds) => HeaderValue::from_str(&seconds.to_string()).ok(),
            _ => None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        match self {
            AppError::SignInRequired => return Redirect::to("/login").into_response(),
            AppError::AgentSignInRequired => return Redirect::to("/agent/login").into_response(),
            AppError::PasswordChangeRequired => {
                return Redirect::to(AGENT_PASSWORD_PAGE).into_response();
            }
            _ => {}
        }
        let page = ErrorPage {
            title: self.title(),
            message: self.to_string(),
        };
        let mut response = (self.status(), page).into_response();
        if let Some(value) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The same errors for `/api/`: `{"error": {"status": 404, "title": ..., "message": ...}}`,
/// with `"fields": {"email": "..."}` when input was refused field by field.
#[derive(Debug)]
pub(crate) struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let fields = match &error {
            AppError::Invalid(fields) => Some(fields.messages()),
            _ => None,
        };
        let mut response =
            api_error_body(error.status(), error.title(), &error.to_string(), fields);
        if let Some(value) = error.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Every error body under `/api/`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorJson {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// The HTTP status again, for scripts that keep only the body.
    status: u16,
    title: String,
    message: String,
    /// Input refused field by field (422): each field's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<BTreeMap<String, String>>,
}

fn api_error_body(
    status: StatusCode,
    title: &str,
    message: &str,
    fields: Option<BTreeMap<String, String>>,
) -> Response {
    let body = ErrorJson {
        error: ErrorDetail {
            status: status.as_u16(),
            title: title.to_owned(),
            message: message.to_owned(),
            fields,
        },
    };
    (status, Json(body)).into_response()
}

/// The longest text of someone else's error kept as the JSON body's message.
const FOREIGN_MESSAGE_BYTES: usize = 4096;

/// Under `/api/`, errors that did not come from [`ApiError`] — axum's own refusals of
/// malformed JSON, a non-numeric id, a method the route does not take — answer in the same
/// JSON error body, with their words as its message; headers such as `Allow` are kept.
pub(crate) async fn api_error_bodies(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, FOREIGN_MESSAGE_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("Error");
    let message = if text.is_empty() { reason } else { &text };
    let mut response = api_error_body(status, reason, message, None);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

pub(crate) type AppResult<T> = Result<T, AppError>;
pub(crate) type ApiResult<T> = Result<T, ApiError>;
