//! JSON → XML: elements in definition order, primitives as `value` attributes with their `_name`
//! id and extensions, `Element.id` and `Extension.url` as attributes, resources inside their
//! containers, the narrative `div` copied as XHTML. `fhir_comments` are dropped. Keys the model
//! does not know (a resource stored without validation) are written after the known ones, in
//! their JSON order, rather than lost.

use serde_json::{Map, Value};

use super::layout::{Field, Kind, Layout};
use super::{FHIR_NS, XHTML_NS, XmlError};

/// The XML form of one resource; `pretty` indents it.
pub fn to_xml(resource: &Value, pretty: bool) -> Result<String, XmlError> {
    let layout = Layout::get()
        .ok_or_else(|| XmlError::Unwritable("the base model is unavailable".into()))?;
    let mut w = Writer {
        layout,
        out: String::with_capacity(256),
        pretty,
        depth: 0,
    };
    w.resource(resource, true)?;
    if pretty {
        w.out.push('\n');
    }
    Ok(w.out)
}

struct Writer {
    layout: &'static Layout,
    out: String,
    pretty: bool,
    depth: usize,
}

/// A property with its `_name` companion: either side may be missing.
#[derive(Clone, Copy)]
struct Property<'a> {
    name: &'a str,
    value: Option<&'a Value>,
    extra: Option<&'a Value>,
}

/// One JSON property as a child element: its base name (no `_`), whether it was the `_name`
/// form, and where the model puts it.
struct Entry<'a> {
    order: u16,
    name: &'a str,
    underscore: bool,
    value: &'a Value,
    field: Option<Field>,
}

impl Writer {
    fn resource(&mut self, value: &Value, root: bool) -> Result<(), XmlError> {
        let obj = value
            .as_object()
            .ok_or_else(|| XmlError::Unwritable("a resource must be a JSON object".into()))?;
        let rt = obj
            .get("resourceType")
            .and_then(Value::as_str)
            .ok_or_else(|| XmlError::Unwritable("a resource without resourceType".into()))?;
        let context = self
            .layout
            .resource(rt)
            .ok_or_else(|| XmlError::Unwritable(format!("unknown resource type '{rt}'")))?;
        check_name(rt)?;
        self.newline();
        self.out.push('<');
        self.out.push_str(rt);
        if root {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(FHIR_NS);
            self.out.push('"');
        }
        self.content(rt, Some(context), Some(obj))
    }

    /// Attributes, then `>` children `</name>`, or `/>` when there are no children. The start
    /// tag is open (`<name` written) on entry.
    fn content(
        &mut self,
        name: &str,
        context: Option<usize>,
        obj: Option<&Map<String, Value>>,
    ) -> Result<(), XmlError> {
        let Some(obj) = obj else {
            self.out.push_str("/>");
            return Ok(());
        };
        let ctx = context.map(|c| self.layout.context(c));
        let mut entries = Vec::with_capacity(obj.len());
        for (key, value) in obj {
            if key == "resourceType" || key == "fhir_comments" {
                continue;
            }
            let (base, underscore) = match key.strip_prefix('_') {
                Some(base) => (base, true),
                None => (key.as_str(), false),
            };
            let field = ctx.and_then(|c| c.field(base)).copied();
            if field.is_some_and(|f| f.kind == Kind::Attribute) {
                if !underscore {
                    check_name(base)?;
                    self.out.push(' ');
                    self.out.push_str(base);
                    self.out.push_str("=\"");
                    attribute_text(&mut self.out, value, base)?;
                    self.out.push('"');
                }
                continue;
            }
            entries.push(Entry {
                order: field.map_or(u16::MAX, |f| f.order),
                name: base,
                underscore,
                value,
                field,
            });
        }
        if entries.is_empty() {
            self.out.push_str("/>");
            return Ok(());
        }
        self.out.push('>');
        // Stable: unknown keys keep their JSON order at the end; `name` sorts before `_name`.
        entries.sort_by(|a, b| {
            let name = if a.order == u16::MAX {
                std::cmp::Ordering::Equal
            } else {
                a.name.cmp(b.name)
            };
            a.order
                .cmp(&b.order)
                .then(name)
                .then(a.underscore.cmp(&b.underscore))
        });
        self.depth += 1;
        let mut i = 0;
        while i < entries.len() {
            let entry = &entries[i];
            let paired = entries
                .get(i + 1)
                .filter(|next| next.name == entry.name && next.underscore && !entry.underscore);
            let (value, extra) = match (entry.underscore, paired) {
                (true, _) => (None, Some(entry.value)),
                (false, Some(next)) => (Some(entry.value), Some(next.value)),
                (false, None) => (Some(entry.value), None),
            };
            let property = Property {
                name: entry.name,
                value,
                extra,
            };
            self.child(property, entry.field)?;
            i += if paired.is_some() { 2 } else { 1 };
        }
        self.close(name);
        Ok(())
    }

    /// `</name>` of an element whose children were written one level deeper.
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.newline();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// One JSON property (with its `_name` companion) as one or more elements.
    fn child(&mut self, property: Property<'_>, field: Option<Field>) -> Result<(), XmlError> {
        let Property { name, value, extra } = property;
        check_name(name)?;
        let kind = field.map(|f| f.kind);
        match (kind, value) {
            (Some(Kind::Complex(context)), Some(value)) => {
                for item in items(value) {
                    let obj = item.as_object().ok_or_else(|| shape(name, "an object"))?;
                    self.open(name);
                    self.content(name, Some(context), Some(obj))?;
                }
                Ok(())
            }
            (Some(Kind::Resource), Some(value)) => {
                for item in items(value) {
                    self.open(name);
                    self.out.push('>');
                    self.depth += 1;
                    self.resource(item, false)?;
                    self.close(name);
                }
                Ok(())
            }
            (Some(Kind::Xhtml), Some(Value::String(div))) => {
                self.newline();
                xhtml(&mut self.out, div);
                Ok(())
            }
            // Unknown keys holding objects are written as elements of unknown content.
            (None, Some(value)) if items(value).any(Value::is_object) && extra.is_none() => {
                for item in items(value) {
                    self.open(name);
                    self.content(name, None, item.as_object())?;
                }
                Ok(())
            }
            _ => self.primitives(property),
        }
    }

    /// `name` with its `_name`: single, or two arrays paired by index (`null` where one side
    /// has nothing).
    fn primitives(&mut self, property: Property<'_>) -> Result<(), XmlError> {
        match (as_array(property.value), as_array(property.extra)) {
            (values, extras) if values.is_some() || extras.is_some() => {
                let (values, extras) = (values.unwrap_or_default(), extras.unwrap_or_default());
                for i in 0..values.len().max(extras.len()) {
                    let one = Property {
                        value: values.get(i).filter(|v| !v.is_null()),
                        extra: extras.get(i).filter(|v| !v.is_null()),
                        ..property
                    };
                    if one.value.is_some() || one.extra.is_some() {
                        self.primitive(one)?;
                    }
                }
                Ok(())
            }
            _ => self.primitive(property),
        }
    }

    fn primitive(&mut self, property: Property<'_>) -> Result<(), XmlError> {
        let Property { name, value, extra } = property;
        let extra = match extra {
            Some(Value::Object(obj)) => Some(obj),
            Some(_) => return Err(shape(&format!("_{name}"), "an object")),
            None => None,
        };
        self.open(name);
        if let Some(value) = value {
            self.out.push_str(" value=\"");
            attribute_text(&mut self.out, value, name)?;
            self.out.push('"');
        }
        self.content(name, Some(self.layout.element()), extra)
    }

    fn open(&mut self, name: &str) {
        self.newline();
        self.out.push('<');
        self.out.push_str(name);
    }

    fn newline(&mut self) {
        if self.pretty && !self.out.is_empty() {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }
}

fn as_array(value: Option<&Value>) -> Option<&[Value]> {
    match value {
        Some(Value::Array(a)) => Some(a.as_slice()),
        _ => None,
    }
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    match value {
        Value::Array(a) => a.iter(),
        other => std::slice::from_ref(other).iter(),
    }
}

fn shape(name: &str, expected: &str) -> XmlError {
    XmlError::Unwritable(format!("'{name}' must be {expected}"))
}

/// JSON keys become element names only if XML allows them (letters, digits, `_`, `-`, `.`; no
/// leading digit), so a stored key can never inject markup.
fn check_name(name: &str) -> Result<(), XmlError> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(XmlError::Unwritable(format!("'{name}' is not an XML name")))
    }
}

fn attribute_text(out: &mut String, value: &Value, name: &str) -> Result<(), XmlError> {
    match value {
        Value::String(s) => escape(out, s, true),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        _ => return Err(shape(name, "a primitive value")),
    }
    Ok(())
}

/// Escapes markup characters; in attributes also tab, line feed and carriage return, which a
/// parser would otherwise normalise to spaces.
fn escape(out: &mut String, text: &str, attribute: bool) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if attribute => "&quot;",
            b'\n' if attribute => "&#10;",
            b'\r' => "&#13;",
            b'\t' if attribute => "&#9;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// The narrative as written when it is one well-formed XHTML `div`, adding the XHTML namespace
/// if the JSON left it out; anything else is escaped into an empty div's text, so a stored
/// narrative can never change the structure of the document around it.
fn xhtml(out: &mut String, div: &str) {
    match div_shape(div) {
        Some(DivShape::Complete) => out.push_str(div),
        Some(DivShape::NoNamespace) => {
            out.push_str("<div xmlns=\"");
            out.push_str(XHTML_NS);
            out.push('"');
            out.push_str(&div[4..]);
        }
        None => {
            out.push_str("<div xmlns=\"");
            out.push_str(XHTML_NS);
            out.push_str("\">");
            escape(out, div, false);
            out.push_str("</div>");
        }
    }
}

enum DivShape {
    Complete,
    NoNamespace,
}

fn div_shape(div: &str) -> Option<DivShape> {
    use quick_xml::events::Event;
    if !div.starts_with("<div") {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(div);
    let (mut depth, mut shape) = (0usize, None);
    loop {
        let event = reader.read_event().ok()?;
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 => {
                if shape.is_some() || e.name().as_ref() != b"div" {
                    return None;
                }
                let xmlns = e
                    .attributes()
                    .filter_map(Result::ok)
                    .find(|a| a.key.as_ref() == b"xmlns");
                shape = Some(match xmlns {
                    Some(a) if a.value.as_ref() == XHTML_NS.as_bytes() => DivShape::Complete,
                    Some(_) => return None,
                    None => DivShape::NoNamespace,
                });
                if is_start {
                    depth = 1;
                }
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
            }
            Event::Eof => return if depth == 0 { shape } else { None },
            Event::DocType(_) | Event::Decl(_) | Event::PI(_) => return None,
            _ if depth == 0 => return None,
            _ => {}
        }
    }
}
