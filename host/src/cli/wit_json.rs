//! JSON written with the contract's (WIT) names, read into the host's model types, which
//! serialise with their Rust names: `connector call --input` takes kebab-case field names
//! (`first-name`; `first_name` works too) and enum variants (`{"email": "..."}` for
//! `Email`, `"cv"` for `Cv`), and a base64 string wherever a list of bytes is expected (a
//! CV's `content`). Only names the target type declares are mapped: keys of free-form maps
//! are kept as given. The model's own serde is unchanged.

use base64::Engine as _;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde_json::Value;

type Error = serde_json::Error;

/// Reads `T` from `value` written with WIT names; the error names the path of the
/// offending value (`input.lookup: unknown variant ...`).
pub fn from_value<T: DeserializeOwned>(
    value: Value,
) -> Result<T, serde_path_to_error::Error<Error>> {
    serde_path_to_error::deserialize(Wit(value))
}

/// A JSON value whose struct fields and enum variants may carry WIT names.
struct Wit(Value);

macro_rules! forward_to_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Wit {
    type Error = Error;

    forward_to_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    /// Where the type does not say what it expects (the fields of `Invocation`'s struct
    /// variants, which serde reads this way): objects and lists stay wrapped, and object keys
    /// are read as snake_case.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(
                map.into_iter().map(|(key, value)| (key.replace('-', "_"), value)).collect(),
            )),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Wit(other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            // A string where a list is expected can only be bytes: base64.
            Value::String(text) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(
                    |_| {
                        de::Error::invalid_type(
                            Unexpected::Str(&text),
                            &"a list, or base64 text for a list of bytes",
                        )
                    },
                )?;
                let items: Vec<Value> = bytes.into_iter().map(Value::from).collect();
                visitor.visit_seq(Items(items.into_iter()))
            }
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(map.into_iter().collect())),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> =
                    map.into_iter().map(|(key, value)| (field_name(&key, fields), value)).collect();
                // In the type's field order: an adjacently tagged enum (`Invocation`) reads
                // its tag before its content without buffering.
                entries.sort_by_key(|(key, _)| {
                    fields.iter().position(|f| f == key).unwrap_or(usize::MAX)
                });
                visitor.visit_map(Entries::new(entries))
            }
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor
                .visit_enum(Variant { name: variant_name(&variant, variants), content: None }),
            Value::Object(map) if map.len() == 1 => {
                let Some((variant, content)) = map.into_iter().next() else {
                    return Err(de::Error::custom("an enum needs one variant"));
                };
                visitor.visit_enum(Variant {
                    name: variant_name(&variant, variants),
                    content: Some(content),
                })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }
}

/// The model's name for `key`: as given when the type declares it, else kebab-case read as
/// snake_case.
fn field_name(key: &str, fields: &[&str]) -> String {
    if fields.contains(&key) {
        return key.to_string();
    }
    let snake = key.replace('-', "_");
    if fields.contains(&snake.as_str()) { snake } else { key.to_string() }
}

/// The model's variant for `given`: `email` → `Email`, `create-application` →
/// `CreateApplication` (snake_case and any letter case work too).
fn variant_name(given: &str, variants: &[&str]) -> String {
    if variants.contains(&given) {
        return given.to_string();
    }
    let wanted = given.to_ascii_lowercase().replace('_', "-");
    variants
        .iter()
        .find(|variant| kebab(variant) == wanted)
        .map_or_else(|| given.to_string(), |variant| variant.to_string())
}

/// `CreateApplication` → `create-application`.
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        out.push(if c == '_' { '-' } else { c.to_ascii_lowercase() });
    }
    out
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|value| seed.deserialize(Wit(value))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries {
    entries: std::vec::IntoIter<(String, Value)>,
    value: Option<Value>,
}

impl Entries {
    fn new(entries: Vec<(String, Value)>) -> Self {
        Entries { entries: entries.into_iter(), value: None }
    }
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(IntoDeserializer::<Error>::into_deserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a value without a key"))?;
        seed.deserialize(Wit(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Variant {
    name: String,
    content: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Content;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Content), Error> {
        let variant = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(self.name))?;
        Ok((variant, Content(self.content)))
    }
}

/// What a variant carries (`None` for a variant given as a bare string).
struct Content(Option<Value>);

impl Content {
    fn value(self, expected: &str) -> Result<Value, Error> {
        self.0.ok_or_else(|| de::Error::invalid_type(Unexpected::UnitVariant, &expected))
    }
}

impl<'de> VariantAccess<'de> for Content {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(de::Error::invalid_type(Unexpected::Map, &"a variant without data")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(Wit(self.value("a variant with data")?))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        Wit(self.value("a variant with a list")?).deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        Wit(self.value("a variant with fields")?).deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttachmentKind, CandidateLookup, Target};
    use crate::runtime::Invocation;
    use serde_json::json;

    fn read(value: Value) -> Result<Invocation, String> {
        from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn kebab_case_fields_and_variants_and_base64_bytes_are_read() -> Result<(), String> {
        let lookup = read(
            json!({"input": {"lookup": {"email": "ada@example.com"}}, "operation": "find-candidates"}),
        )?;
        let Invocation::FindCandidates { lookup, .. } = lookup else {
            return Err("variant".into());
        };
        assert_eq!(lookup, CandidateLookup::Email("ada@example.com".into()));

        let attachment = read(json!({"operation": "add-attachment", "input": {
            "target": {"candidate": "c1"}, "filename": "cv.pdf", "content-type": "application/pdf",
            "kind": "cv", "content": "JVBERi0=",
        }}))?;
        let Invocation::AddAttachment(input) = attachment else { return Err("variant".into()) };
        assert_eq!(input.target, Target::Candidate("c1".into()));
        assert_eq!(input.kind, AttachmentKind::Cv);
        assert_eq!(input.content, b"%PDF-");
        assert_eq!(input.content_type, "application/pdf");

        // Rust names keep working.
        let rust =
            read(json!({"operation": "find-candidates", "input": {"lookup": {"Phone": "1"}}}))?;
        assert!(matches!(
            rust,
            Invocation::FindCandidates { lookup: CandidateLookup::Phone(_), .. }
        ));
        Ok(())
    }

    #[test]
    fn errors_name_the_path_of_the_offending_value() {
        let error =
            read(json!({"operation": "find-candidates", "input": {"lookup": {"fax": "1"}}}))
                .expect_err("no such variant");
        assert!(error.starts_with("input.lookup"), "{error}");
        assert!(error.contains("fax"), "{error}");
        assert_eq!(kebab("CreateApplication"), "create-application");
        assert_eq!(variant_name("create_application", &["CreateApplication"]), "CreateApplication");
    }
}
