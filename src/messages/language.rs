//! The languages OperationOutcome text is written in, and the choice among them from an
//! `Accept-Language` header (RFC 9110 §12.5.4) or a `--language` flag. English unless the
//! client prefers Japanese; what the server logs and audits never depends on it.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    English,
    /// 日本語
    Japanese,
}

impl Language {
    /// The language tag, as `Content-Language` and `--language` spell it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Japanese => "ja",
        }
    }

    /// The language of a tag or range (`ja`, `ja-JP`, `en-GB`); `None` for one the server does
    /// not write (`*` included: it leaves the choice to the server, which falls back to English).
    fn of_range(range: &str) -> Option<Language> {
        let primary = range.split('-').next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Some(Language::Japanese)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Language::English)
        } else {
            None
        }
    }

    /// The language to answer in: among the ranges the server writes, the highest `q`, the first
    /// listed on a tie; English when the header is absent, unreadable or names neither.
    pub fn from_accept_language(header: Option<&str>) -> Language {
        let mut best: Option<(f32, Language)> = None;
        for item in header.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let Some(language) = Language::of_range(parts.next().unwrap_or_default().trim()) else {
                continue;
            };
            let q = parts
                .find_map(|p| {
                    let (name, value) = p.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| value.trim().parse::<f32>().ok())?
                })
                .unwrap_or(1.0);
            if q > 0.0 && q <= 1.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, language));
            }
        }
        best.map_or(Language::English, |(_, language)| language)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown language '{0}' (use en or ja)")]
pub struct UnknownLanguage(String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::of_range(s.trim()).ok_or_else(|| UnknownLanguage(s.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pick(header: &str) -> Language {
        Language::from_accept_language(Some(header))
    }

    #[test]
    fn japanese_is_chosen_only_when_preferred() {
        assert_eq!(pick("ja"), Language::Japanese);
        assert_eq!(pick("ja-JP"), Language::Japanese);
        assert_eq!(pick("JA"), Language::Japanese);
        assert_eq!(pick("ja,en;q=0.8"), Language::Japanese);
        assert_eq!(pick("en-US,en;q=0.9,ja;q=0.8"), Language::English);
        assert_eq!(pick("en;q=0.5, ja;q=0.9"), Language::Japanese);
        assert_eq!(pick("fr, ja;q=0.1"), Language::Japanese);
    }

    #[test]
    fn anything_else_is_english() {
        assert_eq!(Language::from_accept_language(None), Language::English);
        assert_eq!(pick(""), Language::English);
        assert_eq!(pick("*"), Language::English);
        assert_eq!(pick("fr-FR, de;q=0.9"), Language::English);
        assert_eq!(pick("jav"), Language::English);
        assert_eq!(pick("ja;q=0"), Language::English);
        assert_eq!(
            pick("ja;q=abc"),
            Language::Japanese,
            "unreadable q counts as 1"
        );
        assert_eq!(
            pick("ja;q=2"),
            Language::English,
            "q above 1 is not a valid weight"
        );
    }

    #[test]
    fn ties_go_to_the_first_listed() {
        assert_eq!(pick("en, ja"), Language::English);
        assert_eq!(pick("ja;q=0.5, en;q=0.5"), Language::Japanese);
    }

    #[test]
    fn flags_name_the_language_by_tag() {
        assert_eq!("ja".parse::<Language>().unwrap(), Language::Japanese);
        assert_eq!("en".parse::<Language>().unwrap(), Language::English);
        assert!("de".parse::<Language>().is_err());
    }
}
