//! The order people expect names in: case-insensitive, and numbers by value ("Tier 2" before
//! "Tier 10", "agent 9" before "Agent 10"). [`natural_cmp`] compares two names in Rust (a
//! tree's groups); [`natural_key`] gives the text a database orders by to get the same order
//! (a group's 100,000 agents, paged by an index).

use std::{cmp::Ordering, iter::Peekable};

/// Compares two names naturally; equal names (ignoring case) compare equal.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (lowered(a), lowered(b));
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (x, y) = (digit_run(&mut a), digit_run(&mut b));
                // Without leading zeros, a longer run of digits is a larger number.
                match x.len().cmp(&y.len()).then_with(|| x.cmp(&y)) {
                    Ordering::Equal => {}
                    unequal => return unequal,
                }
            }
            (Some(x), Some(y)) => match x.cmp(&y) {
                Ordering::Equal => {
                    a.next();
                    b.next();
                }
                unequal => return unequal,
            },
        }
    }
}

/// A name's sort key: two keys compared byte by byte (Rust's `str` order, SQLite's BINARY
/// collation, PostgreSQL's "C" collation) compare as [`natural_cmp`] compares the names, so
/// equal keys are names equal but for case and leading zeros.
///
/// The name lower-cased, and each run of digits written as its length, then its digits
/// without leading zeros: "Tier 10" is "tier 210", "Tier 2" is "tier 12". The length's first
/// character is always a digit, so a number compares with the letters and signs around it as
/// its first digit does in [`natural_cmp`].
pub fn natural_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len() + 4);
    let mut chars = lowered(name);
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let value = digit_run(&mut chars);
            push_length(&mut key, value.len());
            key.push_str(&value);
        } else {
            key.push(c);
            chars.next();
        }
    }
    key
}

/// The name's characters lower-cased, one by one: a character whose lower case is two
/// ("İ" is "i̇") gives both, so comparing these compares the texts' lower cases.
fn lowered(text: &str) -> Peekable<impl Iterator<Item = char> + '_> {
    text.chars().flat_map(char::to_lowercase).peekable()
}

/// The run of ASCII digits next in `chars`, consumed, as its value's digits: no leading
/// zeros, so "0" and "000" are "". No character but an ASCII digit lower-cases to one.
fn digit_run(chars: &mut Peekable<impl Iterator<Item = char>>) -> String {
    let mut digits = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        if !(digits.is_empty() && c == '0') {
            digits.push(c);
        }
    }
    digits
}

/// Writes a run's length so that longer sorts after shorter and no length's text begins
/// another's: "0" to "8" for 0 to 8, then "9" followed by the length's own digits written
/// the same way ("9" "1" "9" for 9, "9" "2" "10" for 10), which no name comes near but which
/// keeps the key right for any length.
fn push_length(key: &mut String, length: usize) {
    if length < 9 {
        key.push(char::from(b'0' + length as u8));
    } else {
        let digits = length.to_string();
        key.push('9');
        push_length(key, digits.len());
        key.push_str(&digits);
    }
}

#[cfg(test)]
mod tests {
    use super::{natural_cmp, natural_key};
    use std::cmp::Ordering;

    #[test]
    fn numbers_by_value_letters_without_case() {
        let mut names = vec![
            "Person 10",
            "person 2",
            "Person 100",
            "Person 1",
            "EMEA",
            "emea 2",
            "Apac",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "Apac",
                "EMEA",
                "emea 2",
                "Person 1",
                "person 2",
                "Person 10",
                "Person 100"
            ]
        );
        assert_eq!(natural_cmp("Tier 007", "Tier 7"), Ordering::Equal);
        assert_eq!(natural_cmp("Müller", "müller"), Ordering::Equal);
        assert_eq!(
            natural_cmp("a99999999999999999999999", "a100000000000000000000000"),
            Ordering::Less,
            "no overflow"
        );
    }

    /// Names chosen where a key could go wrong: numbers against letters and signs on either
    /// side of the digits in ASCII, zero and leading zeros, numbers of 8, 9, 10 and 30 digits,
    /// case, accents, a letter whose lower case is two characters, scripts beyond Latin.
    const VARIED: &[&str] = &[
        "",
        "Agent 2",
        "Agent 10",
        "agent 2",
        "Agent 02",
        "Agent 010",
        "Agent 0",
        "Agent 00",
        "Agent",
        "Agent ",
        "Agent-1",
        "Agent/1",
        "Agent:1",
        "Agent 1a",
        "Agent 1:",
        "Agent 1/",
        "Agent 1 b",
        "Agent 12345678",
        "Agent 123456789",
        "Agent 1234567890",
        "Agent 999999999",
        "Agent 000000001234567890",
        "Agent 100000000000000000000000000000",
        "Agent 99999999999999999999999999999",
        "anna",
        "Anna",
        "ANNA 7",
        "Anna7",
        "bob",
        "Bob 3 x 4",
        "bob 3 x 10",
        "Carl",
        "Émile",
        "emile",
        "Ezra",
        "Zoë",
        "zoe",
        "ß",
        "ss",
        "İpek",
        "ipek",
        "i̇pek",
        "iz",
        "iя",
        "İ",
        "Юрий 2",
        "юрий 10",
        "李 3",
        "🙂 1",
        "9",
        "10",
        "0",
        ":",
        "/",
        "~",
    ];

    #[test]
    fn keys_compare_as_names_do() {
        for a in VARIED {
            for b in VARIED {
                assert_eq!(
                    natural_key(a).cmp(&natural_key(b)),
                    natural_cmp(a, b),
                    "{a:?} against {b:?} (keys {:?} and {:?})",
                    natural_key(a),
                    natural_key(b)
                );
            }
        }
    }

    #[test]
    fn sorting_by_key_is_sorting_naturally() {
        // Ties (equal but for case or leading zeros) go by position, as ids break them.
        let by_position = |names: &mut Vec<(usize, &str)>, cmp: &dyn Fn(&str, &str) -> Ordering| {
            names.sort_by(|(i, a), (j, b)| cmp(a, b).then(i.cmp(j)));
        };
        let mut natural: Vec<(usize, &str)> = VARIED.iter().copied().enumerate().collect();
        let mut keyed = natural.clone();
        by_position(&mut natural, &natural_cmp);
        by_position(&mut keyed, &|a, b| natural_key(a).cmp(&natural_key(b)));
        assert_eq!(keyed, natural);
        let order: Vec<&str> = keyed.iter().map(|(_, name)| *name).collect();
        let position = |name: &str| order.iter().position(|n| *n == name).unwrap();
        assert!(position("Agent 2") < position("Agent 10"));
        assert!(position("Anna") < position("bob") && position("bob") < position("Carl"));
    }

    #[test]
    fn generated_names_agree_too() {
        // Short names from an alphabet of the troublesome characters, from a fixed seed.
        const ALPHABET: &[char] = &[
            'a', 'A', 'b', '0', '1', '9', ' ', '-', ':', '/', 'é', 'É', 'İ', 'i', 'ß', 'я',
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let names: Vec<String> = (0..400)
            .map(|_| {
                let length = next() % 9;
                (0..length)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect()
            })
            .collect();
        let keys: Vec<String> = names.iter().map(|name| natural_key(name)).collect();
        for (a, key_a) in names.iter().zip(&keys) {
            for (b, key_b) in names.iter().zip(&keys) {
                assert_eq!(key_a.cmp(key_b), natural_cmp(a, b), "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn key_examples() {
        assert_eq!(natural_key("Tier 10"), "tier 210");
        assert_eq!(natural_key("Tier 2"), "tier 12");
        assert_eq!(natural_key("Tier 007"), natural_key("tier 7"));
        assert_eq!(natural_key("R0"), "r0");
        assert_eq!(
            natural_key(&format!("n{}", "7".repeat(12))),
            format!("n9212{}", "7".repeat(12))
        );
    }
}
