//! What is checked on .proto text before protox reads it: what protox does
//! not bound (nesting: its parser recurses once per level) and what it
//! words badly (a decimal with a leading zero, which protoc refuses with
//! "Numbers starting with leading zero must be in octal" and protox's lexer
//! does not expect). One pass, as protox's lexer cuts the text.

use std::fmt;

use crate::limits::{TooDeep, line_column};

/// The first problem found, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    kind: Kind,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TooDeep(usize),
    Octal,
}

impl Problem {
    fn at(text: &str, offset: usize, kind: Kind) -> Self {
        let (line, column) = line_column(text, offset);
        Self { kind, line, column }
    }
}

impl fmt::Display for Problem {
    /// Follows the file name: `: the schema nests ...` or `:2:5: numbers ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::TooDeep(limit) => {
                let deep = TooDeep {
                    limit,
                    line: self.line,
                    column: self.column,
                };
                write!(f, ": {deep}")
            }
            Kind::Octal => write!(
                f,
                ":{}:{}: numbers starting with a leading zero must be in octal",
                self.line, self.column
            ),
        }
    }
}

/// The first problem of `text`: nesting deeper than `max_depth` (`{`, `[`,
/// `(` and `<`), or an integer literal that starts with `0` and holds an 8
/// or a 9, reading the text as protox's lexer does: identifiers whole,
/// strings and comments skipped, numbers as its literal rules cut them
/// (`52f0089` is the float `52f`, then the integer `0089`).
pub(crate) fn check(text: &str, max_depth: usize) -> Result<(), Problem> {
    let bytes = text.as_bytes();
    let digit_at = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_digit);
    let digits_from = |mut j: usize| {
        while digit_at(j) {
            j += 1;
        }
        j
    };
    // The end of an exponent starting at `j`, if there is one.
    let exponent = |j: usize| match bytes.get(j) {
        Some(b'e' | b'E') if digit_at(j + 1) => Some(digits_from(j + 1)),
        Some(b'e' | b'E') if matches!(bytes.get(j + 1), Some(b'+' | b'-')) && digit_at(j + 2) => {
            Some(digits_from(j + 2))
        }
        _ => None,
    };
    let float_suffix = |j: usize| j + usize::from(matches!(bytes.get(j), Some(b'f' | b'F')));
    let mut depth = 0usize;
    // Once the text is malformed (an unterminated string), where protox's
    // lexer resumes is not worth following exactly: every digit run outside
    // an identifier is taken for a number from there on. The text is
    // refused either way; this only makes sure protox never sees such a
    // literal.
    let mut lenient = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') if !lenient => {
                i += 1;
                // A string ends at its quote or, unterminated, at the end of
                // its line: an escape does not carry it over a newline.
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    let escaped =
                        bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|c| *c != b'\n');
                    i += if escaped { 2 } else { 1 };
                }
                lenient = bytes.get(i) != Some(&quote);
                i += 1;
            }
            // protox's lexer takes `#` for a line comment too.
            b'#' if !lenient => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if !lenient && bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if !lenient && bytes.get(i + 1) == Some(&b'*') => {
                // Tokens left to right, as protox reads a comment: `*/`
                // ends it; a `/*` inside is an error after which protox
                // resumes somewhere inside, so the rest is read leniently.
                i += 2;
                loop {
                    match (bytes.get(i), bytes.get(i + 1)) {
                        (None, _) => break,
                        (Some(b'*'), Some(b'/')) => {
                            i += 2;
                            break;
                        }
                        (Some(b'/'), Some(b'*')) => {
                            lenient = true;
                            i += 2;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            b'.' if digit_at(i + 1) => {
                let end = digits_from(i + 1);
                i = float_suffix(exponent(end).unwrap_or(end));
            }
            b'0' if matches!(bytes.get(i + 1), Some(b'x' | b'X')) => {
                i += 2;
                while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                    i += 1;
                }
            }
            b'0'..=b'9' => {
                let start = i;
                let end = digits_from(i);
                if bytes.get(end) == Some(&b'.') {
                    let fraction = digits_from(end + 1);
                    i = float_suffix(exponent(fraction).unwrap_or(fraction));
                } else if let Some(after) = exponent(end) {
                    i = float_suffix(after);
                } else {
                    let digits = &bytes[start..end];
                    if digits.len() > 1
                        && digits[0] == b'0'
                        && digits.iter().any(|d| matches!(d, b'8' | b'9'))
                    {
                        return Err(Problem::at(text, start, Kind::Octal));
                    }
                    i = if digits[0] != b'0' || digits.len() == 1 {
                        float_suffix(end)
                    } else {
                        end
                    };
                }
            }
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Problem::at(text, i, Kind::TooDeep(max_depth)));
                }
                i += 1;
            }
            b'}' | b']' | b')' | b'>' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `check` finds a leading-zero decimal, as an offset.
    fn octal_at(text: &str) -> Option<usize> {
        match check(text, usize::MAX) {
            Err(Problem {
                kind: Kind::Octal,
                line: 1,
                column,
            }) => Some(column - 1),
            Err(other) => panic!("{other:?}"),
            Ok(()) => None,
        }
    }

    #[test]
    fn decimal_with_a_leading_zero_is_refused_before_protox() {
        // protox-parse asserts (in debug builds) that such a literal cannot
        // reach it.
        assert_eq!(octal_at("message A { int32 a = 068; }"), Some(22));
        assert_eq!(
            octal_at("option x = 0x68; option y = 07; option z = 09.5;"),
            None
        );
        assert_eq!(
            octal_at("message A1_09 { string s = 1 [default = \"09\"]; } // 09"),
            None
        );
        // What protox's lexer reads as a number: the digits, whatever follows.
        assert_eq!(octal_at("x = 0089option;"), Some(4));
        assert_eq!(octal_at("x = .089; y = 089e1; z = 089E-1;"), None);
        // An exponent without digits is no float: the lexer reads `049`.
        assert_eq!(octal_at("049e"), Some(0));
        assert_eq!(octal_at("x = 049e+;"), Some(4));
        // An unterminated string ends with its line, a backslash or not.
        let problem = check("\"\\\n019", 8).unwrap_err();
        assert_eq!(
            (problem.kind, problem.line, problem.column),
            (Kind::Octal, 2, 1)
        );
        // After an unterminated string, strings and comments no longer hide
        // numbers.
        let problem = check("\"abc\n x = 'a // 019", 8).unwrap_err();
        assert_eq!(
            (problem.kind, problem.line, problem.column),
            (Kind::Octal, 2, 12)
        );
        // A comment inside a comment: protox resumes inside it.
        let problem = check("/*/*///g*/038", 8).unwrap_err();
        assert_eq!(
            (problem.kind, problem.line, problem.column),
            (Kind::Octal, 1, 11)
        );
        assert_eq!(octal_at("/* 038 */ x /**/ /*/ 038 */"), None);
        // `#` starts a comment, whatever follows it: no `/*` here.
        let problem = check("#/*\n008", 8).unwrap_err();
        assert_eq!(
            (problem.kind, problem.line, problem.column),
            (Kind::Octal, 2, 1)
        );
        // After a float with a suffix, a new number starts.
        assert_eq!(octal_at("x = 52f0089;"), Some(7));
        assert_eq!(octal_at("x = 0x89 + 1e9 + 9f;"), None);
        let problem = check("syntax = \"proto3\";\nmessage A { int32 a = 089; }", 10).unwrap_err();
        assert_eq!(
            format!("schema.proto{problem}"),
            "schema.proto:2:23: numbers starting with a leading zero must be in octal"
        );
    }

    #[test]
    fn nesting_is_counted_outside_strings_and_comments() {
        let text = "message A { // {{{{\n /* {{{{ */ string s = 1 [default = \"{{{{\"]; }";
        assert!(check(text, 2).is_ok());
        assert!(check(text, 1).is_err());
        let nested = "message M { ".repeat(5) + &"}".repeat(5);
        assert!(check(&nested, 5).is_ok());
        let problem = check(&nested, 4).unwrap_err();
        assert_eq!((problem.line, problem.column), (1, 5 * 12 - 1));
        assert!(
            problem
                .to_string()
                .contains("deeper than 4 levels at line 1, column 59")
        );
    }
}
