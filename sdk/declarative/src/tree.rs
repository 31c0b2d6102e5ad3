//! The manifest text as a tree of TOML values that remembers where each key and value is
//! written, so every error, from serde or from validation, can name its line, column and key
//! path. Built with the `toml` deserializer and the span protocol of `toml::Spanned`
//! (spans are optional: implicit tables have none).

use crate::error::ManifestError;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;

/// The serde names `toml::Spanned` uses to ask the `toml` deserializer for a span.
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];
/// The key under which `toml` hands a datetime to a visitor.
const DATETIME_KEY: &str = "$__toml_private_datetime";

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Where a value sits in the manifest: `operations.list-jobs.paginate.param`, `config[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with `key` appended.
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        Self(segs)
    }

    /// This path with `[index]` appended.
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Self(segs)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(index) => write!(f, "[{index}]")?,
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    if bare { f.write_str(key)? } else { write!(f, "{key:?}")? }
                }
            }
        }
        Ok(())
    }
}

/// A TOML value and where it is written (`None` for implicit tables).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub span: Option<Range<usize>>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// One key of a table with its value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: Option<Range<usize>>,
    pub value: Node,
}

impl Node {
    /// The entries of a table, empty for anything else.
    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            NodeKind::Table(entries) => entries,
            _ => &[],
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries().iter().find(|entry| entry.key == key).map(|entry| &entry.value)
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::String(_) => "a string",
            NodeKind::Integer(_) => "an integer",
            NodeKind::Float(_) => "a float",
            NodeKind::Boolean(_) => "a boolean",
            NodeKind::Datetime(_) => "a datetime",
            NodeKind::Array(_) => "an array",
            NodeKind::Table(_) => "a table",
        }
    }

    /// The node's own span, else the first span found among its descendants.
    fn any_span(&self) -> Option<Range<usize>> {
        if let Some(span) = &self.span {
            return Some(span.clone());
        }
        match &self.kind {
            NodeKind::Array(items) => items.iter().find_map(Node::any_span),
            NodeKind::Table(entries) => entries
                .iter()
                .find_map(|entry| entry.key_span.clone().or_else(|| entry.value.any_span())),
            _ => None,
        }
    }

    /// The best span for `path`: the value's, else its key's, else the nearest ancestor's.
    pub fn locate(&self, path: &KeyPath) -> Option<Range<usize>> {
        let mut node = self;
        let mut best = self.any_span();
        for seg in &path.0 {
            let next = match (seg, &node.kind) {
                (Seg::Key(key), NodeKind::Table(entries)) => {
                    let entry = entries.iter().find(|entry| &entry.key == key);
                    if let Some(span) =
                        entry.and_then(|e| e.value.span.clone().or(e.key_span.clone()))
                    {
                        best = Some(span);
                    }
                    entry.map(|entry| &entry.value)
                }
                (Seg::Index(index), NodeKind::Array(items)) => items.get(*index),
                _ => None,
            };
            let Some(next) = next else { break };
            if let Some(span) = next.any_span() {
                best = Some(span);
            }
            node = next;
        }
        best
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A [`ManifestError`] at `span` (line 1, column 1 when unknown).
pub(crate) fn error_at(
    text: &str,
    span: Option<Range<usize>>,
    path: &KeyPath,
    message: String,
) -> ManifestError {
    let (line, column) = span.map_or((1, 1), |span| line_col(text, span.start));
    ManifestError { line, column, path: path.to_string(), message }
}

/// Parses the manifest text into a tree; a TOML syntax error is located, with the table it
/// is in as its path.
pub(crate) fn parse(text: &str) -> Result<Node, ManifestError> {
    toml::from_str::<Node>(text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let (line, column) = line_col(text, offset);
        let message = error.message().trim().to_string();
        ManifestError { line, column, path: enclosing_table(text, offset), message }
    })
}

/// The header of the table the text at `offset` belongs to (`operations.list-jobs`), for
/// syntax errors, where no tree exists.
fn enclosing_table(text: &str, offset: usize) -> String {
    let end = text.get(..offset.min(text.len())).unwrap_or(text);
    end.lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|header| header.trim_matches(|c| c == '[' || c == ']').trim().to_string())
        .unwrap_or_default()
}

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Ask for a span; a value without one is visited plainly by the same visitor.
        deserializer.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

/// Deserializes a value without asking for its span (the inner value of a spanned one).
struct PlainNode;

impl<'de> DeserializeSeed<'de> for PlainNode {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

fn plain(kind: NodeKind) -> Node {
    Node { span: None, kind }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(plain(NodeKind::Boolean(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(plain(NodeKind::Integer(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        i64::try_from(value)
            .map(|value| plain(NodeKind::Integer(value)))
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Ok(plain(NodeKind::Float(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(plain(NodeKind::String(value.to_string())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(plain(NodeKind::String(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(plain(NodeKind::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Some(first) = map.next_key::<Node>()? else {
            return Ok(plain(NodeKind::Table(Vec::new())));
        };
        match &first.kind {
            NodeKind::String(key) if key == SPANNED_START => {
                let start: usize = map.next_value()?;
                let _end_key = map.next_key::<Node>()?;
                let end: usize = map.next_value()?;
                let _value_key = map.next_key::<Node>()?;
                let mut node = map.next_value_seed(PlainNode)?;
                node.span = Some(start..end);
                Ok(node)
            }
            NodeKind::String(key) if key == DATETIME_KEY => {
                let text: String = map.next_value()?;
                Ok(plain(NodeKind::Datetime(text)))
            }
            _ => {
                let mut entries = vec![entry(first, map.next_value::<Node>()?)];
                while let Some(key) = map.next_key::<Node>()? {
                    entries.push(entry(key, map.next_value::<Node>()?));
                }
                Ok(plain(NodeKind::Table(entries)))
            }
        }
    }
}

fn entry(key: Node, value: Node) -> Entry {
    let name = match key.kind {
        NodeKind::String(name) => name,
        other => format!("{other:?}"),
    };
    Entry { key: name, key_span: key.span, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_keys_values_and_header_tables() {
        let text = "a = 1\n[operations.list-jobs]\nmethod = \"GET\"\nquery = { limit = \"5\" }\n";
        let root = parse(text).expect("parses");
        let path = KeyPath::root().key("operations").key("list-jobs").key("method");
        let span = root.locate(&path).expect("located");
        assert_eq!(line_col(text, span.start), (3, 10));
        let missing = KeyPath::root().key("operations").key("list-jobs").key("paginate");
        let span = root.locate(&missing).expect("located at the table");
        assert_eq!(line_col(text, span.start).0, 2);
        let inline = KeyPath::root().key("operations").key("list-jobs").key("query").key("limit");
        let span = root.locate(&inline).expect("located");
        assert_eq!(line_col(text, span.start), (4, 19));
    }

    #[test]
    fn syntax_errors_have_a_line_and_the_enclosing_table() {
        let error = parse("[connector]\nid = \"x\"\n[operations.list-jobs]\nmethod = GET\n")
            .expect_err("bad value");
        assert_eq!(error.line, 4);
        assert_eq!(error.path, "operations.list-jobs");
    }

    #[test]
    fn datetimes_and_arrays_of_tables_parse() {
        let root = parse(
            "when = 1979-05-27T07:32:00Z\n[[config]]\nname = \"a\"\n[[config]]\nname = \"b\"\n",
        )
        .expect("parses");
        assert!(matches!(root.get("when").map(|n| &n.kind), Some(NodeKind::Datetime(_))));
        let path = KeyPath::root().key("config").index(1).key("name");
        assert_eq!(path.to_string(), "config[1].name");
        assert!(root.locate(&path).is_some());
    }
}
