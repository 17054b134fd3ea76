//! What a valid row does, given the mode and the agent its email already belongs to, if any:
//! the rules of modes in one place (issue "import lifecycle"), for the import and its check.

use super::RowOutcome;
use crate::{
    domain::Id,
    storage::{ExistingAgent, ImportMode, ImportOptions},
};

/// Where a row's agent goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Group(Id),
    /// A subgroup a check found missing: an import would create it. No agent is in it yet.
    NewGroup,
}

/// What to do with one valid row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Create,
    Update {
        agent_id: Id,
    },
    /// Decided now: an error, a skip, or a check's verdict.
    Decided(RowOutcome),
}

pub const EXISTS: &str = "an agent with this email already exists";

/// Decides one row. `existing` is the agent that has the row's email; `group_name` names a group
/// when the administrator who sent the file may see it.
pub fn plan_row(
    options: ImportOptions,
    target: Target,
    existing: Option<&ExistingAgent>,
    has_password: bool,
    group_name: &dyn Fn(Id) -> Option<String>,
) -> Plan {
    let plan = match existing {
        None if !has_password => Plan::Decided(RowOutcome::Error(
            "Password is empty; a new agent needs a password (only an existing agent may keep theirs)"
                .to_owned(),
        )),
        None => Plan::Create,
        Some(agent) if target != Target::Group(agent.group_id) => {
            let place = match group_name(agent.group_id) {
                Some(name) => format!("in the group {name}"),
                None => "in a group you do not manage".to_owned(),
            };
            Plan::Decided(RowOutcome::Error(format!(
                "{EXISTS} {place}; an import only creates or changes agents of the group it targets"
            )))
        }
        Some(agent) => match options.mode {
            ImportMode::Create => Plan::Decided(RowOutcome::email_taken()),
            ImportMode::Update => Plan::Update { agent_id: agent.id },
            ImportMode::Skip => Plan::Decided(RowOutcome::Skipped(EXISTS.to_owned())),
        },
    };
    if !options.dry_run {
        return plan;
    }
    // A check says what the import would do, and does nothing.
    Plan::Decided(match plan {
        Plan::Create => RowOutcome::WouldCreate,
        Plan::Update { .. } => RowOutcome::WouldUpdate,
        Plan::Decided(RowOutcome::Skipped(why)) => RowOutcome::WouldSkip(why),
        Plan::Decided(other) => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Id = 1;
    const ELSEWHERE: Id = 2;
    const HIDDEN: Id = 3;

    fn agent(group_id: Id) -> ExistingAgent {
        ExistingAgent {
            id: 42,
            group_id,
            email_key: "ann@example.com".into(),
        }
    }

    fn plan(mode: ImportMode, dry_run: bool, existing: Option<Id>, password: bool) -> Plan {
        let names = |id: Id| (id == ELSEWHERE).then(|| "Support/Tier 2".to_owned());
        let existing = existing.map(agent);
        let options = ImportOptions {
            mode,
            dry_run,
            ..ImportOptions::default()
        };
        plan_row(
            options,
            Target::Group(HERE),
            existing.as_ref(),
            password,
            &names,
        )
    }

    fn cell(plan: Plan) -> String {
        match plan {
            Plan::Decided(outcome) => outcome.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn each_mode_treats_an_agent_of_the_group_its_own_way() {
        use ImportMode::*;
        assert_eq!(plan(Create, false, None, true), Plan::Create);
        assert!(cell(plan(Create, false, Some(HERE), true)).starts_with("Error: an agent with"));
        assert_eq!(
            plan(Update, false, Some(HERE), false),
            Plan::Update { agent_id: 42 }
        );
        assert_eq!(
            cell(plan(Skip, false, Some(HERE), true)),
            "Skipped: an agent with this email already exists"
        );
        assert!(cell(plan(Update, false, None, false)).contains("a new agent needs a password"));
    }

    #[test]
    fn another_group_fails_in_every_mode_named_only_when_visible() {
        for mode in ImportMode::ALL {
            let seen = cell(plan(mode, false, Some(ELSEWHERE), true));
            assert!(seen.contains("in the group Support/Tier 2"), "{seen}");
            let hidden = cell(plan(mode, true, Some(HIDDEN), true));
            assert!(hidden.contains("in a group you do not manage"), "{hidden}");
            assert!(!hidden.contains("Tier"), "{hidden}");
        }
    }

    #[test]
    fn a_check_says_what_would_happen() {
        use ImportMode::*;
        assert_eq!(cell(plan(Create, true, None, true)), "Would create");
        assert_eq!(cell(plan(Update, true, Some(HERE), true)), "Would update");
        assert_eq!(
            cell(plan(Skip, true, Some(HERE), true)),
            "Would skip: an agent with this email already exists"
        );
        assert!(cell(plan(Create, true, Some(HERE), true)).starts_with("Error: "));
    }
}
