//! Compiled plans: one StructureDefinition (a profile from a package, or a base type from the
//! embedded model) turned once into a tree of element nodes with pre-parsed invariants and a
//! JSON-key index per node, so a request never re-reads definitions.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::super::fhirpath::Expression;
use super::discriminators::SliceSpecs;
use crate::fhir::{Issue, IssueType, ServiceRule, Text};
use crate::model::generate::element_from_snapshot;
use crate::model::{BaseModel, ElementDef, Severity, upper_first};

/// An invariant ready to evaluate; `expr` is `Err(why)` when it cannot be evaluated at all
/// (syntax the engine does not read, functions it does not implement).
pub(crate) struct Invariant {
    pub key: String,
    pub severity: Severity,
    pub expr: Result<Expression, String>,
    /// The service rule it states (number and text), reported with its violations.
    pub rule: Option<ServiceRule>,
}

/// One JSON member name an element may appear under, with what the walk needs for it.
pub(crate) struct JsonKey {
    pub key: String,
    /// `_key`: the primitive's extension half.
    pub ext_key: String,
    /// The FHIR type an item under this key has.
    pub ty: &'static str,
    /// Appended to the parent's location: `.name` or `.name.ofType(Type)`.
    pub suffix: String,
}

pub(crate) struct PNode {
    pub def: ElementDef,
    /// Element id (the path when the definition has none): the rule source names it.
    pub id: String,
    /// The last path segment without `[x]`.
    pub name: String,
    pub choice: bool,
    /// Whether JSON carries it as an array: the base definition decides, not the profile's max.
    pub array: bool,
    pub children: Vec<usize>,
    /// JSON key (without `_`) → (child, index into its `types` for a concrete choice name).
    pub keys: foldhash::HashMap<String, (usize, Option<usize>)>,
    /// Slices of this element (its sliced definition is this node), in snapshot order.
    pub slices: Vec<usize>,
    /// Node whose children a `contentReference` reuses.
    pub content_ref: Option<usize>,
    pub invariants: Vec<Invariant>,
    /// Key/type-code for FHIRPath: the inline definition path for backbone elements.
    pub inline_type: Option<String>,
    /// The slice side of this element's discriminators, worked out on first use (it needs
    /// other plans: type profiles, base types).
    pub slice_specs: OnceLock<SliceSpecs>,
    /// The resource types this Reference element's `targetProfile`s allow (`None`: any), worked
    /// out on first use (it needs the profiles' plans).
    pub target_types: OnceLock<Option<Vec<String>>>,
    pub json_keys: Vec<JsonKey>,
}

impl PNode {
    pub fn max(&self) -> Option<u32> {
        self.def.max_count()
    }
}

pub(crate) struct Plan {
    pub url: String,
    /// The type the definition constrains (`Patient`, `Extension`, `CodeableConcept`).
    pub type_name: String,
    pub nodes: Vec<PNode>,
    /// An extension definition's `context`: where the extension may be used, as (type,
    /// expression) pairs.
    pub contexts: Vec<(String, String)>,
}

impl Plan {
    /// `url#element-id`: where a structural rule comes from.
    pub fn source(&self, node: usize) -> String {
        format!("{}#{}", self.url, self.nodes[node].id)
    }

    /// An error at `at` raised by the rule of node `n`.
    pub fn error(
        &self,
        n: usize,
        code: IssueType,
        text: impl Into<Text>,
        at: impl Into<String>,
    ) -> Issue {
        Issue::error(code, text).at(at).from_rule(self.source(n))
    }

    /// A warning at `at` raised by the rule of node `n`.
    pub fn warning(
        &self,
        n: usize,
        code: IssueType,
        text: impl Into<Text>,
        at: impl Into<String>,
    ) -> Issue {
        Issue::warning(code, text).at(at).from_rule(self.source(n))
    }

    /// A child of `node` by element name (without `[x]`).
    pub fn child_named(&self, node: usize, name: &str) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == name)
    }

    /// Compiles a StructureDefinition with a snapshot.
    pub fn from_structure_definition(sd: &Value, model: &BaseModel) -> Result<Plan, String> {
        let url = sd.get("url").and_then(Value::as_str).unwrap_or_default();
        let ty = sd
            .get("type")
            .and_then(Value::as_str)
            .ok_or("StructureDefinition has no type")?;
        let elements = sd
            .pointer("/snapshot/element")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{url} has no snapshot"))?
            .iter()
            .map(element_from_snapshot)
            .collect::<Result<Vec<_>, _>>()?;
        let base_max: Vec<Option<&str>> = sd
            .pointer("/snapshot/element")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| e.pointer("/base/max").and_then(Value::as_str))
            .collect();
        let mut plan = Plan::build(url, ty, elements, model);
        // A snapshot element's `base.max` is the base definition's maximum, whatever the profile
        // narrowed it to: it decides the JSON shape even where the base model cannot follow the
        // path (inside a choice element, `Observation.value[x].coding.extension`).
        for (node, max) in plan.nodes.iter_mut().zip(base_max).skip(1) {
            if let Some(max) = max {
                node.array = max != "1";
            }
        }
        plan.contexts = sd
            .get("context")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let field = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
                Some((field("type")?, field("expression")?))
            })
            .collect();
        Ok(plan)
    }

    pub fn build(url: &str, type_name: &str, elements: Vec<ElementDef>, model: &BaseModel) -> Plan {
        let mut nodes: Vec<PNode> = Vec::with_capacity(elements.len());
        let mut ids: HashMap<String, usize> = HashMap::new();
        for (i, def) in elements.into_iter().enumerate() {
            let id = def.id.clone().unwrap_or_else(|| def.path.clone());
            let raw_name = def.name().to_string();
            let choice = def.is_choice();
            let name = raw_name.trim_end_matches("[x]").to_string();
            let array = if i == 0 {
                false
            } else {
                model
                    .element(&def.path)
                    .map_or_else(|| def.is_array(), ElementDef::is_array)
            };
            let invariants = def
                .constraints
                .iter()
                .filter(|c| c.key != "ele-1")
                .filter_map(|c| {
                    let src = c.expression.as_deref()?;
                    let expr = match Expression::parse(src) {
                        Ok(e) => {
                            let missing = e.unsupported_functions();
                            if missing.is_empty() {
                                Ok(e)
                            } else {
                                Err(format!("unsupported function(s) {}", missing.join(", ")))
                            }
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    Some(Invariant {
                        key: c.key.clone(),
                        severity: c.severity,
                        expr,
                        rule: ServiceRule::of_invariant(&c.key, c.human.as_deref()),
                    })
                })
                .collect();
            let inline_type = match def.types.as_slice() {
                [t] if i > 0 && (t.code == "BackboneElement" || t.code == "Element") => {
                    Some(def.path.clone())
                }
                _ => None,
            };
            let json_keys = if choice {
                def.types
                    .iter()
                    .map(|t| {
                        let key = format!("{name}{}", upper_first(&t.code));
                        JsonKey {
                            ext_key: format!("_{key}"),
                            key,
                            ty: super::type_names::intern(t.fhir_type()),
                            suffix: format!(".{name}.ofType({})", t.code),
                        }
                    })
                    .collect()
            } else {
                vec![JsonKey {
                    key: name.clone(),
                    ext_key: format!("_{name}"),
                    ty: def
                        .types
                        .first()
                        .map_or("", |t| super::type_names::intern(t.fhir_type())),
                    suffix: format!(".{name}"),
                }]
            };
            let me = nodes.len();
            if i > 0 {
                attach(&mut nodes, &ids, &def, &id, me);
            }
            ids.insert(id.clone(), me);
            nodes.push(PNode {
                def,
                id,
                name,
                choice,
                array,
                children: Vec::new(),
                keys: foldhash::HashMap::default(),
                slices: Vec::new(),
                content_ref: None,
                invariants,
                inline_type,
                slice_specs: OnceLock::new(),
                target_types: OnceLock::new(),
                json_keys,
            });
        }
        for n in 0..nodes.len() {
            if let Some(target) = nodes[n].def.content_reference.clone() {
                let target = target.rsplit('#').next().unwrap_or(&target).to_string();
                nodes[n].content_ref = ids.get(&target).copied();
                nodes[n].inline_type = Some(target);
            }
            let mut keys = foldhash::HashMap::default();
            for &c in &nodes[n].children {
                let child = &nodes[c];
                if child.choice {
                    for (t, ty) in child.def.types.iter().enumerate() {
                        keys.insert(
                            format!("{}{}", child.name, upper_first(&ty.code)),
                            (c, Some(t)),
                        );
                    }
                } else {
                    keys.insert(child.name.clone(), (c, None));
                }
            }
            nodes[n].keys = keys;
        }
        Plan {
            url: url.to_string(),
            type_name: type_name.to_string(),
            nodes,
            contexts: Vec::new(),
        }
    }
}

/// Hangs element `me` under its parent (by id) or, for a slice, under the element it slices.
fn attach(
    nodes: &mut [PNode],
    ids: &HashMap<String, usize>,
    def: &ElementDef,
    id: &str,
    me: usize,
) {
    let last = id.rsplit('.').next().unwrap_or(id);
    if let Some(slice) = &def.slice_name
        && last.contains(':')
    {
        // Re-slices are named `a/b` and slice the slice `a`.
        // A `/` in a name is a re-slice only when the slice before it exists (JP-CLINS names
        // plain slices `coreLaboJLAC10/k`).
        let own = slice.rsplit('/').next().unwrap_or(slice);
        let reslice_base = id
            .strip_suffix(own)
            .and_then(|b| b.strip_suffix('/'))
            .and_then(|b| ids.get(b));
        let plain_base = id
            .strip_suffix(slice.as_str())
            .and_then(|b| b.strip_suffix(':'))
            .and_then(|b| ids.get(b));
        if let Some(&b) = reslice_base.or(plain_base) {
            nodes[b].slices.push(me);
        }
        return;
    }
    if let Some((parent, _)) = id.rsplit_once('.')
        && let Some(&p) = ids.get(parent)
    {
        nodes[p].children.push(me);
    }
}
