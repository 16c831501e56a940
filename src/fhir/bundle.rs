//! Building response Bundles (searchset, history, batch/transaction responses) as JSON text.
//! Stored resources are already JSON text; they are spliced in as they are instead of being
//! parsed and re-serialised, which would dominate the cost of a large search page.

use serde_json::{Value, json};

/// One entry's parts; `resource` is raw JSON text (a stored resource or a serialised Value).
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub full_url: Option<String>,
    pub resource: Option<&'a str>,
    pub search_mode: Option<&'static str>,
    pub request: Option<(&'static str, String)>,
    pub response: Option<Value>,
}

pub struct BundleBuilder {
    out: String,
    entries: usize,
}

impl BundleBuilder {
    /// Starts a Bundle of `bundle_type`; `links` are (relation, url) pairs.
    pub fn new(
        bundle_type: &str,
        id: &str,
        timestamp: &str,
        total: Option<i64>,
        links: &[(&str, String)],
    ) -> Self {
        let mut head = json!({
            "resourceType": "Bundle",
            "id": id,
            "meta": { "lastUpdated": timestamp },
            "type": bundle_type,
            "timestamp": timestamp,
        });
        if let Some(total) = total {
            head["total"] = json!(total);
        }
        if !links.is_empty() {
            head["link"] = Value::Array(
                links
                    .iter()
                    .map(|(relation, url)| json!({ "relation": relation, "url": url }))
                    .collect(),
            );
        }
        let mut out = head.to_string();
        out.pop(); // reopen the object to append the entries
        out.push_str(",\"entry\":[");
        BundleBuilder { out, entries: 0 }
    }

    pub fn entry(&mut self, entry: Entry<'_>) {
        if self.entries > 0 {
            self.out.push(',');
        }
        self.entries += 1;
        self.out.push('{');
        let mut first = true;
        let mut field = |out: &mut String, name: &str, raw: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            out.push_str(raw);
        };
        if let Some(url) = &entry.full_url {
            field(
                &mut self.out,
                "fullUrl",
                &Value::String(url.clone()).to_string(),
            );
        }
        if let Some(resource) = entry.resource {
            field(&mut self.out, "resource", resource);
        }
        if let Some(mode) = entry.search_mode {
            field(
                &mut self.out,
                "search",
                &json!({ "mode": mode }).to_string(),
            );
        }
        if let Some((method, url)) = &entry.request {
            field(
                &mut self.out,
                "request",
                &json!({ "method": method, "url": url }).to_string(),
            );
        }
        if let Some(response) = &entry.response {
            field(&mut self.out, "response", &response.to_string());
        }
        self.out.push('}');
    }

    pub fn finish(mut self) -> String {
        if self.entries == 0 {
            // FHIR forbids empty arrays: drop the `"entry":[` opened in `new`.
            let cut = self.out.len() - ",\"entry\":[".len();
            self.out.truncate(cut);
            self.out.push('}');
        } else {
            self.out.push_str("]}");
        }
        self.out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_valid_json_with_spliced_resources() {
        let mut b = BundleBuilder::new(
            "searchset",
            "b1",
            "2026-01-01T00:00:00Z",
            Some(2),
            &[("self", "http://x/Patient".into())],
        );
        b.entry(Entry {
            full_url: Some("http://x/Patient/1".into()),
            resource: Some(r#"{"resourceType":"Patient","id":"1"}"#),
            search_mode: Some("match"),
            ..Entry::default()
        });
        let v: Value = serde_json::from_str(&b.finish()).unwrap();
        assert_eq!(v["total"], 2);
        assert_eq!(v["entry"][0]["resource"]["id"], "1");
        assert_eq!(v["entry"][0]["search"]["mode"], "match");
        assert_eq!(v["link"][0]["relation"], "self");
    }

    #[test]
    fn empty_bundle_has_no_entry_array() {
        let b = BundleBuilder::new("searchset", "b1", "2026-01-01T00:00:00Z", Some(0), &[]);
        let v: Value = serde_json::from_str(&b.finish()).unwrap();
        assert!(v.get("entry").is_none());
    }
}
