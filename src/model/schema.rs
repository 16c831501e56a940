//! JSON Schemas (draft 2020-12) of the fast structural pass, derived from the [`BaseModel`]
//! alone, and their compiled validators.
//!
//! One schema per resource type (`<Type>.schema.json`) plus `datatypes.schema.json`, whose `$defs`
//! hold every primitive and complex datatype; resource schemas reach them by relative `$ref`, so
//! each stays small and the datatypes are shared. Properties follow the JSON format: `_name`
//! siblings for primitives, arrays for repeating elements, choice elements expanded
//! (`valueQuantity`…), backbone elements inline, `contentReference`s through local `$defs`,
//! `additionalProperties: false` everywhere. Contained and bundled resources are only required to
//! be objects with a `resourceType`: the snapshot walk checks them against their own types.
//!
//! What a schema cannot say is left to the snapshot walk: that at most one choice variant is
//! present, that `null`s in primitive arrays pair with `_name` values, profiles, invariants.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::{BaseModel, ElementDef, JsonType, TypeDef, TypeKind, TypeRef, upper_first};

/// Base URI of the schemas' `$id`s; `.invalid` so nothing ever tries to fetch it.
pub const SCHEMA_BASE_URI: &str = "https://kyoyu.invalid/fhir-schemas/json/";
pub const DATATYPES_FILE: &str = "datatypes.schema.json";
const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
/// The `$defs` entry for "any resource object" (contained, Bundle.entry.resource…).
const ANY_RESOURCE: &str = "anyResource";
/// The `$defs` entry for a primitive's `_name` sibling (id and extensions).
const PRIMITIVE_ELEMENT: &str = "primitiveElement";
/// Java/XML-Schema `\s`: the whitespace the published regexes mean (not Unicode's, which would
/// reject the ideographic space common in Japanese text).
const XSD_SPACE: &str = r" \t\n\x0B\f\r";

pub fn schema_file_name(type_name: &str) -> String {
    format!("{type_name}.schema.json")
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{0} is not a resource type of the base model")]
    UnknownType(String),
    #[error("the instance has no resourceType string")]
    NoResourceType,
    #[error("{type_name}: regex {regex:?}: {reason}")]
    Regex {
        type_name: String,
        regex: String,
        reason: String,
    },
    #[error("{path}: type {code} is not in the base model")]
    UnknownElementType { path: String, code: String },
    #[error("the JSON Schema of {type_name} does not compile: {reason}")]
    Compile { type_name: String, reason: String },
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The shared datatypes schema.
pub fn datatypes_schema(model: &BaseModel) -> Result<Value, SchemaError> {
    let generator = Generator {
        model,
        datatypes: "#/$defs/",
    };
    let mut defs: BTreeMap<String, Value> = BTreeMap::new();
    defs.insert(
        ANY_RESOURCE.into(),
        json!({
            "type": "object",
            "properties": {"resourceType": {"type": "string"}},
            "required": ["resourceType"]
        }),
    );
    for def in model.types() {
        match def.kind {
            TypeKind::PrimitiveType => {
                defs.insert(def.name.clone(), primitive_schema(model, def)?);
            }
            TypeKind::ComplexType if !def.is_abstract => {
                let object = generator.type_object(def, &mut defs)?;
                defs.insert(def.name.clone(), object);
            }
            _ => {}
        }
    }
    // A primitive's `_name` is an Element: `id` and `extension` only.
    if let Some(element) = model.type_def("Element") {
        let object = generator.type_object(element, &mut defs)?;
        defs.insert(PRIMITIVE_ELEMENT.into(), object);
    }
    let mut schema = Map::new();
    schema.insert("$schema".into(), DRAFT.into());
    schema.insert(
        "$id".into(),
        format!("{SCHEMA_BASE_URI}{DATATYPES_FILE}").into(),
    );
    schema.insert("$comment".into(), comment(model).into());
    schema.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
    Ok(Value::Object(schema))
}

/// The schema of one resource type.
pub fn resource_schema(model: &BaseModel, type_name: &str) -> Result<Value, SchemaError> {
    let def = model
        .type_def(type_name)
        .filter(|d| d.kind == TypeKind::Resource && !d.is_abstract)
        .ok_or_else(|| SchemaError::UnknownType(type_name.to_string()))?;
    let generator = Generator {
        model,
        datatypes: "datatypes.schema.json#/$defs/",
    };
    let mut defs = BTreeMap::new();
    let object = generator.type_object(def, &mut defs)?;
    let mut schema = Map::new();
    schema.insert("$schema".into(), DRAFT.into());
    schema.insert(
        "$id".into(),
        format!("{SCHEMA_BASE_URI}{}", schema_file_name(type_name)).into(),
    );
    schema.insert("$comment".into(), comment(model).into());
    if let Value::Object(object) = object {
        schema.extend(object);
    }
    if !defs.is_empty() {
        schema.insert("$defs".into(), Value::Object(defs.into_iter().collect()));
    }
    Ok(Value::Object(schema))
}

fn comment(model: &BaseModel) -> String {
    format!(
        "Generated by `kyoyu package generate-base` from {}; do not edit.",
        model.package()
    )
}

fn primitive_schema(model: &BaseModel, def: &TypeDef) -> Result<Value, SchemaError> {
    let mut schema = Map::new();
    let value_element = |d: &TypeDef| -> Option<ElementDef> {
        let path = format!("{}.value", d.name);
        d.elements.iter().find(|e| e.path == path).cloned()
    };
    match def.json_type.unwrap_or(JsonType::String) {
        JsonType::Boolean => {
            schema.insert("type".into(), "boolean".into());
        }
        JsonType::Number => {
            schema.insert("type".into(), "number".into());
        }
        JsonType::Integer => {
            schema.insert("type".into(), "integer".into());
            // Bounds are on `integer.value`; the subtypes inherit them.
            let mut bounds = (None, None);
            let mut current = Some(def);
            while let Some(d) = current {
                if let Some(e) = value_element(d) {
                    bounds.0 = bounds.0.or(e.min_value.map(|v| v.value));
                    bounds.1 = bounds.1.or(e.max_value.map(|v| v.value));
                }
                current = d.base.as_deref().and_then(|b| model.type_def(b));
            }
            // The R4 datatypes page: positiveInt is 1.., unsignedInt 0.. (their `value`
            // elements carry only a lexical regex, which a JSON number does not go through).
            match def.name.as_str() {
                "positiveInt" => bounds.0 = Some(json!(1)),
                "unsignedInt" => bounds.0 = Some(json!(0)),
                _ => {}
            }
            if let Some(min) = bounds.0 {
                schema.insert("minimum".into(), min);
            }
            if let Some(max) = bounds.1 {
                schema.insert("maximum".into(), max);
            }
        }
        JsonType::String => {
            schema.insert("type".into(), "string".into());
            // A FHIR primitive value is never empty, whatever its regex allows.
            schema.insert("minLength".into(), 1.into());
            if let Some(max) = value_element(def).and_then(|e| e.max_length) {
                schema.insert("maxLength".into(), max.into());
            }
            if let Some(regex) = &def.regex {
                let ecma = xsd_regex_to_ecma(regex).map_err(|reason| SchemaError::Regex {
                    type_name: def.name.clone(),
                    regex: regex.clone(),
                    reason,
                })?;
                schema.insert("pattern".into(), format!("^(?:{ecma})$").into());
            }
        }
    }
    Ok(Value::Object(schema))
}

/// Translates a FHIR regex (XML Schema / Java flavour) to an ECMA-262 one with the same meaning:
/// `\s`/`\S` become the explicit XML whitespace set, `\d` becomes `[0-9]`. A class holding `\S`
/// (`[ \r\n\t\S]`) becomes the complement of the whitespace it does not list. Anything this
/// cannot translate faithfully is an error, so the generator fails rather than guesses.
pub fn xsd_regex_to_ecma(regex: &str) -> Result<String, String> {
    let chars: Vec<char> = regex.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let next = *chars.get(i + 1).ok_or("ends with a backslash")?;
                match next {
                    's' => out.push_str(&format!("[{XSD_SPACE}]")),
                    'S' => out.push_str(&format!("[^{XSD_SPACE}]")),
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                }
                i += 2;
            }
            '[' => {
                let (class, end) = translate_class(&chars, i)?;
                out.push_str(&class);
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Translates the class starting at `chars[start] == '['`; returns it and the index after `]`.
fn translate_class(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut body = String::new();
    let mut has_non_space = false;
    let mut listed: Vec<char> = Vec::new();
    let mut only_literals = true;
    loop {
        let c = *chars.get(i).ok_or("unterminated character class")?;
        match c {
            ']' => break,
            '\\' => {
                let next = *chars.get(i + 1).ok_or("ends with a backslash")?;
                match next {
                    's' => body.push_str(XSD_SPACE),
                    'S' => has_non_space = true,
                    'd' => body.push_str("0-9"),
                    _ => {
                        body.push('\\');
                        body.push(next);
                    }
                }
                match next {
                    't' => listed.push('\t'),
                    'n' => listed.push('\n'),
                    'r' => listed.push('\r'),
                    'f' => listed.push('\u{c}'),
                    'S' => {}
                    _ => only_literals = false,
                }
                i += 2;
            }
            '[' => return Err("nested character classes".into()),
            c => {
                if c == '-' {
                    only_literals = false;
                }
                listed.push(c);
                body.push(c);
                i += 1;
            }
        }
    }
    let end = i + 1;
    if !has_non_space {
        let caret = if negated { "^" } else { "" };
        return Ok((format!("[{caret}{body}]"), end));
    }
    if negated || !only_literals {
        return Err("\\S inside a class with more than single characters".into());
    }
    // Everything but the whitespace characters the class does not list.
    let spaces = [
        (' ', " "),
        ('\t', r"\t"),
        ('\n', r"\n"),
        ('\u{b}', r"\x0B"),
        ('\u{c}', r"\f"),
        ('\r', r"\r"),
    ];
    let excluded: String = spaces
        .iter()
        .filter(|(c, _)| !listed.contains(c))
        .map(|(_, escaped)| *escaped)
        .collect();
    if excluded.is_empty() {
        Ok((r"[\s\S]".into(), end))
    } else {
        Ok((format!("[^{excluded}]"), end))
    }
}

struct Generator<'m> {
    model: &'m BaseModel,
    /// Prefix of a datatype's `$ref`: local in the datatypes file, relative elsewhere.
    datatypes: &'static str,
}

/// The elements of one type grouped under their parents.
struct Tree<'a> {
    def: &'a TypeDef,
    children: HashMap<&'a str, Vec<&'a ElementDef>>,
    /// Paths some `contentReference` points at: defined once in `$defs`.
    shared: BTreeSet<String>,
}

impl Generator<'_> {
    fn datatype(&self, name: &str) -> Value {
        json!({"$ref": format!("{}{name}", self.datatypes)})
    }

    /// The object schema of a type's root; shared backbone definitions go into `defs`.
    fn type_object(
        &self,
        def: &TypeDef,
        defs: &mut BTreeMap<String, Value>,
    ) -> Result<Value, SchemaError> {
        let mut tree = Tree {
            def,
            children: HashMap::new(),
            shared: BTreeSet::new(),
        };
        for e in &def.elements {
            if e.slice_name.is_some() {
                continue;
            }
            if let Some((parent, _)) = e.path.rsplit_once('.') {
                tree.children.entry(parent).or_default().push(e);
            }
            if let Some(target) = &e.content_reference {
                tree.shared
                    .insert(target.trim_start_matches('#').to_string());
            }
        }
        for path in &tree.shared {
            let object = self.object(&tree, path)?;
            defs.insert(path.clone(), object);
        }
        self.object(&tree, &def.name)
    }

    fn object(&self, tree: &Tree<'_>, path: &str) -> Result<Value, SchemaError> {
        let is_resource = path == tree.def.name && tree.def.kind == TypeKind::Resource;
        let mut properties = Map::new();
        let mut required: Vec<String> = Vec::new();
        // Each inner list: at least one of these names must be present.
        let mut alternatives: Vec<Vec<String>> = Vec::new();
        if is_resource {
            properties.insert("resourceType".into(), json!({"const": tree.def.name}));
            required.push("resourceType".into());
        }
        for e in tree.children.get(path).into_iter().flatten() {
            let name = e.name();
            if let Some(stem) = name.strip_suffix("[x]") {
                let mut names = Vec::new();
                for t in &e.types {
                    let property = format!("{stem}{}", upper_first(&t.code));
                    let (item, primitive) = self.type_schema(t, e)?;
                    self.insert(&mut properties, &property, item, primitive, e.is_array());
                    if primitive {
                        names.push(format!("_{property}"));
                    }
                    names.push(property);
                }
                if e.min > 0 {
                    names.sort();
                    alternatives.push(names);
                }
                continue;
            }
            let (item, primitive) = if let Some(target) = &e.content_reference {
                (
                    json!({"$ref": format!("#/$defs/{}", target.trim_start_matches('#'))}),
                    false,
                )
            } else if tree.children.contains_key(e.path.as_str()) {
                if tree.shared.contains(&e.path) {
                    (json!({"$ref": format!("#/$defs/{}", e.path)}), false)
                } else {
                    (self.object(tree, &e.path)?, false)
                }
            } else {
                match e.types.as_slice() {
                    [t] => self.type_schema(t, e)?,
                    _ => {
                        return Err(SchemaError::UnknownElementType {
                            path: e.path.clone(),
                            code: format!("{} types and no children", e.types.len()),
                        });
                    }
                }
            };
            self.insert(&mut properties, name, item, primitive, e.is_array());
            if e.min > 0 {
                if primitive {
                    alternatives.push(vec![name.to_string(), format!("_{name}")]);
                } else {
                    required.push(name.to_string());
                }
            }
        }
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        if !is_resource {
            // `{}` is not a valid FHIR element.
            schema.insert("minProperties".into(), 1.into());
        }
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("additionalProperties".into(), false.into());
        if !required.is_empty() {
            schema.insert("required".into(), required.into());
        }
        let any_of = |names: Vec<String>| -> Value {
            Value::Array(
                names
                    .into_iter()
                    .map(|n| json!({"required": [n]}))
                    .collect(),
            )
        };
        match alternatives.len() {
            0 => {}
            1 => {
                let names = alternatives.remove(0);
                schema.insert("anyOf".into(), any_of(names));
            }
            _ => {
                let all: Vec<Value> = alternatives
                    .into_iter()
                    .map(|names| json!({"anyOf": any_of(names)}))
                    .collect();
                schema.insert("allOf".into(), all.into());
            }
        }
        Ok(Value::Object(schema))
    }

    /// A property, its `_name` sibling for primitives, as arrays when the element repeats.
    fn insert(
        &self,
        properties: &mut Map<String, Value>,
        name: &str,
        item: Value,
        primitive: bool,
        array: bool,
    ) {
        let wrap = |item: Value| -> Value {
            if !array {
                return item;
            }
            // In primitive arrays `null` holds the place of a value that only has a `_name`.
            let item = if primitive {
                json!({"anyOf": [{"type": "null"}, item]})
            } else {
                item
            };
            json!({"type": "array", "minItems": 1, "items": item})
        };
        properties.insert(name.to_string(), wrap(item));
        if primitive {
            properties.insert(format!("_{name}"), wrap(self.datatype(PRIMITIVE_ELEMENT)));
        }
    }

    /// The schema of one type reference, and whether it is an extensible primitive.
    fn type_schema(&self, t: &TypeRef, e: &ElementDef) -> Result<(Value, bool), SchemaError> {
        if t.is_system() {
            // `Element.id`, `Extension.url`, `Resource.id`: primitive rules, no `_name`.
            let schema = match &t.fhir_type {
                Some(f) if self.model.is_primitive(f) => self.datatype(f),
                _ => json!({"type": system_json_type(&t.code)}),
            };
            return Ok((schema, false));
        }
        let unknown = || SchemaError::UnknownElementType {
            path: e.path.clone(),
            code: t.code.clone(),
        };
        let def = self.model.type_def(&t.code).ok_or_else(unknown)?;
        match def.kind {
            TypeKind::PrimitiveType => Ok((self.datatype(&def.name), true)),
            TypeKind::Resource => Ok((self.datatype(ANY_RESOURCE), false)),
            TypeKind::ComplexType if !def.is_abstract => Ok((self.datatype(&def.name), false)),
            TypeKind::ComplexType => Err(unknown()),
        }
    }
}

fn system_json_type(code: &str) -> &'static str {
    match code.rsplit('.').next() {
        Some("Boolean") => "boolean",
        Some("Integer") => "integer",
        Some("Decimal") => "number",
        _ => "string",
    }
}

/// The compiled structural validators, one per resource type, compiled on first use (a few
/// milliseconds each) and kept.
pub struct StructuralSchemas<'m> {
    model: &'m BaseModel,
    registry: jsonschema::Registry<'static>,
    validators: HashMap<String, OnceLock<Result<jsonschema::Validator, String>>>,
}

impl std::fmt::Debug for StructuralSchemas<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructuralSchemas")
            .field("package", &self.model.package())
            .field("types", &self.validators.len())
            .finish_non_exhaustive()
    }
}

impl<'m> StructuralSchemas<'m> {
    pub fn new(model: &'m BaseModel) -> Result<Self, SchemaError> {
        let datatypes = datatypes_schema(model)?;
        let registry = jsonschema::Registry::new()
            .add(format!("{SCHEMA_BASE_URI}{DATATYPES_FILE}"), datatypes)
            .and_then(|builder| builder.prepare())
            .map_err(|e| SchemaError::Compile {
                type_name: DATATYPES_FILE.into(),
                reason: e.to_string(),
            })?;
        let validators = model
            .types()
            .iter()
            .filter(|t| t.kind == TypeKind::Resource && !t.is_abstract)
            .map(|t| (t.name.clone(), OnceLock::new()))
            .collect();
        Ok(Self {
            model,
            registry,
            validators,
        })
    }

    /// Over the embedded base model, built once.
    pub fn embedded() -> Result<&'static StructuralSchemas<'static>, SchemaError> {
        static SCHEMAS: OnceLock<Result<StructuralSchemas<'static>, String>> = OnceLock::new();
        SCHEMAS
            .get_or_init(|| {
                let model = BaseModel::load_embedded().map_err(|e| e.to_string())?;
                StructuralSchemas::new(model).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| SchemaError::Compile {
                type_name: "(embedded model)".into(),
                reason: reason.clone(),
            })
    }

    pub fn validator(&self, resource_type: &str) -> Result<&jsonschema::Validator, SchemaError> {
        let cell = self
            .validators
            .get(resource_type)
            .ok_or_else(|| SchemaError::UnknownType(resource_type.to_string()))?;
        cell.get_or_init(|| {
            let schema = resource_schema(self.model, resource_type).map_err(|e| e.to_string())?;
            jsonschema::options()
                .with_registry(&self.registry)
                .with_pattern_options(jsonschema::PatternOptions::regex())
                .build(&schema)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| SchemaError::Compile {
            type_name: resource_type.to_string(),
            reason: reason.clone(),
        })
    }

    fn validator_for(&self, resource: &Value) -> Result<&jsonschema::Validator, SchemaError> {
        let resource_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .ok_or(SchemaError::NoResourceType)?;
        self.validator(resource_type)
    }

    /// Whether a resource passes the structural schema of its `resourceType`.
    pub fn is_valid(&self, resource: &Value) -> Result<bool, SchemaError> {
        Ok(self.validator_for(resource)?.is_valid(resource))
    }

    /// Every structural problem: the JSON pointer into the instance and the message.
    pub fn errors(&self, resource: &Value) -> Result<Vec<StructuralIssue>, SchemaError> {
        Ok(self
            .validator_for(resource)?
            .iter_errors(resource)
            .map(|e| describe(&e))
            .collect())
    }

    /// The first structural problem, found without building the list of all of them (which
    /// costs in proportion to the errors, however many a hostile instance holds).
    pub fn first_error(&self, resource: &Value) -> Result<Option<StructuralIssue>, SchemaError> {
        Ok(self
            .validator_for(resource)?
            .validate(resource)
            .err()
            .map(|e| describe(&e)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuralIssue {
    /// JSON pointer into the instance (`/name/0/given`).
    pub pointer: String,
    /// The member the problem is about when the pointer names its parent object (a required
    /// element that is missing).
    pub property: Option<String>,
    pub message: String,
}

/// Longest instance text quoted in a message: the library quotes the whole value, which for an
/// object is the whole subtree.
const QUOTE_MAX: usize = 200;

/// An error in words. A required primitive is required as `name` or `_name` (an `anyOf` of two
/// `required`), which the library reports as a dump of the object "not valid under any of the
/// schemas listed in the 'anyOf' keyword": that becomes "required element missing" on the
/// element. A primitive array item may be `null` or the value (another `anyOf`): the value's
/// error is the one meant.
fn describe(e: &jsonschema::ValidationError<'_>) -> StructuralIssue {
    use jsonschema::error::{TypeKind as Types, ValidationErrorKind as Kind};
    use jsonschema::types::JsonType;
    let pointer = e.instance_path().to_string();
    let plain = |message: String| StructuralIssue {
        pointer: pointer.clone(),
        property: None,
        message,
    };
    match e.kind() {
        Kind::Required { property } => StructuralIssue {
            pointer: pointer.clone(),
            property: property.as_str().map(str::to_string),
            message: "required element missing".into(),
        },
        Kind::AdditionalProperties { unexpected } => {
            plain(format!("unknown element(s) {}", unexpected.join(", ")))
        }
        Kind::AnyOf { context } => {
            let required: Option<Vec<&str>> = context
                .iter()
                .flatten()
                .map(|b| match b.kind() {
                    Kind::Required { property } => property.as_str(),
                    _ => None,
                })
                .collect();
            if let Some(names) = required
                && let Some(name) = names.iter().find(|n| !n.starts_with('_')).or(names.first())
            {
                return StructuralIssue {
                    pointer: pointer.clone(),
                    property: Some((*name).to_string()),
                    message: "required element missing".into(),
                };
            }
            let meant = context.iter().flatten().find(|b| {
                !matches!(
                    b.kind(),
                    Kind::Type {
                        kind: Types::Single(JsonType::Null)
                    }
                )
            });
            match meant {
                Some(b) => describe(b),
                None => plain(quoted(&e.to_string())),
            }
        }
        _ => plain(quoted(&e.to_string())),
    }
}

fn quoted(message: &str) -> String {
    match message.char_indices().nth(QUOTE_MAX) {
        Some((i, _)) => format!("{}…", &message[..i]),
        None => message.to_string(),
    }
}
