//! The Admin Center's frame: the header, the home page, and the tree's lazily loaded agents.
//! The tree itself is built in [`super::tree`].

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{
    AppState,
    auth::AdminUser,
    bulk::BulkView,
    error::{AppError, AppResult},
    forms::FieldErrors,
    tree::{AGENTS_PER_PAGE, AgentLeaf, AgentMatches, AgentsFrom, Selection, TreeItem, TreeView},
};
use crate::domain::Id;

/// The header: product, signed-in administrator, sign-out.
pub(crate) struct Chrome {
    pub(crate) user_name: String,
    pub(crate) user_email: String,
    pub(crate) csrf: String,
    pub(crate) is_master: bool,
}

impl Chrome {
    pub(crate) fn new(user: &AdminUser) -> Chrome {
        Chrome {
            user_name: user.admin.name.clone(),
            user_email: user.admin.email.clone(),
            csrf: user.session.csrf.clone(),
            is_master: user.admin.is_master(),
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct TreeQuery {
    #[serde(default)]
    pub(crate) q: String,
    /// What was just done, for the notice: `password` (their own changed).
    #[serde(default)]
    pub(crate) done: String,
    /// A bulk job just confirmed here (a top-level group's deletion).
    #[serde(default)]
    pub(crate) bulk: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/home.html")]
pub(crate) struct HomePage {
    pub(crate) chrome: Chrome,
    pub(crate) tree: TreeView,
    pub(crate) group_count: usize,
    pub(crate) errors: FieldErrors,
    pub(crate) new_group: NewGroupForm,
    pub(crate) notice: Option<&'static str>,
    pub(crate) bulk: Option<BulkView>,
}

/// The "new group" form's input, kept when it is shown again with errors.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewGroupForm {
    #[serde(default)]
    pub(crate) parent_id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
}

pub(crate) async fn home_page(
    state: &AppState,
    user: &AdminUser,
    query: &str,
    new_group: NewGroupForm,
    errors: FieldErrors,
) -> AppResult<HomePage> {
    let access = user.access(state).await?;
    let tree = TreeView::build(state, user, &access, Selection::default(), query).await?;
    Ok(HomePage {
        chrome: Chrome::new(user),
        group_count: access.visible_ids().len(),
        tree,
        errors,
        new_group,
        notice: None,
        bulk: None,
    })
}

pub(crate) async fn home(
    State(state): State<AppState>,
    user: AdminUser,
    Query(query): Query<TreeQuery>,
) -> AppResult<HomePage> {
    let mut page = home_page(
        &state,
        &user,
        &query.q,
        NewGroupForm::default(),
        FieldErrors::default(),
    )
    .await?;
    page.bulk = BulkView::shown_in(&state, &user, None, &query.bulk).await?;
    page.notice = match query.done.as_str() {
        "password" => {
            Some("Your password is changed. Your other sessions and API tokens have ended.")
        }
        "group-deleted" => Some("Group deleted."),
        "admin-deleted" => Some("Administrator deleted."),
        _ => None,
    };
    Ok(page)
}

/// The live filter's search of every agent this administrator sees, as HTML for the script
/// to insert above the tree: the filter alone sees only agents of groups already opened.
#[derive(Template, WebTemplate)]
#[template(path = "partials/tree_matches.html")]
pub(crate) struct TreeMatches {
    matches: AgentMatches,
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn tree_search(
    State(state): State<AppState>,
    user: AdminUser,
    Query(search): Query<SearchQuery>,
) -> AppResult<TreeMatches> {
    let access = user.access(&state).await?;
    let query = search.q.trim().to_lowercase();
    let matches = AgentMatches::find(&state, &access, &query, Selection::default()).await?;
    Ok(TreeMatches { matches })
}

/// The tree's lazy part: one page of a group's agents, as HTML for the script to insert.
#[derive(Template, WebTemplate)]
#[template(path = "partials/tree_agents.html")]
pub(crate) struct TreeAgents {
    pub(crate) items: Vec<TreeItem>,
}

pub(crate) async fn tree_agents(
    State(state): State<AppState>,
    user: AdminUser,
    Path(group_id): Path<Id>,
    Query(from): Query<AgentsFrom>,
) -> AppResult<TreeAgents> {
    let access = user.access(&state).await?;
    if !access.can_see(group_id) {
        return Err(AppError::NotFound);
    }
    let agents = state
        .storage
        .agents_in_group(group_id, AGENTS_PER_PAGE, from.cursor().as_ref())
        .await?;
    let total = access
        .tree
        .get(group_id)
        .map_or(0, |group| group.agent_count);
    let mut items: Vec<TreeItem> = agents
        .iter()
        .map(|agent| TreeItem::Agent(AgentLeaf::new(agent, Selection::default())))
        .collect();
    if let Some((next, remaining)) = from.next(&agents, total) {
        items.push(TreeItem::MoreAgents {
            group_id,
            from: next,
            remaining,
        });
    }
    Ok(TreeAgents { items })
}
