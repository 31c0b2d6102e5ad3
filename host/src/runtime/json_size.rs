//! The size of a value's JSON encoding, counted without writing it: the output cap is
//! checked on every call, and writing a page of records out only to count it took as long
//! as a tenth of the whole call. Most of a record's strings are short (ids, names, dates),
//! so the bytes that need escaping are counted in one plain pass per string: vectorised
//! passes (tried, in u8 lanes) lost more on short strings' tails than they won on raw JSON.
//! Cheaper still, [`json_size_over`] first bounds the size without reading any string's
//! bytes (each could at worst be all `\u00XX` escapes) and counts exactly only when that
//! bound is over the cap: nearly every call's output is far under it.

use serde::ser::{self, Serialize};
use std::fmt;

/// Bytes of `value` as compact JSON (`serde_json::to_vec(value).len()`), or `u64::MAX`
/// when its `Serialize` fails. (A map key that is neither text nor a number, which
/// serde_json refuses, is counted as written plus quotes; no call output has one.)
pub fn json_size<T: Serialize + ?Sized>(value: &T) -> u64 {
    count(value, Strings::Exact)
}

/// `Some(json_size(value))` when that is over `cap`, `None` when it is not. Reads the bytes
/// of `value`'s strings only when a bound that skips them is over `cap`.
pub fn json_size_over<T: Serialize + ?Sized>(value: &T, cap: u64) -> Option<u64> {
    if count(value, Strings::WorstCase) <= cap {
        return None;
    }
    Some(json_size(value)).filter(|size| *size > cap)
}

fn count<T: Serialize + ?Sized>(value: &T, strings: Strings) -> u64 {
    let mut counter = Counter { bytes: 0, quoted: false, strings };
    match value.serialize(&mut counter) {
        Ok(()) => counter.bytes,
        Err(_) => u64::MAX,
    }
}

struct Counter {
    bytes: u64,
    /// Whether the last value counted was quoted text (for map keys, which JSON quotes).
    quoted: bool,
    strings: Strings,
}

/// How a string is counted.
#[derive(Clone, Copy)]
enum Strings {
    /// Its escapes counted: the exact size.
    Exact,
    /// As if every byte needed the longest escape (`\u00XX`, six bytes): an upper bound
    /// that does not read the string.
    WorstCase,
}

#[derive(Debug)]
struct NotJson;

impl fmt::Display for NotJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not representable as JSON")
    }
}

impl std::error::Error for NotJson {}

impl ser::Error for NotJson {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotJson
    }
}

impl Counter {
    fn add(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes as u64);
    }

    /// A quoted, escaped string: control characters are `\u00XX` (six bytes) except the
    /// five with short escapes, `"` and `\` take two.
    fn text(&mut self, text: &str) {
        self.quoted = true;
        if let Strings::WorstCase = self.strings {
            self.add(text.len().saturating_mul(6).saturating_add(2));
            return;
        }
        let escaped: usize = text
            .bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..0x20 => 5,
                _ => 0,
            })
            .sum();
        self.add(text.len() + escaped + 2);
    }

    fn display(&mut self, value: impl fmt::Display) {
        struct Length(usize);
        impl fmt::Write for Length {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 += s.len();
                Ok(())
            }
        }
        let mut length = Length(0);
        let _ = fmt::write(&mut length, format_args!("{value}"));
        self.add(length.0);
    }
}

/// A list or object being counted: separators between its elements.
struct Compound<'a> {
    counter: &'a mut Counter,
    first: bool,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotJson> {
        if !self.first {
            self.counter.add(1);
        }
        self.first = false;
        value.serialize(&mut *self.counter)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), NotJson> {
        if !self.first {
            self.counter.add(1);
        }
        self.first = false;
        self.counter.text(key);
        self.counter.add(1);
        value.serialize(&mut *self.counter)
    }

    fn close(self, bytes: usize) -> Result<(), NotJson> {
        self.counter.add(bytes);
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Counter {
    type Ok = ();
    type Error = NotJson;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), NotJson> {
        self.add(if v { 4 } else { 5 });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), NotJson> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), NotJson> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), NotJson> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), NotJson> {
        self.add(usize::from(v < 0));
        self.serialize_u64(v.unsigned_abs())
    }
    fn serialize_u8(self, v: u8) -> Result<(), NotJson> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), NotJson> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), NotJson> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), NotJson> {
        self.add(v.checked_ilog10().map_or(1, |digits| digits as usize + 1));
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), NotJson> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NotJson> {
        // serde_json writes non-finite numbers as null.
        match serde_json::Number::from_f64(v) {
            Some(number) => self.display(number),
            None => self.add(4),
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), NotJson> {
        self.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), NotJson> {
        self.text(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), NotJson> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            seq.serialize_element(byte)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), NotJson> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotJson> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NotJson> {
        self.add(4);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), NotJson> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), NotJson> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), NotJson> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), NotJson> {
        let mut object = Compound { counter: self, first: true };
        object.counter.add(1);
        object.field(variant, value)?;
        object.close(1)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, NotJson> {
        self.add(1);
        Ok(Compound { counter: self, first: true })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, NotJson> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, NotJson> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, NotJson> {
        // `{"variant":[` ... `]}`
        self.text(variant);
        self.add(3);
        Ok(Compound { counter: self, first: true })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, NotJson> {
        self.add(1);
        Ok(Compound { counter: self, first: true })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, NotJson> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, NotJson> {
        // `{"variant":{` ... `}}`
        self.text(variant);
        self.add(3);
        Ok(Compound { counter: self, first: true })
    }
}

/// The list-like compounds: elements, then `]` (and `}` for a variant's).
macro_rules! list_like {
    ($($compound:ident :: $method:ident closes $close:literal;)*) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = NotJson;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotJson> {
                self.element(value)
            }
            fn end(self) -> Result<(), NotJson> {
                self.close($close)
            }
        }
    )*};
}

list_like! {
    SerializeSeq::serialize_element closes 1;
    SerializeTuple::serialize_element closes 1;
    SerializeTupleStruct::serialize_field closes 1;
    SerializeTupleVariant::serialize_field closes 2;
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = NotJson;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NotJson> {
        if !self.first {
            self.counter.add(1);
        }
        self.first = false;
        // Keys are text in JSON: serde_json quotes number keys.
        self.counter.quoted = false;
        key.serialize(&mut *self.counter)?;
        if !self.counter.quoted {
            self.counter.add(2);
        }
        self.counter.add(1);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotJson> {
        value.serialize(&mut *self.counter)
    }
    fn end(self) -> Result<(), NotJson> {
        self.close(1)
    }
}

/// The struct-like compounds: named fields, then `}` (and another for a variant's).
macro_rules! struct_like {
    ($($compound:ident closes $close:literal;)*) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = NotJson;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), NotJson> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), NotJson> {
                self.close($close)
            }
        }
    )*};
}

struct_like! {
    SerializeStruct closes 1;
    SerializeStructVariant closes 2;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize>(value: &T) {
        let written = serde_json::to_vec(value).expect("encodes").len() as u64;
        assert_eq!(
            json_size(value),
            written,
            "{}",
            serde_json::to_string(value).unwrap_or_default()
        );
        // The cap check agrees with the exact size on both sides of it, wherever the bound
        // that skips the strings' bytes falls.
        assert_eq!(json_size_over(value, written), None);
        assert_eq!(json_size_over(value, written.saturating_sub(1)), Some(written));
        assert!(count(value, Strings::WorstCase) >= written);
    }

    #[test]
    fn counts_what_serde_json_writes() {
        same_as_serde_json(&json!({
            "text": "plain \"quoted\" back\\slash \n\t\r \u{8}\u{c} \u{1} \u{1f}\u{7f} é 漢 🎉",
            "numbers": [0, 7, 10, 99, 100, -1, -100, u64::MAX, i64::MIN, 1.5, -0.25, 1e300],
            "nested": {"empty": {}, "list": [], "null": null, "flags": [true, false]},
        }));
        same_as_serde_json(&crate::model::Location {
            city: Some("Zwolle \"Z\"".into()),
            remote: Some(true),
            ..crate::model::Location::default()
        });
        same_as_serde_json(&Some(f64::NAN));
        let mut numbered = BTreeMap::new();
        numbered.insert(3u32, "three");
        numbered.insert(12u32, "twelve");
        same_as_serde_json(&numbered);
        #[derive(serde::Serialize)]
        enum Shapes {
            Unit,
            Newtype(u8),
            Tuple(u8, String),
            Struct { a: u8, b: Vec<u8> },
        }
        for shape in [
            Shapes::Unit,
            Shapes::Newtype(4),
            Shapes::Tuple(1, "x".into()),
            Shapes::Struct { a: 1, b: vec![2, 3] },
        ] {
            same_as_serde_json(&shape);
        }
        same_as_serde_json(&('é', (1u8, "t"), b"ab".as_slice()));
        same_as_serde_json(&"a\"b\\c\nd\u{1}".repeat(300));
        same_as_serde_json(&"\u{1}".repeat(100));
    }

    #[test]
    fn the_cap_check_counts_exactly_only_over_the_bound() {
        // 1,000 plain bytes: 1,002 as JSON, bounded at 6,002 without reading them.
        let plain = "p".repeat(1000);
        assert_eq!(count(&plain, Strings::WorstCase), 6002);
        assert_eq!(json_size_over(&plain, 6002), None, "under the bound: not read");
        assert_eq!(json_size_over(&plain, 1002), None, "over the bound, under the cap");
        assert_eq!(json_size_over(&plain, 1001), Some(1002));
        // All escapes: the bound is the exact size.
        let controls = "\u{1}".repeat(1000);
        assert_eq!(json_size_over(&controls, 6001), Some(6002));
    }
}
