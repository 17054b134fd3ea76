use super::*;
use crate::{
    domain::{GroupPath, Id},
    storage::GroupRecord,
};

fn group(id: Id, parent_id: Option<Id>, name: &str) -> GroupRecord {
    GroupRecord {
        id,
        parent_id,
        name: name.into(),
        description: String::new(),
        enabled: 1,
        agent_count: 0,
    }
}

fn sample() -> OrgTree {
    OrgTree::new(vec![
        group(1, None, "Europe"),
        group(2, Some(1), "Paris"),
        group(3, Some(2), "Night shift"),
        group(4, None, "Support"),
    ])
}

#[test]
fn paths_and_subtrees() {
    let tree = sample();
    assert_eq!(tree.path(3), "Europe/Paris/Night shift");
    assert_eq!(tree.subtree(1), vec![1, 2, 3]);
    assert!(tree.is_in_subtree(3, 1));
    assert!(!tree.is_in_subtree(1, 3));
    assert_eq!(
        tree.find(&GroupPath::parse("europe/PARIS").unwrap()),
        Some(2)
    );
    assert_eq!(tree.find(&GroupPath::parse("Europe/Lyon").unwrap()), None);
}

#[test]
fn an_administrator_sees_only_below_their_groups() {
    let access = Access::limited_to(sample(), &[2]);
    assert!(access.can_see(2) && access.can_see(3));
    assert!(!access.can_see(1) && !access.can_see(4) && !access.can_see(99));
    assert_eq!(access.roots(), vec![2]);
    assert_eq!(access.visible_path(3), "Paris / Night shift");
    assert_eq!(access.visible_path_with(3, "/"), "Paris/Night shift");
    let master = Access::everything(sample());
    assert_eq!(master.roots(), vec![1, 4]);
    assert!(master.can_see(4) && !master.can_see(99));
}

fn rights_over_europe() -> Access {
    Access::limited_to(sample(), &[1])
}

#[test]
fn groups_move_only_where_the_rules_allow() {
    let admin = rights_over_europe();
    assert_eq!(admin.move_group(3, Some(1)), Ok(Some(1)));
    assert_eq!(admin.move_group(2, Some(3)), Err(MoveRefusal::IntoItself));
    assert_eq!(admin.move_group(2, Some(2)), Err(MoveRefusal::IntoItself));
    assert_eq!(
        admin.move_group(2, Some(4)),
        Err(MoveRefusal::UnknownParent)
    );
    assert_eq!(
        admin.move_group(2, None),
        Err(MoveRefusal::TopLevelNeedsMaster)
    );
    assert_eq!(
        admin.move_group(1, None),
        Ok(None),
        "their own root stays at the top"
    );
    let below_hidden = Access::limited_to(sample(), &[2]);
    assert_eq!(
        below_hidden.move_group(2, None),
        Ok(Some(1)),
        "stays under the hidden group"
    );
    assert_eq!(
        below_hidden.move_group(3, Some(2)),
        Ok(Some(2)),
        "below their own group, theirs to move"
    );
    let master = Access::everything(sample());
    assert_eq!(master.move_group(3, None), Ok(None));
    assert!(master.may_create_under(None) && !admin.may_create_under(None));
    assert!(admin.may_create_under(Some(2)) && !admin.may_create_under(Some(4)));
}

#[test]
fn a_group_leaves_the_group_above_it_only_by_that_groups_administrator() {
    // Assigned to Paris (2, under Europe, 1, managed by someone else) and to Support (4).
    let admin = Access::limited_to(sample(), &[2, 4]);
    assert_eq!(
        admin.move_group(2, Some(4)),
        Err(MoveRefusal::ParentNotManaged),
        "Paris and its agents would leave Europe's administrator"
    );
    assert_eq!(
        admin.move_group(4, Some(2)),
        Err(MoveRefusal::ParentNotManaged),
        "the top level is the masters'"
    );
    assert_eq!(
        admin.move_group(2, Some(1)),
        Err(MoveRefusal::UnknownParent)
    );
    assert_eq!(
        admin.move_group(3, Some(4)),
        Ok(Some(4)),
        "Night shift is below Paris: theirs"
    );
    let master = Access::everything(sample());
    assert_eq!(master.move_group(2, Some(4)), Ok(Some(4)));
}

#[test]
fn a_master_cannot_delete_or_demote_themselves() {
    assert_eq!(may_delete_admin(7, 7), Err(AdminRefusal::DeleteSelf));
    assert_eq!(may_delete_admin(7, 8), Ok(()));
    assert!(kept_master_flag(7, 7, false));
    assert!(!kept_master_flag(7, 8, false));
}

#[test]
fn children_come_in_natural_order_whatever_order_the_groups_arrive_in() {
    let tree = OrgTree::new(vec![
        group(1, None, "Tier 10"),
        group(2, None, "tier 2"),
        group(3, None, "Apac"),
        group(4, None, "Tier 1"),
        group(5, None, "emea"),
    ]);
    let names: Vec<&str> = tree
        .children(None)
        .iter()
        .map(|id| tree.get(*id).unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["Apac", "emea", "Tier 1", "tier 2", "Tier 10"]);
}

#[test]
fn a_groups_count_includes_every_group_below_it() {
    let with = |id, parent, count| GroupRecord {
        agent_count: count,
        ..group(id, parent, "G")
    };
    let tree = OrgTree::new(vec![
        with(1, None, 0),
        with(2, Some(1), 300),
        with(3, Some(2), 600),
        with(4, None, 7),
    ]);
    assert_eq!(
        tree.agents_below(1),
        900,
        "EMEA 0 with 900 agents below says 900"
    );
    assert_eq!(tree.agents_below(3), 600);
    assert_eq!(tree.agents_below(4), 7);
}

#[test]
fn counts_add_up_along_a_deep_chain_and_a_missing_parent_starts_a_top() {
    let with = |id, parent, count| GroupRecord {
        agent_count: count,
        ..group(id, parent, "G")
    };
    // 5,000 groups one below the other, one agent each: summed once, not per group.
    let chain: Vec<GroupRecord> = (1..=5_000)
        .map(|id| with(id, (id > 1).then(|| id - 1), 1))
        .collect();
    let tree = OrgTree::new(chain);
    assert_eq!(tree.agents_below(1), 5_000);
    assert_eq!(tree.agents_below(4_001), 1_000);
    assert_eq!(tree.agents_below(5_000), 1);
    // A scoped view may hold a group whose parent it does not have.
    let tree = OrgTree::new(vec![with(10, Some(99), 2), with(11, Some(10), 3)]);
    assert_eq!(tree.agents_below(10), 5);
    assert_eq!(tree.agents_below(99), 0, "an unknown group has none");
}
