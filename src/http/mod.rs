//! Thin handlers: extract → call → render. One file per area, each with its page structs.

mod admins;
mod agent_edits;
mod agent_portal;
mod agents;
mod api;
mod assets;
mod audit;
mod auth;
mod bulk;
mod center;
mod confirm;
pub(crate) mod error;
mod export;
mod forms;
mod group_delete;
mod group_edits;
mod groups;
mod health;
mod import_undo;
mod import_view;
mod imports;
mod login;
mod own_password;
pub mod session;
mod setup;
pub(crate) mod timeouts;
mod tree;
mod upload;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, header},
    middleware,
    response::Redirect,
    routing::{get, post},
};
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};

use crate::{config::Config, jobs::WorkerStatus, storage::Storage};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) storage: Storage,
    pub(crate) config: Arc<Config>,
    /// Whether this process's import worker runs, for `/readyz`.
    pub(crate) worker: WorkerStatus,
}

impl AppState {
    pub(crate) fn new(storage: Storage, config: Config, worker: WorkerStatus) -> AppState {
        AppState {
            storage,
            config: Arc::new(config),
            worker,
        }
    }
}

/// No inline script or style anywhere, so the policy can forbid them outright.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn router(state: AppState) -> Router {
    // Room for the multipart envelope around the largest allowed file; the upload handler
    // enforces the exact file limit itself, with a clear message.
    let body_limit = usize::try_from(state.config.limits.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin") }))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/setup/{token}", get(setup::form).post(setup::submit))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/agent/login",
            get(agent_portal::login_form).post(agent_portal::login_submit),
        )
        .route("/agent", get(agent_portal::home))
        .route("/agent/logout", post(agent_portal::logout))
        .route(
            "/agent/password",
            get(own_password::agent_form).post(own_password::agent_submit),
        )
        .route("/admin", get(center::home))
        .route("/admin/tree/groups/{id}/agents", get(center::tree_agents))
        .route("/admin/tree/search", get(center::tree_search))
        .route("/admin/groups", post(groups::create))
        .route("/admin/groups/{id}", get(groups::show).post(groups::update))
        .route(
            "/admin/groups/{id}/delete",
            get(group_delete::confirm_delete).post(group_delete::delete),
        )
        .route("/admin/groups/{id}/agents", post(agents::create))
        .route("/admin/groups/{id}/agents/new", get(agents::new_form))
        .route("/admin/groups/{id}/agents/bulk", post(bulk::submit))
        .route("/admin/agents/{id}", get(agents::show).post(agents::update))
        .route("/admin/agents/{id}/password", post(agents::set_password))
        .route(
            "/admin/agents/{id}/delete",
            get(agents::confirm_delete).post(agents::delete),
        )
        .route("/admin/admins", post(admins::create))
        .route("/admin/admins/new", get(admins::new_form))
        .route("/admin/admins/{id}", get(admins::show).post(admins::update))
        .route(
            "/admin/admins/{id}/delete",
            get(admins::confirm_delete).post(admins::delete),
        )
        .route("/admin/admins/{id}/password", post(admins::set_password))
        .route(
            own_password::ADMIN_PASSWORD_PAGE,
            get(own_password::admin_form).post(own_password::admin_submit),
        )
        .route(
            "/admin/groups/{id}/import",
            get(imports::page).post(imports::upload),
        )
        .route("/admin/audit", get(audit::page))
        .route("/admin/groups/{id}/export.csv", get(export::csv))
        .route("/admin/groups/{id}/export.xlsx", get(export::xlsx))
        .route("/admin/import-template.xlsx", get(imports::template_xlsx))
        .route("/admin/import-template.csv", get(imports::template_csv))
        .route("/admin/imports/{id}/result", get(imports::result))
        .route("/admin/imports/{id}/cancel", post(imports::cancel))
        .route(
            "/admin/imports/{id}/undo",
            get(import_undo::confirm).post(import_undo::submit),
        )
        .nest("/api/v1", api::router())
        .route("/static/app.css", get(assets::stylesheet))
        .route("/static/app.js", get(assets::script))
        .fallback(|| async { error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(
            state.config.body_timeout,
            timeouts::body_deadline,
        ))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
