//! Lexer: FHIRPath source text to tokens, each with the byte offset it starts at.
//!
//! Keywords (`and`, `div`, `is`, `contains`…) stay identifiers here: after a `.` they are
//! ordinary names (`.contains('x')`, `.as(canonical)`), so only the parser can tell.

use super::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    /// A backtick-delimited identifier: never a keyword, never a function name.
    Delimited(String),
    Str(String),
    Number(String),
    Date(String),
    DateTime(String),
    Time(String),
    This,
    Index,
    Total,
    Var(String),
    Dot,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Plus,
    Minus,
    Star,
    Slash,
    Amp,
    Pipe,
    Eq,
    Tilde,
    Ne,
    NotTilde,
    Lt,
    Gt,
    Le,
    Ge,
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

fn err(pos: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position: pos,
        message: message.into(),
    }
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n);
            continue;
        }
        if src[i..].starts_with("/*") {
            let end = src[i + 2..]
                .find("*/")
                .ok_or_else(|| err(i, "unterminated comment"))?;
            i += end + 4;
            continue;
        }
        let start = i;
        let tok = match c {
            b'.' => single(&mut i, Tok::Dot),
            b',' => single(&mut i, Tok::Comma),
            b'(' => single(&mut i, Tok::LParen),
            b')' => single(&mut i, Tok::RParen),
            b'[' => single(&mut i, Tok::LBracket),
            b']' => single(&mut i, Tok::RBracket),
            b'{' => single(&mut i, Tok::LBrace),
            b'}' => single(&mut i, Tok::RBrace),
            b'+' => single(&mut i, Tok::Plus),
            b'-' => single(&mut i, Tok::Minus),
            b'*' => single(&mut i, Tok::Star),
            b'/' => single(&mut i, Tok::Slash),
            b'&' => single(&mut i, Tok::Amp),
            b'|' => single(&mut i, Tok::Pipe),
            b'=' => single(&mut i, Tok::Eq),
            b'~' => single(&mut i, Tok::Tilde),
            b'!' => match b.get(i + 1) {
                Some(b'=') => double(&mut i, Tok::Ne),
                Some(b'~') => double(&mut i, Tok::NotTilde),
                _ => return Err(err(i, "expected '!=' or '!~'")),
            },
            b'<' if b.get(i + 1) == Some(&b'=') => double(&mut i, Tok::Le),
            b'<' => single(&mut i, Tok::Lt),
            b'>' if b.get(i + 1) == Some(&b'=') => double(&mut i, Tok::Ge),
            b'>' => single(&mut i, Tok::Gt),
            b'\'' | b'"' => {
                let (s, next) = quoted(src, i, c)?;
                i = next;
                Tok::Str(s)
            }
            b'`' => {
                let (s, next) = quoted(src, i, b'`')?;
                i = next;
                Tok::Delimited(s)
            }
            b'0'..=b'9' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                Tok::Number(src[start..i].to_string())
            }
            b'@' => {
                let (tok, next) = temporal(src, i)?;
                i = next;
                tok
            }
            b'$' => {
                i += 1;
                let end = ident_end(b, i);
                let tok = match &src[i..end] {
                    "this" => Tok::This,
                    "index" => Tok::Index,
                    "total" => Tok::Total,
                    other => return Err(err(start, format!("unknown special variable ${other}"))),
                };
                i = end;
                tok
            }
            b'%' => {
                i += 1;
                match b.get(i) {
                    Some(&q @ (b'`' | b'\'' | b'"')) => {
                        let (s, next) = quoted(src, i, q)?;
                        i = next;
                        Tok::Var(s)
                    }
                    _ => {
                        let end = ident_end(b, i);
                        if end == i {
                            return Err(err(start, "expected a variable name after '%'"));
                        }
                        let name = src[i..end].to_string();
                        i = end;
                        Tok::Var(name)
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                i = ident_end(b, i);
                Tok::Ident(src[start..i].to_string())
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(i, format!("unexpected character '{ch}'")));
            }
        };
        out.push(Token { tok, pos: start });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: b.len(),
    });
    Ok(out)
}

fn single(i: &mut usize, t: Tok) -> Tok {
    *i += 1;
    t
}

fn double(i: &mut usize, t: Tok) -> Tok {
    *i += 2;
    t
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i
}

/// Reads a quoted string or delimited identifier starting at the quote `q` at `start`; returns
/// the unescaped text and the offset after the closing quote.
fn quoted(src: &str, start: usize, q: u8) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        let at = start + 1 + off;
        if c as u32 == u32::from(q) {
            return Ok((out, at + 1));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            break;
        };
        match e {
            '\'' | '"' | '`' | '\\' | '/' => out.push(e),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                let cp = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| err(at, "invalid \\u escape"))?;
                out.push(cp);
            }
            // Kept as written: regular expressions in strings (`'\d'`) rely on it.
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Err(err(start, "unterminated string or identifier"))
}

/// `@` date, date-time or time literal; the token holds the text after `@` (and after `T` for a
/// time).
fn temporal(src: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut i = start + 1;
    // A '.' belongs to the literal only as a fraction point: `@T10:00.toString()`.
    let is_time_char = |i: usize| {
        b[i].is_ascii_digit()
            || b[i] == b':'
            || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    };
    if b.get(i) == Some(&b'T') {
        i += 1;
        let s = i;
        while i < b.len() && is_time_char(i) {
            i += 1;
        }
        return Ok((Tok::Time(src[s..i].to_string()), i));
    }
    let s = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'-') {
        i += 1;
    }
    if b.get(i) != Some(&b'T') {
        if i == s {
            return Err(err(start, "expected a date after '@'"));
        }
        return Ok((Tok::Date(src[s..i].to_string()), i));
    }
    i += 1;
    let time_start = i;
    while i < b.len() && is_time_char(i) {
        i += 1;
    }
    if i > time_start {
        if b.get(i) == Some(&b'Z') {
            i += 1;
        } else if matches!(b.get(i), Some(b'+' | b'-'))
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b':') {
                i += 1;
            }
        }
    }
    Ok((Tok::DateTime(src[s..i].to_string()), i))
}
