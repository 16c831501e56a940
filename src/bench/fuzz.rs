//! Seeded mutations of FHIR bodies and FHIRPath text for the robustness tests: byte-level
//! damage (the readers must refuse it cleanly) and JSON-aware changes that keep a body parseable
//! so it reaches validation and storage (wrong types, repeated items, odd strings and numbers).
//! The same seed gives the same cases, so a failure can be replayed.

use serde_json::{Map, Value};

use super::rng::Rng;

/// Fragments that have broken readers and validators before: delimiters, escapes, numbers past
/// every range, XML markup, impossible dates, control characters.
const FRAGMENTS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-0",
    "1e-99999",
    "1e99999",
    "99999999999999999999999999",
    "0.00000000000000000000000001",
    "\\u0000",
    "\\ud800",
    "\\",
    "<",
    ">",
    "&",
    "&amp;",
    "<!DOCTYPE x [<!ENTITY e \"e\">]>",
    "<![CDATA[",
    "]]>",
    "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>",
    "2024-02-30",
    "T25:61:61",
    "\u{0}",
    "\u{7}",
    "\u{feff}",
    "日本語",
    "\"resourceType\":\"Patient\",",
    "urn:uuid:",
    "#",
];

/// Most bytes one repetition of an element may add: enough for thousands of items, well under
/// the server's body limit, so a case exercises validation rather than the size check.
const REPEATED_BYTES: usize = 256 * 1024;

/// Odd values a JSON-aware mutation puts in place of a node.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next_u64() as i64),
        3 => serde_json::from_str("1e-99999").unwrap_or(Value::Null),
        4 => Value::String(String::new()),
        5 => Value::String("x".repeat(rng.index(5000))),
        6 => Value::String(FRAGMENTS[rng.index(FRAGMENTS.len())].to_string()),
        7 => Value::Array(Vec::new()),
        8 => Value::Object(Map::new()),
        9 => Value::String("2024-02-30T25:00:00+09:00".into()),
        10 => Value::Array((0..rng.index(200)).map(Value::from).collect()),
        _ => Value::String("Patient/../../x?_id=1,2".into()),
    }
}

/// Damages `input` at the byte level, one to four times; the result stays within
/// twice the input plus 64 KB.
pub fn mutate_bytes(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let limit = input.len() * 2 + 64 * 1024;
    for _ in 0..=rng.below(4) {
        let at = rng.index(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.below(256) as u8),
            2 => {
                let end = (at + rng.index(64)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let f = FRAGMENTS[rng.index(FRAGMENTS.len())].as_bytes();
                out.splice(at..at, f.iter().copied());
            }
            4 => {
                // A stretch repeated: amplification of whatever it holds.
                let end = (at + 1 + rng.index(32)).min(out.len());
                let piece = out[at.min(end)..end].to_vec();
                for _ in 0..rng.index(64) {
                    if out.len() + piece.len() > limit {
                        break;
                    }
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5 => out.truncate(at),
            _ => {
                let open = if rng.below(2) == 0 { b'[' } else { b'{' };
                let n = rng.index(200);
                out.splice(at..at, std::iter::repeat_n(open, n));
            }
        }
        out.truncate(limit);
    }
    out
}

/// Changes one to three nodes of a parsed body, keeping it JSON.
pub fn mutate_json(rng: &mut Rng, input: &Value) -> Value {
    let mut out = input.clone();
    for _ in 0..=rng.below(3) {
        // A random path, stopping at a random depth; walked read-only, then taken mutably.
        let mut pointer = String::new();
        let mut at = &out;
        for _ in 0..rng.below(8) {
            let next = match at {
                Value::Object(m) if !m.is_empty() => {
                    let k = rng.index(m.len());
                    m.iter().nth(k).map(|(key, v)| {
                        let key = key.replace('~', "~0").replace('/', "~1");
                        (key, v)
                    })
                }
                Value::Array(a) if !a.is_empty() => {
                    let k = rng.index(a.len());
                    a.get(k).map(|v| (k.to_string(), v))
                }
                _ => None,
            };
            match next {
                Some((step, v)) => {
                    pointer.push('/');
                    pointer.push_str(&step);
                    at = v;
                }
                None => break,
            }
        }
        let Some(node) = out.pointer_mut(&pointer) else {
            continue;
        };
        match rng.below(5) {
            0 => *node = odd_value(rng),
            1 => {
                if let Value::Object(m) = node
                    && !m.is_empty()
                {
                    let k = rng.index(m.len());
                    if let Some(key) = m.keys().nth(k).cloned() {
                        m.remove(&key);
                    }
                }
            }
            2 => {
                // Repeated items: many copies of one element.
                let copy = node.clone();
                let size = copy.to_string().len().max(1);
                let n = (1 + rng.index(300)).min(REPEATED_BYTES / size).max(1);
                *node = Value::Array(std::iter::repeat_n(copy, n).collect());
            }
            3 => {
                if let Value::Object(m) = node {
                    let key = [
                        "id",
                        "extension",
                        "resourceType",
                        "_given",
                        "meta",
                        "text",
                        "x",
                    ][rng.index(7)];
                    m.insert(key.to_string(), odd_value(rng));
                }
            }
            _ => {
                if let Value::String(s) = node {
                    let damaged = mutate_bytes(rng, s.as_bytes());
                    *s = String::from_utf8_lossy(&damaged).into_owned();
                }
            }
        }
    }
    out
}

/// FHIRPath text damaged like a body, for the parser.
pub fn mutate_text(rng: &mut Rng, input: &str) -> String {
    String::from_utf8_lossy(&mutate_bytes(rng, input.as_bytes())).into_owned()
}
