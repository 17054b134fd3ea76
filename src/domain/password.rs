//! The password policy and Argon2id hashing.

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Block, Params, PasswordVerifier, Version};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Lower,
    Upper,
    Digit,
    Symbol,
}

impl CharClass {
    fn matches(self, c: char) -> bool {
        match self {
            CharClass::Lower => c.is_lowercase(),
            CharClass::Upper => c.is_uppercase(),
            CharClass::Digit => c.is_numeric(),
            CharClass::Symbol => !c.is_alphanumeric(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            CharClass::Lower => "a lowercase letter",
            CharClass::Upper => "an uppercase letter",
            CharClass::Digit => "a digit",
            CharClass::Symbol => "a symbol",
        }
    }
}

/// What a password must satisfy. Passwords are taken exactly as written: never trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
    required: Vec<CharClass>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password is required")]
    Missing,
    #[error("Password is {length} characters long; at least {min} are required")]
    TooShort { length: usize, min: usize },
    #[error("Password is {length} characters long; at most {max} are allowed")]
    TooLong { length: usize, max: usize },
    #[error("Password needs {0}")]
    MissingClass(&'static str),
    /// No sign-in form can type one, and a line break is most likely two lines pasted as one.
    #[error("Password cannot contain a line break, a tab or another control character")]
    ControlCharacter,
}

impl PasswordPolicy {
    /// Longer passwords only cost hashing time; 256 is far beyond any passphrase.
    pub const MAX_CHARS: usize = 256;

    /// `required` lists character classes, comma-separated: `lower,upper,digit,symbol`.
    pub fn new(min_chars: usize, required: &str) -> anyhow::Result<PasswordPolicy> {
        let required = required
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| match name.to_ascii_lowercase().as_str() {
                "lower" => Ok(CharClass::Lower),
                "upper" => Ok(CharClass::Upper),
                "digit" => Ok(CharClass::Digit),
                "symbol" => Ok(CharClass::Symbol),
                other => anyhow::bail!(
                    "unknown password character class {other:?}; use lower, upper, digit or symbol"
                ),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            (1..=Self::MAX_CHARS).contains(&min_chars),
            "the minimum password length must be between 1 and {}",
            Self::MAX_CHARS
        );
        Ok(PasswordPolicy {
            min_chars,
            required,
        })
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    pub fn check(&self, password: &str) -> Result<(), PasswordError> {
        if password.is_empty() {
            return Err(PasswordError::Missing);
        }
        let length = password.chars().count();
        if length < self.min_chars {
            return Err(PasswordError::TooShort {
                length,
                min: self.min_chars,
            });
        }
        if length > Self::MAX_CHARS {
            return Err(PasswordError::TooLong {
                length,
                max: Self::MAX_CHARS,
            });
        }
        if password.chars().any(char::is_control) {
            return Err(PasswordError::ControlCharacter);
        }
        match self
            .required
            .iter()
            .find(|class| !password.chars().any(|c| class.matches(c)))
        {
            Some(class) => Err(PasswordError::MissingClass(class.describe())),
            None => Ok(()),
        }
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_chars: 8,
            required: Vec::new(),
        }
    }
}

thread_local! {
    /// Argon2's 19 MiB of working memory, kept per thread for bulk hashing. A fresh block per
    /// hash costs page faults on every call and, with glibc raising its mmap threshold after
    /// the first free, leaves one such block cached in every thread's arena.
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2id with the crate's defaults, which are OWASP's minimum: m=19456 KiB, t=2, p=1, in
/// the standard PHC string form. About 25 ms of one core: call it from a blocking thread. The
/// working memory is reused by the next hash on the same thread (imports hash thousands).
pub fn hash_password(password: &str) -> String {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt: [u8; 16] = rand::random();
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    WORKING_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != params.block_count() {
            *memory = vec![Block::default(); params.block_count()];
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut output,
                memory.as_mut_slice(),
            )
            .expect("a policy-checked password and a 16-byte salt are valid Argon2 inputs")
    });
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    )
}

/// False for a wrong password and for a stored hash that does not parse.
pub fn verify_password(hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn policy_counts_characters_and_never_trims() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.check(""), Err(PasswordError::Missing));
        assert_eq!(
            policy.check("1234567"),
            Err(PasswordError::TooShort { length: 7, min: 8 })
        );
        assert!(
            policy.check("   1234 ").is_ok(),
            "spaces count as characters"
        );
        assert!(matches!(
            policy.check(&"x".repeat(257)),
            Err(PasswordError::TooLong { .. })
        ));
    }

    #[test]
    fn a_password_with_a_control_character_is_refused() {
        let policy = PasswordPolicy::default();
        for typed in [
            "pw-line-one\npw-line-two",
            "password\r",
            "pass\tword1",
            "pass\u{7f}word",
            "pass\u{85}word",
        ] {
            assert_eq!(
                policy.check(typed),
                Err(PasswordError::ControlCharacter),
                "{typed:?}"
            );
        }
        assert!(
            policy.check("pässwörd ünïcode").is_ok(),
            "letters of any script are fine"
        );
    }

    #[test]
    fn character_classes_are_configurable() {
        let policy = PasswordPolicy::new(8, "upper, digit").unwrap();
        assert_eq!(
            policy.check("abcdefgh"),
            Err(PasswordError::MissingClass("an uppercase letter"))
        );
        assert_eq!(
            policy.check("Abcdefgh"),
            Err(PasswordError::MissingClass("a digit"))
        );
        assert!(policy.check("Abcdefg1").is_ok());
        assert!(PasswordPolicy::new(8, "emoji").is_err());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_password("000123 secret");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&hash, "000123 secret"));
        assert!(!verify_password(&hash, "000123 secret "));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn hashes_verify_with_the_standard_verifier() {
        let first = hash_password("00012345");
        let second = hash_password("00012345");
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "a fresh salt every time");
        assert!(verify_password(&first, "00012345") && verify_password(&second, "00012345"));
        assert!(!verify_password(&first, "0012345"));
        let standard = Argon2::default()
            .hash_password(b"00012345")
            .unwrap()
            .to_string();
        assert_eq!(first.len(), standard.len());
        assert_eq!(
            first[..31],
            standard[..31],
            "same algorithm, version and parameters"
        );
    }
}
