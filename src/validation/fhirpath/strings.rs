//! String functions. Positions and lengths count characters, not bytes: instance text is often
//! Japanese. `matches` is a partial match (anchors in the pattern decide), in single-line mode,
//! as FHIRPath N1 specifies.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use super::EvalError;
use super::ast::{Call, Func};
use super::eval::{Coll, Ctx, Scope};
use super::functions::{arg, int_arg};
use super::value::{self, Item, Prim, Str};

/// `matchesFull`: the pattern must match the whole string.
pub(crate) fn compile_full_regex(pattern: &str) -> Result<Regex, String> {
    compile_regex(&format!("^(?:{pattern})$"))
}

pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

/// The single string an item stands for; other primitives are taken as their text.
fn text_of<'s>(items: &'s [Item<'_>], what: &str) -> Result<Option<Cow<'s, str>>, EvalError> {
    let Some(it) = value::singleton(items, what)? else {
        return Ok(None);
    };
    match it.prim() {
        Prim::Absent => Ok(None),
        Prim::Complex(_) => Err(EvalError::Type(format!("{what} needs a string"))),
        _ => Ok(it.to_text()),
    }
}

fn string<'a>(s: String) -> Coll<'a> {
    vec![Item::String(Str::from(s))]
}

fn boolean<'a>(b: bool) -> Coll<'a> {
    vec![Item::Boolean(b)]
}

/// The pattern compiled at parse time when it was a literal, else compiled now.
fn regex_arg<'c, 'a>(
    cx: &Ctx<'a, '_>,
    call: &'c Call,
    scope: Scope<'a, '_>,
) -> Result<Option<Cow<'c, Regex>>, EvalError> {
    match &call.regex {
        Some(Ok(r)) => return Ok(Some(Cow::Borrowed(r))),
        Some(Err(e)) => return Err(EvalError::Type(e.clone())),
        None => {}
    }
    let p = arg(cx, call, 0, scope)?;
    let compile = if call.func == Func::MatchesFull {
        compile_full_regex
    } else {
        compile_regex
    };
    match text_of(&p, &call.name)? {
        None => Ok(None),
        Some(p) => compile(&p)
            .map(|r| Some(Cow::Owned(r)))
            .map_err(EvalError::Type),
    }
}

pub(crate) fn call<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    if call.func == F::Join {
        let sep = if call.args.is_empty() {
            String::new()
        } else {
            let a = arg(cx, call, 0, scope)?;
            text_of(&a, "join()")?
                .map(Cow::into_owned)
                .unwrap_or_default()
        };
        let mut parts = Vec::with_capacity(focus.len());
        for it in focus {
            if let Some(t) = it.to_text() {
                parts.push(t);
            }
        }
        return Ok(string(parts.join(&sep)));
    }
    let Some(s) = text_of(focus, &call.name)? else {
        return Ok(Vec::new());
    };
    // A single string argument; `None` (empty argument) makes the result empty.
    let str_arg = |i: usize| -> Result<Option<String>, EvalError> {
        let a = arg(cx, call, i, scope)?;
        Ok(text_of(&a, &call.name)?.map(Cow::into_owned))
    };
    Ok(match call.func {
        F::StartsWith => str_arg(0)?.map_or_else(Vec::new, |p| boolean(s.starts_with(&*p))),
        F::EndsWith => str_arg(0)?.map_or_else(Vec::new, |p| boolean(s.ends_with(&*p))),
        F::Contains => str_arg(0)?.map_or_else(Vec::new, |p| boolean(s.contains(&*p))),
        F::Matches | F::MatchesFull => {
            regex_arg(cx, call, scope)?.map_or_else(Vec::new, |r| boolean(r.is_match(&s)))
        }
        F::ReplaceMatches => {
            let (Some(r), Some(sub)) = (regex_arg(cx, call, scope)?, str_arg(1)?) else {
                return Ok(Vec::new());
            };
            string(r.replace_all(&s, sub.as_str()).into_owned())
        }
        F::IndexOf => match str_arg(0)? {
            None => Vec::new(),
            Some(p) => {
                let idx = s.find(&*p).map_or(-1, |b| s[..b].chars().count() as i64);
                vec![Item::Integer(idx)]
            }
        },
        F::Substring => {
            let Some(start) = int_arg(cx, call, 0, scope)? else {
                return Ok(Vec::new());
            };
            let n = s.chars().count() as i64;
            if start < 0 || start >= n {
                return Ok(Vec::new());
            }
            let len = if call.args.len() > 1 {
                match int_arg(cx, call, 1, scope)? {
                    Some(l) => l.max(0),
                    None => n,
                }
            } else {
                n
            };
            let skip = usize::try_from(start).unwrap_or(0);
            let take = usize::try_from(len).unwrap_or(usize::MAX);
            string(s.chars().skip(skip).take(take).collect())
        }
        F::Length => vec![Item::Integer(s.chars().count() as i64)],
        F::Upper => string(s.to_uppercase()),
        F::Lower => string(s.to_lowercase()),
        F::Trim => string(s.trim().to_string()),
        F::Replace => {
            let (Some(p), Some(r)) = (str_arg(0)?, str_arg(1)?) else {
                return Ok(Vec::new());
            };
            string(s.replace(&p, &r))
        }
        F::Split => match str_arg(0)? {
            None => Vec::new(),
            Some(sep) if sep.is_empty() => s
                .chars()
                .map(|c| Item::String(Str::from(c.to_string())))
                .collect(),
            Some(sep) => s
                .split(sep.as_str())
                .map(|p| Item::String(Str::from(p.to_string())))
                .collect(),
        },
        F::Encode | F::Decode | F::Escape | F::Unescape => match str_arg(0)? {
            None => Vec::new(),
            Some(form) => coded(call, &s, &form)?.map(string).unwrap_or_default(),
        },
        F::ToChars => s
            .chars()
            .map(|c| Item::String(Str::from(c.to_string())))
            .collect(),
        _ => return Err(EvalError::Unsupported(format!("function {}()", call.name))),
    })
}

/// `encode`/`decode` (`hex`, `base64`, `urlbase64`) and `escape`/`unescape` (`html`, `json`).
/// Text that does not decode, or decodes to bytes that are not UTF-8, gives empty; an unknown
/// form is an error.
fn coded(call: &Call, s: &str, form: &str) -> Result<Option<String>, EvalError> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let unknown = || EvalError::Type(format!("{}() does not know the form '{form}'", call.name));
    Ok(match (call.func, form) {
        (Func::Encode, "hex") => Some(s.bytes().map(|b| format!("{b:02x}")).collect()),
        (Func::Encode, "base64") => Some(STANDARD.encode(s)),
        (Func::Encode, "urlbase64") => Some(URL_SAFE.encode(s)),
        (Func::Decode, "hex") => {
            let bytes: Option<Vec<u8>> = (0..s.len())
                .step_by(2)
                .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            bytes.and_then(|b| String::from_utf8(b).ok())
        }
        (Func::Decode, "base64") => STANDARD
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        (Func::Decode, "urlbase64") => URL_SAFE
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        (Func::Escape, "html") => Some(
            s.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    '"' => "&quot;".to_string(),
                    '\'' => "&#39;".to_string(),
                    c => c.to_string(),
                })
                .collect(),
        ),
        (Func::Unescape, "html") => Some(
            s.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        ),
        (Func::Escape, "json") => {
            let quoted = serde_json::to_string(s).map_err(|e| EvalError::Type(e.to_string()))?;
            Some(quoted[1..quoted.len() - 1].to_string())
        }
        (Func::Unescape, "json") => serde_json::from_str::<String>(&format!("\"{s}\"")).ok(),
        _ => return Err(unknown()),
    })
}
