//! Short human-entered texts: names, nicknames, descriptions.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{field} is {length} characters long; at most {max} are allowed")]
    TooLong {
        field: &'static str,
        length: usize,
        max: usize,
    },
    #[error("{0} contains a control character (a tab, line break or similar); remove it")]
    ControlCharacter(&'static str),
    #[error("{0} cannot contain \"/\", which separates groups in a path")]
    Slash(&'static str),
}

fn parse(field: &'static str, raw: &str, max: usize, required: bool) -> Result<String, TextError> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(TextError::Missing(field));
    }
    let length = text.chars().count();
    if length > max {
        return Err(TextError::TooLong { field, length, max });
    }
    if text.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter(field));
    }
    Ok(text.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, $required:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, TextError> {
                parse($field, raw, $max, $required).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// An agent's or administrator's display name: trimmed, 1 to 128 characters.
    AgentName, "Name", 128, true
);
text_type!(
    /// Optional short name shown to customers.
    Nickname, "Nickname", 64, false
);
text_type!(
    /// Free text about a group or an agent.
    Description, "Description", 1000, false
);

/// A group's name: like a name, but never containing `/`, so a path is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(raw: &str) -> Result<GroupName, TextError> {
        let name = parse("Group name", raw, 128, true)?;
        if name.contains('/') {
            return Err(TextError::Slash("Group name"));
        }
        Ok(GroupName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Sibling groups may not share a name, whatever its case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(AgentName::parse("  Ann Lee ").unwrap().as_str(), "Ann Lee");
        assert_eq!(AgentName::parse(" "), Err(TextError::Missing("Name")));
        assert!(AgentName::parse(&"é".repeat(128)).is_ok());
        assert!(matches!(
            AgentName::parse(&"é".repeat(129)),
            Err(TextError::TooLong { length: 129, .. })
        ));
        assert_eq!(
            AgentName::parse("Ann\u{7}Lee"),
            Err(TextError::ControlCharacter("Name"))
        );
        assert!(Nickname::parse("").is_ok());
    }

    #[test]
    fn group_names_refuse_slashes() {
        assert_eq!(GroupName::parse("A/B"), Err(TextError::Slash("Group name")));
        assert_eq!(GroupName::parse("Tier 1").unwrap().key(), "tier 1");
    }
}
