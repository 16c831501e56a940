//! Extensions: a definition looked up by its URL when the element names no profile, and the
//! use of each extension held to its definition's `context` (R4: `element` paths and type
//! names, `extension` URLs). A context of another kind (`fhirpath`, or a type R4 does not
//! define) is not checked: the extension then passes, as nothing here can decide it.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::plan::Plan;
use super::walker::{Item, Walker};
use crate::fhir::{Issue, IssueType};
use crate::messages::ConformanceMessage;
use crate::model::{BaseModel, TypeKind, upper_first};

/// Where an extension is used: the element that holds it, as context expressions name it.
struct Site {
    /// The element names from the resource down to the holder.
    steps: Vec<Step>,
    /// Definition paths that reach the holder: the names of a root (a type with the types it
    /// specializes) and the position in `steps` below it. The resource is one root, and so is
    /// every datatype on the way (`Dosage.method` for `MedicationRequest.dosageInstruction.
    /// method`); rooted at the holder's own type, the path has no names.
    roots: Vec<(Vec<String>, usize)>,
    /// The holder as messages name it: `Patient.identifier (Identifier)`.
    label: String,
    /// The holder's `url` when it is an extension itself.
    host: Option<String>,
}

/// One element name on the way to the holder, with the type it has there.
struct Step {
    name: String,
    /// A choice's typed name (`valueQuantity`).
    concrete: Option<String>,
    ty: String,
}

impl<'v> Walker<'_, 'v> {
    /// An extension with no profile on its element: its definition is looked up by URL.
    pub(super) fn extension_plan(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        obj: &Map<String, Value>,
        path: &str,
        out: &mut Vec<Issue>,
    ) -> Option<Arc<Plan>> {
        let url = obj.get("url").and_then(Value::as_str)?;
        let engine = self.engine;
        if url.contains(':')
            && engine
                .packages
                .resolve_in("StructureDefinition", url)
                .is_some()
            && let Some(p) = engine.plan(url)
        {
            return Some(p);
        }
        let modifier = plan.nodes[n].name == "modifierExtension";
        let text = ConformanceMessage::ExtensionNotKnown {
            url: url.to_string(),
            modifier,
        };
        out.push(if modifier {
            plan.error(n, IssueType::Structure, text, path)
        } else {
            plan.warning(n, IssueType::Structure, text, path)
        });
        None
    }

    /// Each extension in `items` (members of `holder`, found at `path` in `res`) against the
    /// contexts its definition allows.
    pub(super) fn extension_contexts(
        &self,
        items: &[Item<'v>],
        holder: &Map<String, Value>,
        path: &str,
        res: &Value,
        out: &mut Vec<Issue>,
    ) {
        let mut site: Option<Option<Site>> = None;
        for item in items {
            let Some(url) = item
                .value
                .and_then(|v| v.get("url"))
                .and_then(Value::as_str)
                .filter(|u| u.contains(':'))
            else {
                continue;
            };
            let Some(def) = self.engine.plan(url).filter(|p| p.type_name == "Extension") else {
                continue;
            };
            if def.contexts.is_empty()
                || def
                    .contexts
                    .iter()
                    .any(|(kind, _)| kind != "element" && kind != "extension")
            {
                continue;
            }
            let Some(site) = site
                .get_or_insert_with(|| self.site(holder, path, res))
                .as_ref()
            else {
                // A location the walk cannot map back to definitions (a value checked on its
                // own while matching slices): nothing is claimed.
                return;
            };
            if site.holds_any_extension()
                || def
                    .contexts
                    .iter()
                    .map(|(kind, expr)| (kind.as_str(), expr.as_str()))
                    .chain(published_use(url))
                    .any(|(kind, expr)| site.allows(kind, expr))
            {
                continue;
            }
            let allowed: Vec<&str> = def.contexts.iter().map(|(_, e)| e.as_str()).collect();
            out.push(
                Issue::error(
                    IssueType::Structure,
                    ConformanceMessage::ExtensionContext {
                        url: url.to_string(),
                        site: site.label.clone(),
                        allowed: allowed.join(", "),
                    },
                )
                .at(&item.path)
                .from_rule(url),
            );
        }
    }

    /// The holder at `path` in `res`, mapped back to definitions through the base model.
    fn site(&self, holder: &Map<String, Value>, path: &str, res: &Value) -> Option<Site> {
        let model = self.engine.model;
        let rt = res.get("resourceType").and_then(Value::as_str)?;
        let rest = path.strip_prefix(self.resource_at.as_str())?;
        let mut steps: Vec<Step> = Vec::new();
        // Where each step was looked up, and last where the next one would be.
        let mut contexts = vec![rt.to_string()];
        for part in rest.split('.').skip(1) {
            if let Some(t) = part
                .strip_prefix("ofType(")
                .and_then(|p| p.strip_suffix(')'))
            {
                // The type of the choice just stepped into.
                let step = steps.last_mut()?;
                let concrete = format!("{}{}", step.name, upper_first(t));
                contexts.pop();
                let child = model.child_type(contexts.last()?, &concrete)?;
                contexts.push(child.context.unwrap_or_else(|| t.to_string()));
                step.concrete = Some(concrete);
                step.ty = t.to_string();
                continue;
            }
            let name = part.split('[').next().unwrap_or(part);
            let child = model.child_type(contexts.last()?, name)?;
            let ty = match child.types.as_slice() {
                [one] => one.fhir_type().to_string(),
                _ => String::new(),
            };
            contexts.push(child.context.unwrap_or_else(|| ty.clone()));
            steps.push(Step {
                name: name.to_string(),
                concrete: None,
                ty,
            });
        }
        let own = steps.last().map_or(rt, |s| s.ty.as_str());
        if own.is_empty() {
            return None;
        }
        let mut roots = vec![(lineage(model, own), steps.len())];
        if !steps.is_empty() {
            roots.push((lineage(model, rt), 0));
        }
        for (i, step) in steps.iter().enumerate() {
            let datatype = model
                .type_def(&step.ty)
                .is_some_and(|t| t.kind == TypeKind::ComplexType)
                && !matches!(step.ty.as_str(), "BackboneElement" | "Element");
            if datatype && i + 1 < steps.len() {
                roots.push((lineage(model, &step.ty), i + 1));
            }
        }
        let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        let label = match names.as_slice() {
            [] => format!("{rt} ({rt})"),
            _ => format!("{rt}.{} ({own})", names.join(".")),
        };
        let host = (own == "Extension")
            .then(|| {
                holder
                    .get("url")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten();
        Some(Site {
            steps,
            roots,
            label,
            host,
        })
    }
}

/// A context the specification itself uses an extension in beyond what its definition says.
/// R4 core declares `structuredefinition-fhir-type` on `ElementDefinition.type.code` but puts
/// it on `ElementDefinition.type` in every snapshot it publishes (the history is FHIR-13328);
/// refusing it there would refuse the core's own StructureDefinitions.
fn published_use(url: &str) -> Option<(&'static str, &'static str)> {
    (url == FHIR_TYPE_URL).then_some(("element", "ElementDefinition.type"))
}

const FHIR_TYPE_URL: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

impl Site {
    /// Inside an ElementDefinition's `fixed[x]`, `pattern[x]` or `example.value[x]`: a value of
    /// the constrained element, whose extensions have that element's contexts, not a place in
    /// the StructureDefinition; the walk cannot see which element that is, so none is refused.
    fn holds_any_extension(&self) -> bool {
        self.steps.windows(2).enumerate().any(|(i, pair)| {
            pair[0].ty == "ElementDefinition"
                && match pair[1].name.as_str() {
                    "fixed" | "pattern" => true,
                    "example" => self.steps.get(i + 2).is_some_and(|s| s.name == "value"),
                    _ => false,
                }
        })
    }

    fn allows(&self, kind: &str, expression: &str) -> bool {
        match kind {
            // The URL of the extension holding this one, or `url#name` for one of its parts.
            "extension" => self.host.as_deref().is_some_and(|host| {
                expression == host || expression.rsplit_once('#').is_some_and(|(_, n)| n == host)
            }),
            _ => self.matches_element(expression),
        }
    }

    /// An element id (`Patient.contact.name`, `Observation.value[x]`, `Identifier`), possibly
    /// qualified by its profile (`url#id`) and with slice names, which are not told apart here.
    fn matches_element(&self, expression: &str) -> bool {
        let id = expression.rsplit_once('#').map_or(expression, |(_, id)| id);
        if id == "Element" {
            return true;
        }
        let segments: Vec<&str> = id
            .split('.')
            .map(|s| s.split(':').next().unwrap_or(s).trim_end_matches("[x]"))
            .collect();
        let Some((root, names)) = segments.split_first() else {
            return false;
        };
        self.roots.iter().any(|(types, from)| {
            let steps = &self.steps[*from..];
            steps.len() == names.len()
                && types.iter().any(|t| t == root)
                && steps
                    .iter()
                    .zip(names)
                    .all(|(s, n)| s.name == *n || s.concrete.as_deref() == Some(*n))
        })
    }
}

/// A type and the types it specializes: `Age`, `Quantity`, `Element`.
fn lineage(model: &BaseModel, ty: &str) -> Vec<String> {
    let mut out = vec![ty.to_string()];
    let mut cur = model.type_def(ty).and_then(|t| t.base.clone());
    while let Some(base) = cur {
        cur = model.type_def(&base).and_then(|t| t.base.clone());
        out.push(base);
    }
    out
}
