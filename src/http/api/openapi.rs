//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every `/api/v1` route, generated
//! from the handlers' own annotations and types, so it cannot drift from them. Served without
//! a token: it describes the API, it holds nothing of anyone's.

use std::sync::LazyLock;

use axum::{http::header, response::IntoResponse};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{agents, bulk, groups, imports};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        description = "The Admin Center's groups, agents, imports and audit log, with the web's \
                       rights: another group's objects answer 404. Ask `POST /api/v1/tokens` \
                       for a token and send it as `Authorization: Bearer <token>`."
    ),
    paths(
        document,
        super::create_token,
        super::revoke_token,
        groups::list,
        groups::create,
        groups::show,
        groups::update,
        groups::delete,
        agents::list,
        agents::create,
        agents::show,
        agents::update,
        agents::delete,
        bulk::submit,
        bulk::status,
        crate::http::audit::api,
        imports::group_imports,
        imports::upload,
        imports::status,
        imports::result,
        imports::cancel,
        imports::undo,
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "tokens", description = "Tokens for scripts"),
        (name = "groups", description = "The organization tree"),
        (name = "agents", description = "The agents of a group"),
        (name = "imports", description = "Agents from spreadsheets"),
        (name = "audit", description = "Who changed what"),
        (name = "meta", description = "This document"),
    ),
)]
struct ApiDoc;

/// The `bearer` scheme every route but the token request and this document asks for.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Built once: the document is the same for every request.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serializes")
});

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
    security(()),
)]
pub(crate) async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
