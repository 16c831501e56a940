//! Service rule numbers (R0211, R6021, R9016O…): the numbers the national service gives its
//! checks, which JP-CLINS writes at the head of an invariant's text. An issue that breaks a
//! numbered rule carries it as `details.coding` so operators find the rule they know.

/// The code system of service rule numbers: ours, since the service publishes none.
pub const RULE_SYSTEM: &str = "http://kyoyu.example/fhir/CodeSystem/clins-rule";

/// A rule an issue reports against: its service number when it has one, and its text as its
/// author wrote it (an IG's invariant text, Japanese or English, never translated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRule {
    pub number: Option<String>,
    pub text: Option<String>,
}

impl ServiceRule {
    /// A hand-coded service rule known by its number.
    pub fn numbered(number: &str) -> Self {
        ServiceRule {
            number: Some(number.to_string()),
            text: None,
        }
    }

    /// The rule an invariant states: the number found in its human text (else its key), and the
    /// human text itself. `None` when the invariant has neither a number nor a text.
    pub fn of_invariant(key: &str, human: Option<&str>) -> Option<Self> {
        let human = human.map(str::trim).filter(|h| !h.is_empty());
        let number = human.and_then(rule_number).or_else(|| rule_number(key));
        (number.is_some() || human.is_some()).then(|| ServiceRule {
            number: number.map(str::to_string),
            text: human.map(str::to_string),
        })
    }

    /// The rule's text without the number and the separator after it (`R0211:最初の…` →
    /// `最初の…`): what the coding displays.
    pub fn display(&self) -> Option<&str> {
        let text = self.text.as_deref()?;
        let rest = match self.number.as_deref() {
            Some(n) => text.find(n).map_or(text, |at| &text[at + n.len()..]),
            None => text,
        };
        let rest = rest.trim_start_matches([':', '：', '-', ' ', '　']).trim();
        Some(if rest.is_empty() { text } else { rest })
    }
}

/// The first rule number in `text`: `R`, four to six digits, optionally one upper-case letter
/// (R9016O, R9013C), standing alone — not inside a longer word or number.
pub fn rule_number(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        if bytes[start] != b'R' || (start > 0 && bytes[start - 1].is_ascii_alphanumeric()) {
            return None;
        }
        let digits = bytes[start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(4..=6).contains(&digits) {
            return None;
        }
        let mut end = start + 1 + digits;
        if bytes.get(end).is_some_and(u8::is_ascii_uppercase) {
            end += 1;
        }
        if bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        Some(&text[start..end])
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rule_numbers_are_found_in_every_shape_the_ig_writes() {
        for (text, number) in [
            ("R0211:最初のentryはPatientでなければならない。", "R0211"),
            ("R6031 Observation CLINS ではLTS…", "R6031"),
            ("R1113- 患者氏名に漢字、カナ…", "R1113"),
            ("R6081: hasMember要素は…", "R6081"),
            ("R9016O:Bundleに含まれる…", "R9016O"),
            ("R02141:Bundle.meta.tagに…", "R02141"),
            ("R901101:リソースには…", "R901101"),
            ("see rule R2152.", "R2152"),
        ] {
            assert_eq!(rule_number(text), Some(number), "{text}");
        }
    }

    #[test]
    fn words_and_long_numbers_are_not_rule_numbers() {
        for text in [
            "施設番号　valueIdentifier.value値は…",
            "XR0211: inside a word",
            "R021: too short",
            "R1234567: too long",
            "R6021ab: letters follow",
            "R",
        ] {
            assert_eq!(rule_number(text), None, "{text}");
        }
    }

    #[test]
    fn an_invariant_gives_its_number_and_its_text() {
        let rule = ServiceRule::of_invariant(
            "observation-needs-encounter",
            Some("R9016O:encounter要素が必須"),
        )
        .unwrap();
        assert_eq!(rule.number.as_deref(), Some("R9016O"));
        assert_eq!(rule.display(), Some("encounter要素が必須"));
        let rule =
            ServiceRule::of_invariant("ref-1", Some("SHALL have a contained resource")).unwrap();
        assert_eq!(rule.number, None);
        assert_eq!(rule.display(), Some("SHALL have a contained resource"));
        assert_eq!(ServiceRule::of_invariant("ref-1", None), None);
        assert_eq!(
            ServiceRule::of_invariant("R0211", None)
                .unwrap()
                .number
                .as_deref(),
            Some("R0211")
        );
    }
}
