//! Errors are pages: each maps to a status, a title and a message, rendered by `error.html`
//! for the web and as JSON under `/api/`. A 500 hides its cause from the user and logs it.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

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
    /// Also what another group's objects answer: their existence is not revealed.
    #[error("There is nothing here, or it is not yours to see.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
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
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
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
            AppError::Forbidden(_) => "Not allowed",
            AppError::BadRequest(_) => "That did not work",
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

/// The same errors for `/api/`: `{"error": {"status": 404, "title": ..., "message": ...}}`.
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
        let status = error.status();
        let body = serde_json::json!({
            "error": { "status": status.as_u16(), "title": error.title(), "message": error.to_string() }
        });
        let mut response = (status, Json(body)).into_response();
        if let Some(value) = error.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub(crate) type AppResult<T> = Result<T, AppError>;
pub(crate) type ApiResult<T> = Result<T, ApiError>;
