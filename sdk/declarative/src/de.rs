//! A serde deserializer over the spanned manifest tree ([`crate::tree::Node`]) that locates
//! every error it raises or passes through: unknown keys at their key, wrong types at their
//! value, missing keys at their table, each with its key path.

use crate::tree::{KeyPath, Node, NodeKind};
use serde::de::value::StringDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;
use std::ops::Range;

/// A deserialization error and, once known, where it happened.
#[derive(Debug, Clone)]
pub(crate) struct DeError {
    pub message: String,
    pub at: Option<(KeyPath, Option<Range<usize>>)>,
}

impl DeError {
    /// Sets the location unless a deeper one is already set. A "missing field" error is put
    /// on the missing key's path (its line stays the table's).
    fn locate(mut self, path: &KeyPath, span: Option<Range<usize>>) -> Self {
        if self.at.is_none() {
            let missing = self
                .message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(|key| path.key(key));
            self.at = Some((missing.unwrap_or_else(|| path.clone()), span));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DeError { message: message.to_string(), at: None }
    }
}

/// Deserializes `node` (found at `path`) as `T`.
pub(crate) fn from_node<T: DeserializeOwned>(node: &Node, path: &KeyPath) -> Result<T, DeError> {
    T::deserialize(NodeDeserializer { node, path: path.clone() })
}

struct NodeDeserializer<'a> {
    node: &'a Node,
    path: KeyPath,
}

impl NodeDeserializer<'_> {
    fn locate<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|error| error.locate(&self.path, self.node.span.clone()))
    }
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::String(text) | NodeKind::Datetime(text) => visitor.visit_str(text),
            NodeKind::Integer(value) => visitor.visit_i64(*value),
            NodeKind::Float(value) => visitor.visit_f64(*value),
            NodeKind::Boolean(value) => visitor.visit_bool(*value),
            NodeKind::Array(items) => {
                visitor.visit_seq(SeqAccess { items: items.iter(), index: 0, path: &self.path })
            }
            NodeKind::Table(entries) => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                current: None,
                path: &self.path,
            }),
        };
        self.locate(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result =
            visitor.visit_some(NodeDeserializer { node: self.node, path: self.path.clone() });
        self.locate(result)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let inner = NodeDeserializer { node: self.node, path: self.path.clone() };
        let result = visitor.visit_newtype_struct(inner);
        self.locate(result)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            NodeKind::String(text) => {
                let access: StringDeserializer<DeError> = text.clone().into_deserializer();
                visitor.visit_enum(access)
            }
            _ => Err(de::Error::custom(format!(
                "expected one of {} as a string, found {}",
                quoted_list(variants),
                self.node.type_name()
            ))),
        };
        self.locate(result)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// `"a", "b" or "c"`.
pub(crate) fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

struct SeqAccess<'a, I> {
    items: I,
    index: usize,
    path: &'a KeyPath,
}

impl<'de, 'a, I: Iterator<Item = &'a Node>> de::SeqAccess<'de> for SeqAccess<'_, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else { return Ok(None) };
        let path = self.path.index(self.index);
        self.index += 1;
        seed.deserialize(NodeDeserializer { node, path }).map(Some)
    }
}

struct MapAccess<'a, I> {
    entries: I,
    current: Option<&'a crate::tree::Entry>,
    path: &'a KeyPath,
}

impl<'de, 'a, I: Iterator<Item = &'a crate::tree::Entry>> de::MapAccess<'de> for MapAccess<'a, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else { return Ok(None) };
        self.current = Some(entry);
        let key: StringDeserializer<DeError> = entry.key.clone().into_deserializer();
        seed.deserialize(key)
            .map(Some)
            .map_err(|error| error.locate(&self.path.key(&entry.key), entry.key_span.clone()))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.current.take() else {
            return Err(de::Error::custom("a value was asked for before its key"));
        };
        seed.deserialize(NodeDeserializer { node: &entry.value, path: self.path.key(&entry.key) })
    }
}

/// A string or a list of strings, read as a list (`path`, `transform`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OneOrMany(pub Vec<String>);

impl serde::Serialize for OneOrMany {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> de::Deserialize<'de> for OneOrMany {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;
        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![value.to_string()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}
