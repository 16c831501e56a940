//! The compact, prose-free model of the R4 base definitions: every primitive type, complex type
//! and resource of `hl7.fhir.r4.core` (specializations, plus the abstract `Element`,
//! `BackboneElement`, `Resource`, `DomainResource`) with their snapshot elements reduced to what
//! validation reads — paths, cardinalities, types, bindings, fixed/pattern values, constraint
//! keys/severities/expressions — and no descriptive text.
//!
//! It is generated from the core package by `kyoyu package generate-base` ([`generate`]) into
//! `fhir-schemas/r4-model.json`, committed, and compiled into the binary, so a fresh machine has
//! the base definitions without any package installed ([`BaseModel::load_embedded`]). The JSON
//! Schemas of the fast structural pass ([`schema`]) are derived from this model alone.

pub mod compartment;
pub mod generate;
pub mod schema;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use generate::{
    GenerateReport, ModelError, build_base_model, generate_base, render_files, render_model,
};
pub use schema::{SchemaError, StructuralIssue, StructuralSchemas};

/// The committed model, compiled in.
const EMBEDDED_MODEL: &str = include_str!("../../fhir-schemas/r4-model.json");

/// The FHIR R4 primitive type names (those whose JSON form is a JSON scalar).
pub const PRIMITIVE_TYPES: &[&str] = &[
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
    "xhtml",
];

/// Type codes of the FHIRPath system types that R4 snapshots use for elements that are not
/// extensible FHIR primitives (`Element.id`, `Extension.url`, `Resource.id`, primitives' `value`).
pub const SYSTEM_TYPE_PREFIX: &str = "http://hl7.org/fhirpath/System.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TypeKind {
    PrimitiveType,
    ComplexType,
    Resource,
}

/// How a primitive is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    Boolean,
    Integer,
    Number,
    String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeDef {
    pub name: String,
    pub kind: TypeKind,
    pub url: String,
    /// The type it specializes (`DomainResource`, `Element`, `integer`…); none for the roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, rename = "abstract", skip_serializing_if = "is_false")]
    pub is_abstract: bool,
    /// Primitives only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_type: Option<JsonType>,
    /// Primitives only: the lexical form as published (XML Schema flavour: `\s` is the four XML
    /// whitespace characters). [`schema::xsd_regex_to_ecma`] translates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Snapshot order.
    pub elements: Vec<ElementDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementDef {
    pub path: String,
    /// Only when it differs from the path (slices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice_name: Option<String>,
    pub min: u32,
    /// A number or `*`.
    pub max: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<TypeRef>,
    /// `#Path.of.definition` whose children this element reuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<TypedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<TypedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<TypedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<TypedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Keys of constraints (elsewhere) that refer to this element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub condition: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slicing: Option<Slicing>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_modifier: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_summary: bool,
}

impl ElementDef {
    /// The last path segment (`value[x]`, `name`).
    pub fn name(&self) -> &str {
        self.path.rsplit_once('.').map_or(&self.path, |(_, n)| n)
    }

    pub fn is_choice(&self) -> bool {
        self.path.ends_with("[x]")
    }

    /// Whether JSON carries it as an array (any maximum other than 1; `0` never occurs in a
    /// base definition).
    pub fn is_array(&self) -> bool {
        self.max != "1"
    }

    /// The maximum as a number; `None` for `*`.
    pub fn max_count(&self) -> Option<u32> {
        self.max.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeRef {
    /// A FHIR type name, or a FHIRPath system type URL (see [`SYSTEM_TYPE_PREFIX`]).
    pub code: String,
    /// For system types: the FHIR type whose lexical rules apply (from the
    /// `structuredefinition-fhir-type` extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhir_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_profile: Vec<String>,
}

impl TypeRef {
    pub fn is_system(&self) -> bool {
        self.code.starts_with(SYSTEM_TYPE_PREFIX)
    }

    /// The FHIR type whose rules apply: the code, or for system types the `fhir_type`.
    pub fn fhir_type(&self) -> &str {
        match &self.fhir_type {
            Some(t) if self.is_system() => t,
            _ => &self.code,
        }
    }
}

/// A `fixed[x]`, `pattern[x]`, `minValue[x]` or `maxValue[x]`: the `[x]` type and the JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedValue {
    #[serde(rename = "type")]
    pub type_code: String,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingStrength {
    Required,
    Extensible,
    Preferred,
    Example,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub strength: BindingStrength,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_set: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub key: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The rule in words, as the profile's author wrote it; read from packages only, not kept
    /// in the embedded base model (the base rules' issues speak from the catalogue).
    #[serde(skip)]
    pub human: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlicingRules {
    #[serde(rename = "closed")]
    Closed,
    #[serde(rename = "open")]
    Open,
    #[serde(rename = "openAtEnd")]
    OpenAtEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discriminator {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slicing {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discriminator: Vec<Discriminator>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub ordered: bool,
    pub rules: SlicingRules,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embedded fhir-schemas/r4-model.json is invalid: {0}")]
pub struct EmbeddedModelError(pub String);

/// What the model file holds; [`BaseModel`] adds the lookup indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelData {
    pub fhir_version: String,
    /// `name#version` of the package it was generated from.
    pub package: String,
    /// By name.
    pub types: Vec<TypeDef>,
}

/// The base model with its indexes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "ModelData", into = "ModelData")]
pub struct BaseModel {
    data: ModelData,
    index: Index,
}

impl PartialEq for BaseModel {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl From<ModelData> for BaseModel {
    fn from(data: ModelData) -> Self {
        let index = Index::build(&data.types);
        Self { data, index }
    }
}

impl From<BaseModel> for ModelData {
    fn from(model: BaseModel) -> Self {
        model.data
    }
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    ty: usize,
    element: usize,
    /// For a concrete choice name (`Observation.valueQuantity`): the chosen entry of `types`.
    choice: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Index {
    types: HashMap<String, usize>,
    /// Every element path, and every concrete name of a choice element.
    paths: HashMap<String, Loc>,
    /// Paths that have child elements in their own type → those children, in snapshot order.
    children: HashMap<String, (usize, Vec<usize>)>,
}

impl Index {
    fn build(types: &[TypeDef]) -> Self {
        let mut index = Index::default();
        for (ty, def) in types.iter().enumerate() {
            index.types.insert(def.name.clone(), ty);
            for (element, e) in def.elements.iter().enumerate() {
                if e.slice_name.is_some() {
                    continue;
                }
                index.paths.insert(
                    e.path.clone(),
                    Loc {
                        ty,
                        element,
                        choice: None,
                    },
                );
                if let Some(stem) = e.path.strip_suffix("[x]") {
                    for (choice, t) in e.types.iter().enumerate() {
                        index.paths.insert(
                            format!("{stem}{}", upper_first(&t.code)),
                            Loc {
                                ty,
                                element,
                                choice: Some(choice),
                            },
                        );
                    }
                }
                if let Some((parent, _)) = e.path.rsplit_once('.') {
                    index
                        .children
                        .entry(parent.to_string())
                        .or_insert_with(|| (ty, Vec::new()))
                        .1
                        .push(element);
                }
            }
        }
        index
    }
}

/// `valueQuantity` from `value[x]` + `Quantity`, `valueDateTime` from `dateTime`.
pub fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A child element as seen from its parent.
#[derive(Debug, Clone)]
pub struct Child<'a> {
    pub element: &'a ElementDef,
    /// The element's types, or the one a concrete choice name picked.
    pub types: Vec<&'a TypeRef>,
    /// Where this child's own children are defined: a backbone element's path, a
    /// `contentReference` target, or the name of its (single) type. Pass it back to
    /// [`BaseModel::child_type`] to go one level deeper.
    pub context: Option<String>,
}

impl BaseModel {
    /// The model compiled into the binary, parsed on first use (≈ tens of milliseconds).
    /// The tests parse the same file, so an error here means a build from a broken checkout.
    pub fn load_embedded() -> Result<&'static BaseModel, EmbeddedModelError> {
        static MODEL: OnceLock<Result<BaseModel, EmbeddedModelError>> = OnceLock::new();
        MODEL
            .get_or_init(|| {
                serde_json::from_str(EMBEDDED_MODEL).map_err(|e| EmbeddedModelError(e.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn new(data: ModelData) -> Self {
        data.into()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn data(&self) -> &ModelData {
        &self.data
    }

    pub fn fhir_version(&self) -> &str {
        &self.data.fhir_version
    }

    /// `name#version` of the source package.
    pub fn package(&self) -> &str {
        &self.data.package
    }

    pub fn types(&self) -> &[TypeDef] {
        &self.data.types
    }

    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.index.types.get(name).map(|&i| &self.data.types[i])
    }

    pub fn is_primitive(&self, name: &str) -> bool {
        self.type_def(name)
            .is_some_and(|t| t.kind == TypeKind::PrimitiveType)
    }

    pub fn is_resource(&self, name: &str) -> bool {
        self.type_def(name)
            .is_some_and(|t| t.kind == TypeKind::Resource)
    }

    fn at(&self, loc: Loc) -> &ElementDef {
        &self.data.types[loc.ty].elements[loc.element]
    }

    /// The element at a path, following backbone elements, `contentReference`s and datatypes:
    /// `Patient.name`, `Observation.value[x]`, `Observation.valueQuantity`,
    /// `Patient.name.family` (into HumanName), `Questionnaire.item.item.linkId`.
    pub fn element(&self, path: &str) -> Option<&ElementDef> {
        if let Some(&loc) = self.index.paths.get(path) {
            return Some(self.at(loc));
        }
        let mut segments = path.split('.');
        let mut context = segments.next()?.to_string();
        self.type_def(&context)?;
        let mut found = None;
        for segment in segments {
            let child = self.child_type(&context, segment)?;
            found = Some(child.element);
            context = child.context.unwrap_or_default();
        }
        found
    }

    /// The child `name` of `parent` (a type name or a path given by [`Child::context`]); `name`
    /// may be a choice element's `value[x]` or a concrete `valueQuantity`.
    pub fn child_type(&self, parent: &str, name: &str) -> Option<Child<'_>> {
        let direct = format!("{parent}.{name}");
        if let Some(&loc) = self.index.paths.get(&direct) {
            let element = self.at(loc);
            let types: Vec<&TypeRef> = match loc.choice {
                Some(i) => element.types.get(i).into_iter().collect(),
                None => element.types.iter().collect(),
            };
            let context = self.context_of(element, &types);
            return Some(Child {
                element,
                types,
                context,
            });
        }
        // `parent` may be an element whose children live elsewhere.
        let loc = *self.index.paths.get(parent)?;
        let element = self.at(loc);
        let types: Vec<&TypeRef> = match loc.choice {
            Some(i) => element.types.get(i).into_iter().collect(),
            None => element.types.iter().collect(),
        };
        let next = self.context_of(element, &types)?;
        if next == parent {
            return None;
        }
        self.child_type(&next, name)
    }

    /// The children of `context` (a type name or a [`Child::context`]), in snapshot order.
    pub fn children(&self, context: &str) -> Vec<&ElementDef> {
        if let Some((ty, elements)) = self.index.children.get(context) {
            let def = &self.data.types[*ty];
            return elements.iter().map(|&i| &def.elements[i]).collect();
        }
        match self.index.paths.get(context) {
            Some(&loc) => {
                let element = self.at(loc);
                let types: Vec<&TypeRef> = match loc.choice {
                    Some(i) => element.types.get(i).into_iter().collect(),
                    None => element.types.iter().collect(),
                };
                match self.context_of(element, &types) {
                    Some(next) if next != context => self.children(&next),
                    _ => Vec::new(),
                }
            }
            None => Vec::new(),
        }
    }

    fn context_of(&self, element: &ElementDef, types: &[&TypeRef]) -> Option<String> {
        if let Some(target) = &element.content_reference {
            return Some(target.trim_start_matches('#').to_string());
        }
        if self.index.children.contains_key(&element.path) {
            return Some(element.path.clone());
        }
        match types {
            [single] if !single.is_system() => Some(single.code.clone()),
            _ => None,
        }
    }
}
