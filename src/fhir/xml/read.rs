//! XML → JSON. The parser is quick-xml over the body in memory; on top of it: no DOCTYPE at all
//! (so no entity declarations, no external entities, no expansion), only the predefined entities
//! and character references, a nesting limit, and nothing but FHIR elements in the FHIR
//! namespace. The JSON built is the one FHIR JSON prescribes: `_name` for a primitive's id and
//! extensions, arrays for repeating elements (paired with `null`s), booleans and numbers typed by
//! the element's definition, the narrative `div` as the text it was written with.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use serde_json::{Map, Number, Value};

use super::layout::{Context, Field, Kind, Layout, Scalar};
use super::problem::{attribute_problem, escape_problem, problem};
use super::{FHIR_NS, XHTML_NS, XmlError};
use crate::fhir::characters::line_column;
use crate::messages::markup::{XmlProblem, XmlStructure, XmlStructure as S};

/// Parses one FHIR resource in XML whose element nesting is at most `max_depth`.
pub fn parse_resource(body: &[u8], max_depth: usize) -> Result<Value, XmlError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(XmlError::Empty);
    }
    crate::fhir::characters::utf8(body).map_err(|(byte, line, column)| XmlError::NotUtf8 {
        byte,
        line,
        column,
    })?;
    refuse_declarations(body)?;
    let layout = Layout::get().ok_or(XmlError::Structure {
        problem: S::ModelUnavailable,
        line: 1,
        column: 1,
    })?;
    let mut xml = NsReader::from_reader(body);
    xml.config_mut().trim_text(true);
    let mut parser = Parser {
        xml,
        input: body,
        layout,
        max_depth,
        depth: 0,
    };
    parser.document()
}

/// `<!DOCTYPE` and `<!ENTITY` are refused wherever they stand, before any parsing.
fn refuse_declarations(body: &[u8]) -> Result<(), XmlError> {
    let found = body
        .windows(9)
        .position(|w| w == b"<!DOCTYPE" || w.starts_with(b"<!ENTITY"));
    match found {
        Some(at) => {
            let (line, column) = line_column(body, at);
            Err(XmlError::Doctype { line, column })
        }
        None => Ok(()),
    }
}

struct Parser<'i> {
    xml: NsReader<&'i [u8]>,
    input: &'i [u8],
    layout: &'static Layout,
    max_depth: usize,
    depth: usize,
}

/// A start tag just read: where it began (for messages and the raw `div`), and whether it is
/// `<x/>`.
struct Tag<'i> {
    start: BytesStart<'i>,
    at: usize,
    empty: bool,
    /// In the FHIR namespace.
    fhir: bool,
}

enum Next<'i> {
    Element(Tag<'i>),
    End,
}

impl<'i> Parser<'i> {
    fn document(&mut self) -> Result<Value, XmlError> {
        let root = match self.event()? {
            Some(Next::Element(tag)) => tag,
            Some(Next::End) => return Err(self.structure_here(S::EndTagFirst)),
            None => return Err(XmlError::Empty),
        };
        let resource = self.resource(root)?;
        match self.event()? {
            None => Ok(resource),
            Some(_) => Err(self.structure_here(S::ContentAfterResource)),
        }
    }

    /// The next element or end tag, skipping comments, processing instructions and the XML
    /// declaration; `None` at the end of the input.
    fn event(&mut self) -> Result<Option<Next<'i>>, XmlError> {
        loop {
            let before = self.position();
            let (fhir, event) = match self.xml.read_resolved_event() {
                Ok((ns, event)) => (is_ns(&ns, FHIR_NS), event),
                Err(e) => return Err(self.syntax(e)),
            };
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(start) | Event::Empty(start) => {
                    let at = self
                        .position()
                        .saturating_sub(start.len() + 2 + usize::from(empty));
                    return Ok(Some(Next::Element(Tag {
                        start,
                        at,
                        empty,
                        fhir,
                    })));
                }
                Event::End(_) => return Ok(Some(Next::End)),
                Event::Eof => return Ok(None),
                Event::Decl(decl) => {
                    let encoding = decl.encoding().and_then(Result::ok);
                    if encoding.is_some_and(|e| !e.eq_ignore_ascii_case(b"utf-8")) {
                        return Err(self.structure(before, S::NotUtf8Declared));
                    }
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::DocType(_) => {
                    let (line, column) = line_column(self.input, before);
                    return Err(XmlError::Doctype { line, column });
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    let at = skip_whitespace(self.input, before);
                    return Err(self.structure(at, S::TextOutsideNarrative));
                }
            }
        }
    }

    fn resource(&mut self, tag: Tag<'i>) -> Result<Value, XmlError> {
        let name = self.fhir_name(&tag)?;
        let context = self
            .layout
            .resource(&name)
            .ok_or_else(|| self.structure(tag.at, S::NotAResourceType { name: name.clone() }))?;
        let mut obj = Map::new();
        obj.insert("resourceType".into(), Value::String(name));
        self.attributes(&tag, self.layout.context(context), &mut obj, None)?;
        self.children(&tag, context, &mut obj)?;
        Ok(Value::Object(obj))
    }

    /// The child elements of `parent` into `obj`, up to its end tag.
    fn children(
        &mut self,
        parent: &Tag<'i>,
        context: usize,
        obj: &mut Map<String, Value>,
    ) -> Result<(), XmlError> {
        if parent.empty {
            return Ok(());
        }
        self.descend(parent.at)?;
        let mut counts: Vec<(String, usize)> = Vec::new();
        while let Some(Next::Element(tag)) = self.next_child()? {
            let ctx = self.layout.context(context);
            let is_div = ctx.field("div").is_some_and(|f| f.kind == Kind::Xhtml)
                && tag.start.local_name().as_ref() == b"div";
            let name = if is_div {
                "div".to_string()
            } else {
                self.fhir_name(&tag)?
            };
            let Some(&field) = ctx.field(&name) else {
                return Err(self.structure(
                    tag.at,
                    S::UnknownElement {
                        name: name.clone(),
                        context: ctx.name.to_string(),
                    },
                ));
            };
            self.child(tag, name, field, obj, &mut counts)?;
        }
        for (name, count) in counts {
            pad(obj, &name, count);
            pad(obj, &format!("_{name}"), count);
        }
        self.depth -= 1;
        Ok(())
    }

    /// One level deeper; the limit keeps the recursion of this parser bounded.
    fn descend(&mut self, at: usize) -> Result<(), XmlError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            let (line, column) = line_column(self.input, at);
            return Err(XmlError::TooDeep {
                max: self.max_depth,
                line,
                column,
            });
        }
        Ok(())
    }

    fn next_child(&mut self) -> Result<Option<Next<'i>>, XmlError> {
        match self.event()? {
            None => Err(self.structure_here(S::EndsInsideElement)),
            next => Ok(next),
        }
    }

    fn child(
        &mut self,
        tag: Tag<'i>,
        name: String,
        field: Field,
        obj: &mut Map<String, Value>,
        counts: &mut Vec<(String, usize)>,
    ) -> Result<(), XmlError> {
        let value = match field.kind {
            Kind::Attribute => {
                return Err(self.structure(tag.at, S::AttributeAsElement { name: name.clone() }));
            }
            Kind::Primitive(scalar) => {
                let element = self.layout.element();
                let mut extra = Map::new();
                let mut text = None;
                self.attributes(
                    &tag,
                    self.layout.context(element),
                    &mut extra,
                    Some(&mut text),
                )?;
                self.children(&tag, element, &mut extra)?;
                if text.is_none() && extra.is_empty() {
                    return Err(self.structure(tag.at, S::Empty { name: name.clone() }));
                }
                let value = text.map(|t| typed(t, scalar));
                let extra = (!extra.is_empty()).then_some(Value::Object(extra));
                return self.put_primitive(&tag, name, field, value, extra, obj, counts);
            }
            Kind::Complex(context) => {
                let mut child = Map::new();
                self.attributes(&tag, self.layout.context(context), &mut child, None)?;
                self.children(&tag, context, &mut child)?;
                Value::Object(child)
            }
            Kind::Resource => self.contained(&tag)?,
            Kind::Xhtml => self.div(&tag)?,
        };
        self.put(&tag, name, field.repeats, value, obj)
    }

    /// A resource container: exactly one resource element inside.
    fn contained(&mut self, tag: &Tag<'i>) -> Result<Value, XmlError> {
        let inner = match (tag.empty, self.next_child()?) {
            (false, Some(Next::Element(inner))) => inner,
            _ => {
                return Err(self.structure(tag.at, S::ContainerEmpty));
            }
        };
        self.descend(inner.at)?;
        let resource = self.resource(inner)?;
        self.depth -= 1;
        match self.next_child()? {
            Some(Next::End) => Ok(resource),
            _ => Err(self.structure(tag.at, S::ContainerSeveral)),
        }
    }

    /// The narrative: an XHTML `div`, kept byte for byte as the JSON string.
    fn div(&mut self, tag: &Tag<'i>) -> Result<Value, XmlError> {
        let (ns, local) = self.xml.resolver().resolve_element(tag.start.name());
        if !is_ns(&ns, XHTML_NS) || local.as_ref() != b"div" {
            return Err(self.structure(tag.at, S::NarrativeNotXhtml));
        }
        // Walked event by event rather than skipped, so the reader's namespace scopes stay in
        // step with the document; the xhtml inside never recurses, so it needs no depth check.
        let mut depth = usize::from(!tag.empty);
        while depth > 0 {
            match self.xml.read_event() {
                Ok(Event::Start(_)) => depth += 1,
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Eof) => {
                    return Err(self.structure_here(S::EndsInsideNarrative));
                }
                Ok(_) => {}
                Err(e) => return Err(self.syntax(e)),
            }
        }
        let raw = &self.input[tag.at..self.position()];
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(Value::String(text.to_string())),
            Err(_) => Err(self.structure(tag.at, S::NarrativeNotUtf8)),
        }
    }

    /// `value` (primitives only, into `text`) and the attributes the context defines (`id`,
    /// `url`); namespace declarations and attributes of other namespaces are ignored.
    fn attributes(
        &self,
        tag: &Tag<'i>,
        ctx: &Context,
        obj: &mut Map<String, Value>,
        mut text: Option<&mut Option<String>>,
    ) -> Result<(), XmlError> {
        for attribute in tag.start.attributes() {
            let attribute = attribute
                .map_err(|e| self.structure(tag.at, S::Attribute(attribute_problem(&e))))?;
            let key = attribute.key.as_ref();
            if key.contains(&b':') || key == b"xmlns" {
                continue;
            }
            let key = std::str::from_utf8(key).unwrap_or("?");
            let value = attribute_value(&attribute.value).map_err(|e| {
                let problem = S::AttributeValue {
                    name: key.to_string(),
                    problem: e,
                };
                self.structure(tag.at, problem)
            })?;
            match (&mut text, ctx.field(key)) {
                (Some(slot), _) if key == "value" => **slot = Some(value),
                (_, Some(f)) if f.kind == Kind::Attribute => {
                    obj.insert(key.to_string(), Value::String(value));
                }
                _ => {
                    return Err(self.structure(
                        tag.at,
                        S::UnexpectedAttribute {
                            name: key.to_string(),
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sets a non-repeating element or appends to a repeating one.
    fn put(
        &self,
        tag: &Tag<'i>,
        name: String,
        repeats: bool,
        value: Value,
        obj: &mut Map<String, Value>,
    ) -> Result<(), XmlError> {
        if repeats {
            match obj.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(items) => items.push(value),
                _ => return Err(self.structure(tag.at, S::Repeated)),
            }
            return Ok(());
        }
        if obj.contains_key(&name) {
            return Err(self.structure(tag.at, S::OnlyOnce { name: name.clone() }));
        }
        obj.insert(name, value);
        Ok(())
    }

    /// A primitive's value as `name` and its id/extensions as `_name`; repeating ones are two
    /// arrays that stay index-aligned (padded with `null` when the element ends).
    #[allow(clippy::too_many_arguments)]
    fn put_primitive(
        &self,
        tag: &Tag<'i>,
        name: String,
        field: Field,
        value: Option<Value>,
        extra: Option<Value>,
        obj: &mut Map<String, Value>,
        counts: &mut Vec<(String, usize)>,
    ) -> Result<(), XmlError> {
        if !field.repeats {
            // A first occurrence with only an extension left `_name` alone: look for it too.
            let mut buf = [0u8; 64];
            let seen = obj.contains_key(&name)
                || match underscored(&name, &mut buf) {
                    Some(key) => obj.contains_key(key),
                    None => obj.contains_key(&format!("_{name}")),
                };
            if seen {
                return Err(self.structure(tag.at, S::OnlyOnce { name: name.clone() }));
            }
            let underscore = extra.as_ref().map(|_| format!("_{name}"));
            if let Some(value) = value {
                obj.insert(name, value);
            }
            if let (Some(underscore), Some(extra)) = (underscore, extra) {
                obj.insert(underscore, extra);
            }
            return Ok(());
        }
        let underscore = format!("_{name}");
        let index = match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                counts.push((name.clone(), 1));
                0
            }
        };
        for (key, item) in [(name, value), (underscore, extra)] {
            if let Some(item) = item
                && let Value::Array(items) =
                    obj.entry(key).or_insert_with(|| Value::Array(Vec::new()))
            {
                items.resize(index.max(items.len()), Value::Null);
                items.push(item);
            }
        }
        Ok(())
    }

    /// The local name of an element that must be in the FHIR namespace.
    fn fhir_name(&self, tag: &Tag<'i>) -> Result<String, XmlError> {
        let name = String::from_utf8_lossy(tag.start.local_name().as_ref()).into_owned();
        if tag.fhir {
            Ok(name)
        } else {
            Err(self.structure(tag.at, S::NotFhirNamespace { name }))
        }
    }

    fn position(&self) -> usize {
        usize::try_from(self.xml.buffer_position()).unwrap_or(usize::MAX)
    }

    fn syntax(&self, e: quick_xml::Error) -> XmlError {
        let at = usize::try_from(self.xml.error_position()).unwrap_or(0);
        let (line, column) = line_column(self.input, at);
        XmlError::Syntax {
            problem: problem(&e),
            line,
            column,
        }
    }

    fn structure(&self, at: usize, problem: XmlStructure) -> XmlError {
        let (line, column) = line_column(self.input, at);
        XmlError::Structure {
            problem,
            line,
            column,
        }
    }

    fn structure_here(&self, problem: XmlStructure) -> XmlError {
        self.structure(self.position(), problem)
    }
}

/// Extends the array `key` with `null`s to `len` items, if the array exists.
fn pad(obj: &mut Map<String, Value>, key: &str, len: usize) {
    if let Some(Value::Array(items)) = obj.get_mut(key) {
        items.resize(len.max(items.len()), Value::Null);
    }
}

/// `_name` in `buf` without allocating (most primitives have no `_name` to store); `None` for
/// names too long for it.
fn underscored<'b>(name: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let key = buf.get_mut(..=name.len())?;
    key[0] = b'_';
    key[1..].copy_from_slice(name.as_bytes());
    std::str::from_utf8(key).ok()
}

fn is_ns(ns: &ResolveResult<'_>, uri: &str) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == uri.as_bytes())
}

fn skip_whitespace(input: &[u8], from: usize) -> usize {
    input
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| !b.is_ascii_whitespace()))
        .map_or(from, |i| from + i)
}

/// Attribute-value normalisation (literal tab, CR and LF become spaces, as XML prescribes),
/// then the predefined entities and character references; any other entity is an error.
fn attribute_value(raw: &[u8]) -> Result<String, XmlProblem> {
    let text = std::str::from_utf8(raw).map_err(|_| XmlProblem::NotUtf8)?;
    let normalized;
    let text = if text.contains(['\t', '\n', '\r']) {
        normalized = text.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
        normalized.as_str()
    } else {
        text
    };
    quick_xml::escape::unescape(text)
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| escape_problem(&e))
}

/// A primitive's text as FHIR JSON writes it: `true`/`false` and numbers unquoted. Text that is
/// not of the type stays a string, for validation to report at its path.
fn typed(text: String, scalar: Scalar) -> Value {
    match scalar {
        Scalar::Boolean if text == "true" => Value::Bool(true),
        Scalar::Boolean if text == "false" => Value::Bool(false),
        Scalar::Number => match serde_json::from_str::<Number>(&text) {
            Ok(n)
                if !text.starts_with(char::is_whitespace)
                    && !text.ends_with(char::is_whitespace) =>
            {
                Value::Number(n)
            }
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}
