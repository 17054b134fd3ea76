use super::{GroupName, TextError};

/// A group's place in the tree written as names joined by `/`, e.g. `Support/Tier 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPath(Vec<GroupName>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupPathError {
    #[error("the group path is empty; write it as \"Parent/Child\"")]
    Empty,
    #[error("the group path has an empty name between two \"/\"; write it as \"Parent/Child\"")]
    EmptyName,
    #[error("in the group path: {0}")]
    Segment(#[from] TextError),
}

impl GroupPath {
    pub fn parse(raw: &str) -> Result<GroupPath, GroupPathError> {
        let segments: Vec<&str> = raw.split('/').map(str::trim).collect();
        if segments.iter().all(|segment| segment.is_empty()) {
            return Err(GroupPathError::Empty);
        }
        // A slash at either end is forgiven; one between two names is a typo that would
        // otherwise quietly name another group (`Bad//Path` as `Bad/Path`).
        let first = segments.iter().position(|segment| !segment.is_empty());
        let last = segments.iter().rposition(|segment| !segment.is_empty());
        if let (Some(first), Some(last)) = (first, last)
            && segments[first..=last]
                .iter()
                .any(|segment| segment.is_empty())
        {
            return Err(GroupPathError::EmptyName);
        }
        let names = segments
            .into_iter()
            .filter(|segment| !segment.is_empty())
            .map(GroupName::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(GroupPath(names))
    }

    pub fn segments(&self) -> &[GroupName] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_slashes() {
        let path = GroupPath::parse(" Support / Tier 1/").unwrap();
        let names: Vec<_> = path.segments().iter().map(GroupName::as_str).collect();
        assert_eq!(names, ["Support", "Tier 1"]);
        assert_eq!(GroupPath::parse(" / "), Err(GroupPathError::Empty));
        assert_eq!(
            GroupPath::parse("Bad//Path"),
            Err(GroupPathError::EmptyName)
        );
        assert_eq!(
            GroupPath::parse("Bad/ /Path"),
            Err(GroupPathError::EmptyName)
        );
    }
}
