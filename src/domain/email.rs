use std::fmt;

/// A sign-in address: trimmed, at most 254 characters, valid syntax. `key()` is the form used
/// for uniqueness and lookups, so `Ann@Example.com` and `ann@example.com` are the same account,
/// and so are `zoe@bücher.de` and `zoe@xn--bcher-kva.de` (the domain in its IDNA ASCII form,
/// which is what a browser's email field sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
    key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Email is required")]
    Missing,
    #[error("Email is {0} characters long; at most 254 are allowed")]
    TooLong(usize),
    #[error("Email \"{0}\" is not a valid address; write it as name@example.com")]
    Invalid(String),
}

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(EmailError::Missing);
        }
        let length = address.chars().count();
        if length > Self::MAX_CHARS {
            return Err(EmailError::TooLong(length));
        }
        // email_address checks RFC 5322 syntax; a real mailbox also needs a dotted domain and
        // no spaces or quotes, which the RFC allows but no sign-in address uses.
        let invalid = || EmailError::Invalid(address.to_owned());
        let (local, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
        let domain_is_dotted = domain.contains('.') && !domain.ends_with('.');
        let plain = !address
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c.is_control());
        if !(domain_is_dotted && plain && email_address::EmailAddress::is_valid(address)) {
            return Err(invalid());
        }
        // Lower case and punycode, as UTS #46 maps a domain; a domain it refuses is no address.
        let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        Ok(Email {
            address: address.to_owned(),
            key: format!("{}@{ascii_domain}", local.to_lowercase()),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_folds_case() {
        let email = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ann.Lee@Example.COM");
        assert_eq!(email.key(), "ann.lee@example.com");
    }

    #[test]
    fn an_international_domain_is_one_address_in_either_form() {
        let unicode = Email::parse("Zoe@Bücher.de").unwrap();
        let ascii = Email::parse("zoe@xn--bcher-kva.de").unwrap();
        assert_eq!(unicode.key(), "zoe@xn--bcher-kva.de");
        assert_eq!(unicode.key(), ascii.key());
        assert_eq!(unicode.as_str(), "Zoe@Bücher.de", "shown as it was written");
        assert_eq!(
            Email::parse("ann@EXAMPLE.com").unwrap().key(),
            "ann@example.com"
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann lee@example.com",
            "a@b@c.com",
            "ann@example.com.",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(EmailError::Invalid(_))),
                "{bad} accepted"
            );
        }
        assert_eq!(Email::parse("   "), Err(EmailError::Missing));
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(matches!(Email::parse(&long), Err(EmailError::TooLong(_))));
    }
}
