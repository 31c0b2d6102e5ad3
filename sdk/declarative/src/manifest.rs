//! [`Manifest`]: parsing a connector manifest (TOML → spanned tree → typed sections, one
//! section at a time so errors in several are all reported → semantic validation) and what
//! it declares ([`Manifest::describe`], [`Manifest::operations`]).

use crate::de::from_node;
use crate::error::{ManifestError, ManifestErrors};
use crate::gaps::Gaps;
use crate::limits::MAX_MANIFEST_BYTES;
use crate::schema::OPERATIONS;
use crate::spec::{
    AuthSpec, ConfigFieldSpec, ConnectorSpec, DefaultsSpec, ErrorRule, OperationSpec,
};
use crate::tree::{self, KeyPath, Node, NodeKind};
use crate::validate;
use crate::webhook::WebhookSpec;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ops::Range;

/// A parsed and validated connector manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub(crate) connector: ConnectorSpec,
    pub(crate) config: Vec<ConfigFieldSpec>,
    pub(crate) defaults: DefaultsSpec,
    pub(crate) auth: AuthSpec,
    pub(crate) errors: Vec<ErrorRule>,
    pub(crate) operations: BTreeMap<String, OperationSpec>,
    pub(crate) webhook: Option<WebhookSpec>,
    pub(crate) gaps: Gaps,
}

/// The first line of the compiled form of a validated manifest ([`Manifest::to_compact`]):
/// its sections but operations and webhook, as JSON.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CompactHeader {
    connector: ConnectorSpec,
    config: Vec<ConfigFieldSpec>,
    defaults: DefaultsSpec,
    auth: AuthSpec,
    errors: Vec<ErrorRule>,
    #[serde(default)]
    gaps: Gaps,
}

/// Line prefixes of the compiled form after its header line.
const COMPACT_OPERATION: &str = "op ";
const COMPACT_WEBHOOK: &str = "webhook ";

/// The lines of a compiled form: its header, each operation's (name, JSON), the webhook's.
struct CompactLines<'a> {
    header: &'a str,
    operations: Vec<(&'a str, &'a str)>,
    webhook: Option<&'a str>,
}

impl<'a> CompactLines<'a> {
    fn split(text: &'a str) -> Result<Self, String> {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let mut operations = Vec::new();
        let mut webhook = None;
        for line in lines {
            if let Some(rest) = line.strip_prefix(COMPACT_OPERATION)
                && let Some((name, json)) = rest.split_once(' ')
            {
                operations.push((name, json));
            } else if let Some(json) = line.strip_prefix(COMPACT_WEBHOOK) {
                webhook = Some(json);
            } else {
                return Err(unreadable(format!("unexpected line `{}`", short(line))));
            }
        }
        Ok(Self { header, operations, webhook })
    }
}

fn unreadable(reason: impl std::fmt::Display) -> String {
    format!("the compiled manifest does not read back: {reason}")
}

fn short(line: &str) -> &str {
    line.char_indices().nth(40).map_or(line, |(at, _)| &line[..at])
}

/// What `describe()` answers: the contract's manifest record, names in kebab-case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Describe {
    pub id: String,
    pub ats_name: String,
    pub version: String,
    /// Declared and not `unsupported`, in the contract's order.
    pub operations: Vec<String>,
    pub config_fields: Vec<ConfigField>,
    pub egress_hosts: Vec<String>,
    pub result_modes: Vec<String>,
    pub application_attachments: bool,
}

/// One config field, as the contract's `config-field`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigField {
    pub name: String,
    pub secret: bool,
    pub required: bool,
    pub help: String,
}

/// A problem found while parsing, before it is given a line: where it is and what it is.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub path: KeyPath,
    /// Set when known exactly (serde errors); otherwise found from `path`.
    pub span: Option<Range<usize>>,
    pub message: String,
}

const SECTIONS: &[&str] =
    &["connector", "config", "defaults", "auth", "errors", "operations", "webhook", "gaps"];

impl Manifest {
    /// Parses and validates a manifest; every problem found is reported with its line,
    /// column and key path.
    pub fn parse(text: &str) -> Result<Manifest, ManifestErrors> {
        if text.len() > MAX_MANIFEST_BYTES {
            let message = format!(
                "the manifest is {} bytes; at most {MAX_MANIFEST_BYTES} are accepted",
                text.len()
            );
            let error = ManifestError { line: 1, column: 1, path: String::new(), message };
            return Err(ManifestErrors { errors: vec![error] });
        }
        let root = tree::parse(text).map_err(|error| ManifestErrors { errors: vec![error] })?;
        let mut problems = Vec::new();
        let manifest = sections(&root, &mut problems);
        if let Some(manifest) = &manifest {
            validate::manifest(manifest, &mut problems);
        }
        if problems.is_empty()
            && let Some(manifest) = manifest
        {
            return Ok(manifest);
        }
        let mut errors: Vec<ManifestError> = problems
            .into_iter()
            .map(|problem| {
                let span = problem.span.or_else(|| root.locate(&problem.path));
                tree::error_at(text, span, &problem.path, problem.message)
            })
            .collect();
        errors.sort_by(|a, b| (a.line, a.column, &a.path).cmp(&(b.line, b.column, &b.path)));
        errors.dedup();
        Err(ManifestErrors { errors })
    }

    /// The compiled form: JSON that [`Manifest::from_compact`] reads back several times
    /// faster than [`Manifest::parse`] reads the TOML (it is neither parsed with spans nor
    /// validated again). One line each: the sections but operations and webhook, then
    /// `op NAME JSON` per operation and `webhook JSON`, so a call reads only its own
    /// operation's line ([`Manifest::from_compact_for`]). `ats-host connector pack` stores
    /// it beside the text; the generic connector checks once, at load, that it is the
    /// text's own.
    pub fn to_compact(&self) -> Result<String, String> {
        let failed = |e: serde_json::Error| format!("the manifest does not compile: {e}");
        let header = CompactHeader {
            connector: self.connector.clone(),
            config: self.config.clone(),
            defaults: self.defaults.clone(),
            auth: self.auth.clone(),
            errors: self.errors.clone(),
            gaps: self.gaps.clone(),
        };
        let mut text = serde_json::to_string(&header).map_err(failed)?;
        for (name, spec) in &self.operations {
            let json = serde_json::to_string(spec).map_err(failed)?;
            text.push_str(&format!("\n{COMPACT_OPERATION}{name} {json}"));
        }
        if let Some(webhook) = &self.webhook {
            let json = serde_json::to_string(webhook).map_err(failed)?;
            text.push_str(&format!("\n{COMPACT_WEBHOOK}{json}"));
        }
        Ok(text)
    }

    /// Reads [`Manifest::to_compact`]'s form. Trusts it: use it only for a form made from a
    /// manifest that [`Manifest::parse`] accepted.
    pub fn from_compact(text: &str) -> Result<Manifest, String> {
        let lines = CompactLines::split(text)?;
        let mut operations = BTreeMap::new();
        for (name, json) in &lines.operations {
            operations.insert(name.to_string(), serde_json::from_str(json).map_err(unreadable)?);
        }
        let webhook = lines.webhook.map(serde_json::from_str).transpose().map_err(unreadable)?;
        Self::from_header(lines.header, operations, webhook)
    }

    /// [`Manifest::from_compact`] for one call of `operation`: only that operation's line
    /// (and that of the look-up operation its dedupe names) is read, and `[webhook]` only
    /// for `parse-webhook`. A call of the generic component reads the manifest afresh (a
    /// fresh instance per call), so this is what it pays per page. [`Manifest::operations`]
    /// of the result lists only what was read: use the whole form for `describe()`.
    pub fn from_compact_for(text: &str, operation: &str) -> Result<Manifest, String> {
        let lines = CompactLines::split(text)?;
        let mut operations = BTreeMap::new();
        let mut wanted = vec![operation.to_string()];
        while let Some(name) = wanted.pop() {
            if operations.contains_key(&name) {
                continue;
            }
            let Some((_, json)) = lines.operations.iter().find(|(op, _)| *op == name) else {
                continue;
            };
            let spec: OperationSpec = serde_json::from_str(json).map_err(unreadable)?;
            if let Some(dedupe) = &spec.dedupe {
                wanted.push(dedupe.lookup.clone());
            }
            operations.insert(name, spec);
        }
        let webhook = match lines.webhook {
            Some(json) if operation == "parse-webhook" => {
                Some(serde_json::from_str(json).map_err(unreadable)?)
            }
            _ => None,
        };
        Self::from_header(lines.header, operations, webhook)
    }

    fn from_header(
        header: &str,
        operations: BTreeMap<String, OperationSpec>,
        webhook: Option<WebhookSpec>,
    ) -> Result<Manifest, String> {
        let header: CompactHeader = serde_json::from_str(header).map_err(unreadable)?;
        Ok(Manifest {
            connector: header.connector,
            config: header.config,
            defaults: header.defaults,
            auth: header.auth,
            errors: header.errors,
            operations,
            webhook,
            gaps: header.gaps,
        })
    }

    /// The operations declared and not `unsupported`, in the contract's order;
    /// `parse-webhook` (after `write-result`) when `[webhook]` is declared.
    pub fn operations(&self) -> Vec<String> {
        let mut names = Vec::new();
        for op in OPERATIONS {
            if self.operations.get(op.name).is_some_and(|spec| spec.unsupported.is_none()) {
                names.push(op.name.to_string());
            }
            if op.name == "write-result" && self.webhook.is_some() {
                names.push("parse-webhook".to_string());
            }
        }
        names
    }

    /// What the ATS's API cannot do that the conformance kit checks (`[gaps]`).
    pub fn gaps(&self) -> &Gaps {
        &self.gaps
    }

    /// The operations declared `unsupported`, with the manifest's reason.
    pub fn unsupported(&self) -> Vec<(String, String)> {
        self.operations
            .iter()
            .filter_map(|(name, spec)| Some((name.clone(), spec.unsupported.clone()?)))
            .collect()
    }

    /// The contract's manifest record for this connector.
    pub fn describe(&self) -> Describe {
        Describe {
            id: self.connector.id.clone(),
            ats_name: self.connector.ats_name.clone(),
            version: self.connector.version.clone(),
            operations: self.operations(),
            config_fields: self
                .config
                .iter()
                .map(|field| ConfigField {
                    name: field.name.clone(),
                    secret: field.secret,
                    required: field.required,
                    help: field.help.clone(),
                })
                .collect(),
            egress_hosts: self.connector.egress_hosts.clone(),
            result_modes: self.connector.result_modes.clone(),
            application_attachments: self.connector.application_attachments,
        }
    }
}

/// Reads each section on its own, so a problem in one does not hide those in the others.
fn sections(root: &Node, problems: &mut Vec<Problem>) -> Option<Manifest> {
    let top = KeyPath::root();
    for entry in root.entries() {
        if !SECTIONS.contains(&entry.key.as_str()) {
            problems.push(Problem {
                path: top.key(&entry.key),
                span: entry.key_span.clone(),
                message: format!(
                    "unknown section `{}`; a manifest has [connector], [[config]], [defaults], [auth], [[errors]], [operations.<name>], [webhook] and [gaps]",
                    entry.key
                ),
            });
        }
    }
    let connector = match root.get("connector") {
        Some(node) => read::<ConnectorSpec>(node, &top.key("connector"), problems),
        None => {
            problems.push(Problem {
                path: top.key("connector"),
                span: None,
                message: "the [connector] table is missing: give id, ats_name and version".into(),
            });
            None
        }
    };
    let config = read_list::<ConfigFieldSpec>(root.get("config"), &top.key("config"), problems);
    let defaults = root
        .get("defaults")
        .and_then(|node| read::<DefaultsSpec>(node, &top.key("defaults"), problems))
        .unwrap_or_default();
    let auth = root
        .get("auth")
        .and_then(|node| read::<AuthSpec>(node, &top.key("auth"), problems))
        .unwrap_or_default();
    let errors = read_list::<ErrorRule>(root.get("errors"), &top.key("errors"), problems);
    let mut operations = BTreeMap::new();
    if let Some(node) = root.get("operations") {
        let path = top.key("operations");
        if !matches!(node.kind, NodeKind::Table(_)) {
            problems.push(Problem {
                path: path.clone(),
                span: node.span.clone(),
                message: "`operations` must be a table of [operations.<name>] tables".into(),
            });
        }
        for entry in node.entries() {
            if let Some(spec) = read::<OperationSpec>(&entry.value, &path.key(&entry.key), problems)
            {
                operations.insert(entry.key.clone(), spec);
            }
        }
    }
    let webhook = root
        .get("webhook")
        .and_then(|node| read::<WebhookSpec>(node, &top.key("webhook"), problems));
    let gaps = root
        .get("gaps")
        .and_then(|node| read::<Gaps>(node, &top.key("gaps"), problems))
        .unwrap_or_default();
    for (key, message) in gaps.problems() {
        problems.push(Problem { path: top.key("gaps").key(key), span: None, message });
    }
    Some(Manifest {
        connector: connector?,
        config,
        defaults,
        auth,
        errors,
        operations,
        webhook,
        gaps,
    })
}

fn read<T: DeserializeOwned>(
    node: &Node,
    path: &KeyPath,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match from_node::<T>(node, path) {
        Ok(value) => Some(value),
        Err(error) => {
            let (path, span) = error.at.unwrap_or_else(|| (path.clone(), node.span.clone()));
            problems.push(Problem { path, span, message: explain(&error.message) });
            None
        }
    }
}

/// Reads an array of tables element by element.
fn read_list<T: DeserializeOwned>(
    node: Option<&Node>,
    path: &KeyPath,
    problems: &mut Vec<Problem>,
) -> Vec<T> {
    let Some(node) = node else { return Vec::new() };
    let NodeKind::Array(items) = &node.kind else {
        problems.push(Problem {
            path: path.clone(),
            span: node.span.clone(),
            message: format!(
                "expected an array of tables ([[{path}]]), found {}",
                node.type_name()
            ),
        });
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| read::<T>(item, &path.index(index), problems))
        .collect()
}

/// Serde's messages, with the fix spelled out where serde leaves it implicit.
fn explain(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message}; remove the key or correct its spelling")
    } else if message.starts_with("missing field") {
        format!("{message}; add it")
    } else if message.starts_with("unknown variant") {
        format!("{message}; use one of the listed values")
    } else {
        message.to_string()
    }
}
