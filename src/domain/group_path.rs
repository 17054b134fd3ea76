use super::{GroupName, TextError};

/// A group's place in the tree written as names joined by `/`, e.g. `Support/Tier 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPath(Vec<GroupName>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupPathError {
    #[error("the group path is empty; write it as \"Parent/Child\"")]
    Empty,
    #[error("in the group path: {0}")]
    Segment(#[from] TextError),
}

impl GroupPath {
    pub fn parse(raw: &str) -> Result<GroupPath, GroupPathError> {
        let segments: Vec<&str> = raw.split('/').map(str::trim).collect();
        if segments.iter().all(|segment| segment.is_empty()) {
            return Err(GroupPathError::Empty);
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
    }
}
