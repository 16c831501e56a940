//! What the XML form needs to know of every element, built once from the compact base model:
//! its place in the definition order, whether it repeats, and how it is written (a primitive with
//! a `value` attribute, an XML attribute, xhtml, a complex element, or a resource container).
//! JSON names index it, so a concrete choice name (`valueQuantity`) finds its element directly.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::model::{BaseModel, ElementDef, JsonType, TypeKind, TypeRef, upper_first};

/// How a primitive's text becomes JSON: FHIR JSON writes booleans and numbers unquoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Boolean,
    Number,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<name value="…" id="…">` with extensions as children; `name`/`_name` in JSON.
    Primitive(Scalar),
    /// `Element.id` and `Extension.url`: attributes of their parent element.
    Attribute,
    /// `Narrative.div`: XHTML kept as it is written.
    Xhtml,
    /// A datatype or backbone element: the index of its [`Context`].
    Complex(usize),
    /// `contained`, `Bundle.entry.resource`…: one resource element inside.
    Resource,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Position in the definition order of the parent.
    pub order: u16,
    pub repeats: bool,
    pub kind: Kind,
}

/// Element names are short, trusted (they come from the model, and a lookup of a client's name
/// only finds or misses), and looked up once per element converted: a multiply-rotate hash
/// costs a fraction of SipHash here.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Names<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

/// The children of one type or backbone element, by JSON name.
#[derive(Debug, Default)]
pub struct Context {
    /// The type name or backbone path, for messages.
    pub name: String,
    fields: Names<Field>,
}

impl Context {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.get(name)
    }
}

#[derive(Debug, Default)]
pub struct Layout {
    contexts: Vec<Context>,
    /// Type names and backbone paths → context.
    by_name: Names<usize>,
    resources: Names<usize>,
    /// The context of `Element`: a primitive's `id` and `extension`.
    element: usize,
}

impl Layout {
    /// The layout of the embedded R4 model, built on first use.
    pub fn get() -> Option<&'static Layout> {
        static LAYOUT: OnceLock<Option<Layout>> = OnceLock::new();
        LAYOUT
            .get_or_init(|| BaseModel::load_embedded().ok().map(Layout::build))
            .as_ref()
    }

    pub fn context(&self, index: usize) -> &Context {
        &self.contexts[index]
    }

    /// The context of a concrete resource type (`Patient`), none for other names.
    pub fn resource(&self, resource_type: &str) -> Option<usize> {
        self.resources.get(resource_type).copied()
    }

    pub fn element(&self) -> usize {
        self.element
    }

    pub fn build(model: &BaseModel) -> Layout {
        let mut layout = Layout::default();
        // First every context gets its index, so elements can point at contexts defined later.
        for def in model.types() {
            if def.kind == TypeKind::PrimitiveType {
                continue;
            }
            layout.intern(&def.name);
            for e in &def.elements {
                if let Some((parent, _)) = e.path.rsplit_once('.') {
                    layout.intern(parent);
                }
            }
            if def.kind == TypeKind::Resource && !def.is_abstract {
                let index = layout.intern(&def.name);
                layout.resources.insert(def.name.clone(), index);
            }
        }
        for def in model.types() {
            if def.kind == TypeKind::PrimitiveType {
                continue;
            }
            let is_resource = def.kind == TypeKind::Resource;
            let mut order: HashMap<usize, u16> = HashMap::new();
            for e in def.elements.iter().filter(|e| e.slice_name.is_none()) {
                let Some((parent, name)) = e.path.rsplit_once('.') else {
                    continue;
                };
                let Some(&context) = layout.by_name.get(parent) else {
                    continue;
                };
                let next = order.entry(context).or_default();
                let position = *next;
                *next += 1;
                let at_root = is_resource && parent == def.name;
                for (json_name, kind) in layout.kinds(model, e, name, at_root) {
                    let field = Field {
                        order: position,
                        repeats: e.is_array(),
                        kind,
                    };
                    layout.contexts[context].fields.insert(json_name, field);
                }
            }
        }
        layout.element = layout.by_name.get("Element").copied().unwrap_or(0);
        layout
    }

    fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        self.contexts.push(Context {
            name: name.to_string(),
            fields: Names::default(),
        });
        self.by_name
            .insert(name.to_string(), self.contexts.len() - 1);
        self.contexts.len() - 1
    }

    /// The JSON names of one element (one per type of a choice) and how each is written.
    fn kinds(
        &self,
        model: &BaseModel,
        e: &ElementDef,
        name: &str,
        at_root: bool,
    ) -> Vec<(String, Kind)> {
        if let Some(target) = &e.content_reference {
            let target = target.trim_start_matches('#');
            let kind = self
                .by_name
                .get(target)
                .map_or(Kind::Resource, |&c| Kind::Complex(c));
            return vec![(name.to_string(), kind)];
        }
        if let Some(&own) = self.by_name.get(&e.path) {
            return vec![(name.to_string(), Kind::Complex(own))];
        }
        match name.strip_suffix("[x]") {
            Some(stem) => e
                .types
                .iter()
                .map(|t| {
                    let kind = self.kind_of(model, t, at_root);
                    (format!("{stem}{}", upper_first(&t.code)), kind)
                })
                .collect(),
            None => e
                .types
                .first()
                .map(|t| vec![(name.to_string(), self.kind_of(model, t, at_root))])
                .unwrap_or_default(),
        }
    }

    fn kind_of(&self, model: &BaseModel, t: &TypeRef, at_root: bool) -> Kind {
        if t.is_system() {
            // `Resource.id` is an element like any primitive; the other system-typed elements
            // (`Element.id`, `Extension.url`) are attributes in XML.
            return if at_root {
                Kind::Primitive(Scalar::Text)
            } else {
                Kind::Attribute
            };
        }
        if t.code == "xhtml" {
            return Kind::Xhtml;
        }
        if t.code == "Resource" || model.is_resource(&t.code) {
            return Kind::Resource;
        }
        match model.type_def(&t.code) {
            Some(def) if def.kind == TypeKind::PrimitiveType => {
                Kind::Primitive(match def.json_type {
                    Some(JsonType::Boolean) => Scalar::Boolean,
                    Some(JsonType::Integer | JsonType::Number) => Scalar::Number,
                    _ => Scalar::Text,
                })
            }
            _ => self
                .by_name
                .get(&t.code)
                .map_or(Kind::Primitive(Scalar::Text), |&c| Kind::Complex(c)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field(layout: &Layout, context: &str, name: &str) -> Field {
        let c = layout.by_name[context];
        *layout.context(c).field(name).unwrap()
    }

    #[test]
    fn elements_are_classified_as_the_xml_form_writes_them() {
        let layout = Layout::get().unwrap();
        assert_eq!(
            field(layout, "Patient", "id").kind,
            Kind::Primitive(Scalar::Text)
        );
        assert_eq!(field(layout, "Extension", "url").kind, Kind::Attribute);
        assert_eq!(field(layout, "HumanName", "id").kind, Kind::Attribute);
        assert_eq!(field(layout, "Bundle.entry", "id").kind, Kind::Attribute);
        assert_eq!(field(layout, "Narrative", "div").kind, Kind::Xhtml);
        assert_eq!(field(layout, "Patient", "contained").kind, Kind::Resource);
        assert_eq!(
            field(layout, "Bundle.entry", "resource").kind,
            Kind::Resource
        );
        assert_eq!(
            field(layout, "Patient", "active").kind,
            Kind::Primitive(Scalar::Boolean)
        );
        assert_eq!(
            field(layout, "Observation", "valueQuantity").kind,
            Kind::Complex(layout.by_name["Quantity"])
        );
        assert_eq!(
            field(layout, "Observation", "valueInteger").kind,
            Kind::Primitive(Scalar::Number)
        );
        assert!(field(layout, "Patient", "name").repeats);
        assert!(!field(layout, "Patient", "gender").repeats);
        // A contentReference reuses the children of its target.
        assert_eq!(
            field(layout, "Questionnaire.item", "item").kind,
            Kind::Complex(layout.by_name["Questionnaire.item"])
        );
    }

    #[test]
    fn order_follows_the_definitions() {
        let layout = Layout::get().unwrap();
        let order = |n| field(layout, "Patient", n).order;
        assert!(order("id") < order("meta"));
        assert!(order("text") < order("contained"));
        assert!(order("extension") < order("identifier"));
        assert!(order("deceasedBoolean") == order("deceasedDateTime"));
        assert!(order("name") < order("telecom"));
        assert!(layout.resource("Patient").is_some());
        assert!(layout.resource("Resource").is_none());
    }
}
