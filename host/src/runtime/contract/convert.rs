//! Conversion between one contract version's binding types and the host's model
//! ([`crate::model`]). `Convert` is implemented once for every primitive and container, and
//! the macros below write the record, enum and variant impls field by field, so a version
//! module lists only names: a field the version lacks is named in `default`, and a field
//! the version lacks on its side is simply not listed.

/// `self` as the other side's type.
pub trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => {
        $(impl Convert<$t> for $t {
            fn convert(self) -> $t {
                self
            }
        })*
    };
}

identity!(String, bool, u8, u16, u32, u64, f64);

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B, E: Convert<F>, F> Convert<Result<B, F>> for Result<A, E> {
    fn convert(self) -> Result<B, F> {
        self.map(Convert::convert).map_err(Convert::convert)
    }
}

/// Records: `record!(from::Job => to::Job { id, title, ... } default { post_url, ... })`.
macro_rules! record {
    ($from:ty => $to:ty { $($field:ident),* $(,)? } $(default { $($extra:ident),* $(,)? })?) => {
        impl $crate::runtime::contract::convert::Convert<$to> for $from {
            fn convert(self) -> $to {
                type Dst = $to;
                Dst {
                    $($field: $crate::runtime::contract::convert::Convert::convert(self.$field),)*
                    $($($extra: Default::default(),)*)?
                }
            }
        }
    };
}

/// Enums without payloads: `unit_enum!(from::JobStatus => to::JobStatus { Open, Closed })`.
macro_rules! unit_enum {
    ($from:ty => $to:ty { $($case:ident),* $(,)? }) => {
        impl $crate::runtime::contract::convert::Convert<$to> for $from {
            fn convert(self) -> $to {
                type Src = $from;
                type Dst = $to;
                match self {
                    $(Src::$case => Dst::$case,)*
                }
            }
        }
    };
}

/// Variants whose every case has one payload: `variant!(from::Target => to::Target { ... })`.
macro_rules! variant {
    ($from:ty => $to:ty { $($case:ident),* $(,)? }) => {
        impl $crate::runtime::contract::convert::Convert<$to> for $from {
            fn convert(self) -> $to {
                type Src = $from;
                type Dst = $to;
                match self {
                    $(Src::$case(value) => {
                        Dst::$case($crate::runtime::contract::convert::Convert::convert(value))
                    })*
                }
            }
        }
    };
}

pub(crate) use {record, unit_enum, variant};
