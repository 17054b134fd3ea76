//! The order people expect names in: case-insensitive, and numbers by value ("Tier 2" before
//! "Tier 10", "agent 9" before "Agent 10").

use std::cmp::Ordering;

/// Compares two names naturally; equal names (ignoring case) compare equal.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                    let mut digits = String::new();
                    while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(c);
                        chars.next();
                    }
                    digits.trim_start_matches('0').to_owned()
                };
                let (x, y) = (number(&mut a), number(&mut b));
                // Without leading zeros, a longer run of digits is a larger number.
                match x.len().cmp(&y.len()).then_with(|| x.cmp(&y)) {
                    Ordering::Equal => {}
                    unequal => return unequal,
                }
            }
            (Some(x), Some(y)) => match x.to_lowercase().cmp(y.to_lowercase()) {
                Ordering::Equal => {
                    a.next();
                    b.next();
                }
                unequal => return unequal,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;

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
        assert_eq!(natural_cmp("Tier 007", "Tier 7"), std::cmp::Ordering::Equal);
        assert_eq!(natural_cmp("Müller", "müller"), std::cmp::Ordering::Equal);
        assert_eq!(
            natural_cmp("a99999999999999999999999", "a100000000000000000000000"),
            std::cmp::Ordering::Less,
            "no overflow"
        );
    }
}
