//! A new password from standard input, never from a flag (which `ps` and shell history show).
//! At a terminal: a hidden prompt, asked twice. From a pipe: the first line is the password; a
//! second line, if there is one, must repeat it (what `printf 'pw\npw\n' |` sends).

use std::io::{IsTerminal, Read};

use anyhow::{Context, bail};

/// Far more than any password the policy allows (256 characters), so a file piped in by
/// mistake is refused, not read whole.
const MAX_INPUT_BYTES: u64 = 4096;

pub(crate) fn read_new_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")
            .context("reading the password at the terminal")?;
        let second = rpassword::prompt_password("The same password again: ")
            .context("reading the password at the terminal")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut input)
        .context("reading the password from standard input")?;
    if input.len() as u64 > MAX_INPUT_BYTES {
        bail!("standard input holds more than {MAX_INPUT_BYTES} bytes: send the password alone");
    }
    let input = String::from_utf8(input).context("the password on standard input is not UTF-8")?;
    from_lines(&input)
}

/// The password a pipe sent: one line, or two equal ones. The line break at a line's end
/// (`\n` or `\r\n`) is not part of it; any other control character is the policy's to refuse.
fn from_lines(input: &str) -> anyhow::Result<String> {
    let mut lines = input
        .split_inclusive('\n')
        .map(|line| line.strip_suffix('\n').unwrap_or(line))
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let Some(password) = lines.next().filter(|line| !line.is_empty()) else {
        bail!("no password on standard input: send it as the first line");
    };
    match (lines.next(), lines.next()) {
        (None, _) => {}
        (Some(again), None) if again == password => {}
        (Some(_), None) => bail!("the two lines on standard input differ; nothing was changed"),
        (Some(_), Some(_)) => {
            bail!(
                "standard input has more than two lines: send the password, and at most once more"
            )
        }
    }
    Ok(password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::from_lines;

    #[test]
    fn one_line_or_two_equal_ones() {
        assert_eq!(from_lines("s3cret pass\n").unwrap(), "s3cret pass");
        assert_eq!(
            from_lines("s3cret pass").unwrap(),
            "s3cret pass",
            "no final line break"
        );
        assert_eq!(from_lines("s3cret pass\r\n").unwrap(), "s3cret pass");
        assert_eq!(from_lines("pw word\npw word\n").unwrap(), "pw word");
        assert_eq!(
            from_lines("  spaced  \n").unwrap(),
            "  spaced  ",
            "never trimmed"
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        let refused = |input: &str| from_lines(input).unwrap_err().to_string();
        assert!(refused("").contains("no password"));
        assert!(refused("\npassword\n").contains("no password"));
        assert!(refused("one password\nanother\n").contains("differ"));
        assert!(refused("pw\npw\npw\n").contains("more than two lines"));
    }
}
