//! The page every delete goes through first: what will be deleted and what follows from it,
//! with the one button that does it and a way back. Plain HTML: it works without JavaScript.

use askama::Template;
use askama_web::WebTemplate;

use super::{
    AppState,
    auth::AdminUser,
    center::Chrome,
    error::AppResult,
    tree::{Selection, TreeItem, TreeView},
};
use crate::org::Access;

#[derive(Template, WebTemplate)]
#[template(path = "pages/confirm_delete.html")]
pub(crate) struct ConfirmDelete {
    chrome: Chrome,
    tree: TreeView,
    heading: String,
    /// What deleting does, in a sentence or two.
    consequence: String,
    /// Where the button posts.
    action: String,
    /// Where "Cancel" goes: the Properties page it came from.
    back: String,
    button: &'static str,
    /// A name to type before the button works (a group deleted with everything in it), and
    /// what was wrong with the last try.
    type_to_confirm: Option<String>,
    type_error: Option<&'static str>,
}

impl ConfirmDelete {
    /// Asks for `name` to be typed first.
    pub(crate) fn typing(mut self, name: &str, error: Option<&'static str>) -> ConfirmDelete {
        self.type_to_confirm = Some(name.to_owned());
        self.type_error = error;
        self
    }
}

/// What to ask.
pub(crate) struct Question {
    pub(crate) heading: String,
    pub(crate) consequence: String,
    pub(crate) action: String,
    pub(crate) back: String,
    pub(crate) button: &'static str,
}

pub(crate) async fn confirm_page(
    state: &AppState,
    user: &AdminUser,
    access: &Access,
    selection: Selection,
    question: Question,
) -> AppResult<ConfirmDelete> {
    let tree = TreeView::build(state, user, access, selection, "").await?;
    Ok(ConfirmDelete {
        chrome: Chrome::new(user),
        tree,
        heading: question.heading,
        consequence: question.consequence,
        action: question.action,
        back: question.back,
        button: question.button,
        type_to_confirm: None,
        type_error: None,
    })
}
