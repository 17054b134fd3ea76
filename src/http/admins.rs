//! Administrators: master administrators create them, assign their groups, change their
//! email, set their password, remove them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::RawForm;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    audit::{self, Changes},
    auth::AdminUser,
    center::Chrome,
    confirm::{ConfirmDelete, Question, confirm_page},
    error::{AppError, AppResult},
    forms::{FieldErrors, ResultExt, datetime},
    tree::{Selection, TreeItem, TreeView},
};
use crate::{
    accounts::new_password_hash,
    domain::{AgentName, Email, Id, natural_cmp},
    org::{Access, kept_master_flag, may_delete_admin},
    storage::{AdminRecord, AuditAction, NewAdmin, NewAuditEvent},
};

/// Checkbox lists post the same key many times, which `Form` cannot keep, so the form is
/// read from its raw pairs.
#[derive(Debug, Default)]
pub(crate) struct AdminForm {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) is_master: bool,
    pub(crate) group_ids: Vec<Id>,
}

impl AdminForm {
    fn from_raw(raw: &[u8]) -> AdminForm {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).unwrap_or_default();
        let mut form = AdminForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "name" => form.name = value,
                "email" => form.email = value,
                "password" => form.password = value,
                "is_master" => form.is_master = !value.is_empty(),
                // A group sent twice (a crafted form) is one group.
                "group_id" => {
                    if let Ok(id) = value.parse::<Id>()
                        && !form.group_ids.contains(&id)
                    {
                        form.group_ids.push(id);
                    }
                }
                _ => {}
            }
        }
        form
    }
}

/// An administrator's rights in words, for the audit log: "master", or the groups' paths.
fn groups_detail(access: &Access, is_master: bool, group_ids: &[Id]) -> String {
    if is_master {
        return "master".to_owned();
    }
    let mut paths: Vec<String> = group_ids
        .iter()
        .map(|id| access.visible_path(*id))
        .collect();
    paths.sort();
    match paths.is_empty() {
        true => "no groups".to_owned(),
        false => paths.join(", "),
    }
}

/// The setup link's form says the same.
pub(crate) const EMAIL_TAKEN: &str = "An administrator with this email already exists";

pub(crate) struct GroupChoice {
    pub(crate) id: Id,
    pub(crate) path: String,
    pub(crate) checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/admin.html")]
pub(crate) struct AdminPage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) admin_id: Option<Id>,
    pub(crate) is_self: bool,
    pub(crate) form: AdminForm,
    pub(crate) groups: Vec<GroupChoice>,
    pub(crate) errors: FieldErrors,
    pub(crate) created_at: String,
    pub(crate) notice: Option<&'static str>,
}

async fn admin_page(
    state: &AppState,
    user: &AdminUser,
    target: Option<&AdminRecord>,
    form: AdminForm,
    errors: FieldErrors,
) -> AppResult<AdminPage> {
    let access = user.access(state).await?;
    let selection = Selection {
        admin: target.map(|a| a.id),
        ..Selection::default()
    };
    let tree = TreeView::build(state, user, &access, selection, "").await?;
    let mut groups: Vec<GroupChoice> = access
        .visible_ids()
        .into_iter()
        .map(|id| GroupChoice {
            id,
            path: access.visible_path(id),
            checked: form.group_ids.contains(&id),
        })
        .collect();
    groups.sort_by(|a, b| natural_cmp(&a.path, &b.path));
    Ok(AdminPage {
        chrome: Chrome::new(user),
        tree,
        admin_id: target.map(|a| a.id),
        is_self: target.is_some_and(|a| a.id == user.admin.id),
        groups,
        errors,
        created_at: target.map(|a| datetime(a.created_at)).unwrap_or_default(),
        notice: None,
        form,
    })
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    user: AdminUser,
) -> AppResult<AdminPage> {
    user.require_master()?;
    admin_page(
        &state,
        &user,
        None,
        AdminForm::default(),
        FieldErrors::default(),
    )
    .await
}

fn known_groups(access: &Access, ids: &[Id], errors: &mut FieldErrors) -> Vec<Id> {
    let known: Vec<Id> = ids
        .iter()
        .copied()
        .filter(|id| access.can_see(*id))
        .collect();
    if known.len() != ids.len() {
        errors.add(
            "groups",
            "Some of the chosen groups no longer exist; check the list again",
        );
    }
    known
}

pub(crate) async fn create(
    State(state): State<AppState>,
    user: AdminUser,
    RawForm(raw): RawForm,
) -> AppResult<Response> {
    user.require_master()?;
    let form = AdminForm::from_raw(&raw);
    let access = user.access(&state).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", AgentName::parse(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    let password_ok = errors
        .check(
            "password",
            state.config.password_policy.check(&form.password),
        )
        .is_some();
    let group_ids = known_groups(&access, &form.group_ids, &mut errors);
    if let (Some(name), Some(email), true, true) = (&name, &email, password_ok, errors.is_empty()) {
        let password = form.password.clone();
        let hash = new_password_hash(password).await;
        let new = NewAdmin {
            email,
            name,
            password_hash: &hash,
            is_master: form.is_master,
            group_ids: &group_ids,
        };
        let created = state.storage.create_admin(new).await.on_duplicate(
            &mut errors,
            "email",
            EMAIL_TAKEN,
        )?;
        if let Some(id) = created {
            let subject = format!("{} <{email}>", name.as_str());
            let detail = groups_detail(&access, form.is_master, &group_ids);
            let event = NewAuditEvent {
                detail: &detail,
                ..NewAuditEvent::new(AuditAction::AdminCreated, &subject)
            };
            audit::record(&state, &user, event).await?;
            return Ok(Redirect::to(&format!("/admin/admins/{id}?done=created")).into_response());
        }
    }
    let form = AdminForm {
        password: String::new(),
        ..form
    };
    let page = admin_page(&state, &user, None, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn target_admin(state: &AppState, user: &AdminUser, id: Id) -> AppResult<AdminRecord> {
    user.require_master()?;
    state
        .storage
        .admin_by_id(id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize, Default)]
pub(crate) struct AdminQuery {
    #[serde(default)]
    done: String,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Query(query): Query<AdminQuery>,
) -> AppResult<AdminPage> {
    let target = target_admin(&state, &user, id).await?;
    let form = AdminForm {
        name: target.name.clone(),
        email: target.email.clone(),
        password: String::new(),
        is_master: target.is_master(),
        group_ids: state.storage.admin_group_ids(id).await?,
    };
    let mut page = admin_page(&state, &user, Some(&target), form, FieldErrors::default()).await?;
    page.notice = match query.done.as_str() {
        "created" => Some("Administrator created."),
        "saved" => Some("Administrator saved."),
        "password" => Some("Password set. Their sessions and API tokens have ended."),
        _ => None,
    };
    Ok(page)
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// A master sets another administrator's password (or their own, without the current one:
/// they hold the session): the way back in for an administrator who forgot theirs.
#[tracing::instrument(skip_all, fields(target_admin_id = id))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let target = target_admin(&state, &user, id).await?;
    if let Err(error) = state.config.password_policy.check(&form.password) {
        let mut errors = FieldErrors::default();
        errors.add("new_password", error.to_string());
        let shown = AdminForm {
            name: target.name.clone(),
            email: target.email.clone(),
            is_master: target.is_master(),
            group_ids: state.storage.admin_group_ids(id).await?,
            ..AdminForm::default()
        };
        let page = admin_page(&state, &user, Some(&target), shown, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = new_password_hash(form.password).await;
    // A master resetting their own keeps the session they do it from.
    let keep = (target.id == user.admin.id).then_some(user.session.token_hash.as_str());
    state.storage.set_admin_password(id, &hash, keep).await?;
    let subject = format!("{} <{}>", target.name, target.email);
    audit::record(
        &state,
        &user,
        NewAuditEvent::new(AuditAction::AdminPasswordSet, &subject),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/admins/{id}?done=password")).into_response())
}

#[tracing::instrument(skip_all, fields(target_admin_id = id))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
    RawForm(raw): RawForm,
) -> AppResult<Response> {
    let target = target_admin(&state, &user, id).await?;
    let form = AdminForm::from_raw(&raw);
    let access = user.access(&state).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", AgentName::parse(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    let group_ids = known_groups(&access, &form.group_ids, &mut errors);
    let is_master = kept_master_flag(user.admin.id, target.id, form.is_master);
    if let (Some(name), Some(email), true) = (&name, &email, errors.is_empty()) {
        let before_groups = state.storage.admin_group_ids(id).await?;
        let changes = Changes::default()
            .field("name", &target.name, name.as_str())
            .field("email", &target.email, email.as_str())
            .field(
                "rights",
                &groups_detail(&access, target.is_master(), &before_groups),
                &groups_detail(&access, is_master, &group_ids),
            );
        let saved = state
            .storage
            .update_admin(id, email, name, is_master, &group_ids)
            .await
            .on_duplicate(&mut errors, "email", EMAIL_TAKEN)?;
        if saved.is_some() {
            let subject = format!("{} <{email}>", name.as_str());
            let detail = changes.text();
            let event = NewAuditEvent {
                detail: &detail,
                ..NewAuditEvent::new(AuditAction::AdminChanged, &subject)
            };
            audit::record(&state, &user, event).await?;
            return Ok(Redirect::to(&format!("/admin/admins/{id}?done=saved")).into_response());
        }
    }
    let page = admin_page(&state, &user, Some(&target), form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Asks before deleting an administrator.
pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
) -> AppResult<ConfirmDelete> {
    let target = target_admin(&state, &user, id).await?;
    let access = user.access(&state).await?;
    let question = Question {
        heading: format!("Delete administrator {}?", target.name),
        consequence: format!(
            "{} <{}> will be deleted; their sessions and API tokens end at once. Their agents \
             and groups stay. This cannot be undone.",
            target.name, target.email
        ),
        action: format!("/admin/admins/{id}/delete"),
        back: format!("/admin/admins/{id}"),
        button: "Delete administrator",
    };
    let selection = Selection {
        admin: Some(id),
        ..Selection::default()
    };
    confirm_page(&state, &user, &access, selection, question).await
}

#[tracing::instrument(skip_all, fields(target_admin_id = id))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AdminUser,
    Path(id): Path<Id>,
) -> AppResult<Response> {
    let target = target_admin(&state, &user, id).await?;
    if let Err(refusal) = may_delete_admin(user.admin.id, target.id) {
        let mut errors = FieldErrors::default();
        errors.add("delete", refusal.to_string());
        let form = AdminForm {
            name: target.name.clone(),
            email: target.email.clone(),
            is_master: true,
            ..AdminForm::default()
        };
        let page = admin_page(&state, &user, Some(&target), form, errors).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    state.storage.delete_admin(id).await?;
    let subject = format!("{} <{}>", target.name, target.email);
    audit::record(
        &state,
        &user,
        NewAuditEvent::new(AuditAction::AdminDeleted, &subject),
    )
    .await?;
    Ok(Redirect::to("/admin?done=admin-deleted").into_response())
}
