//! Whole numbers as JSON Schema means `integer`: any number without a fractional part, so `29`
//! and `29.0` are the same. serde's integers refuse `29.0`; request bodies read their integers
//! through these instead.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A non-negative whole number, read from any JSON (or DynamoDB) number without a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Whole(pub u64);

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number, not negative")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
        Ok(Whole(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
        u64::try_from(v).map(Whole).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
        // 2^64 is exactly representable; anything below it with no fraction fits a u64.
        if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
            Ok(Whole(v as u64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_u64(WholeVisitor)
    }
}

fn narrow<T: TryFrom<u64>, E: de::Error>(Whole(v): Whole) -> Result<T, E> {
    T::try_from(v).map_err(|_| E::custom(format_args!("{v} is too large")))
}

/// `#[serde(deserialize_with = "whole::u32")]`.
pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    narrow(Whole::deserialize(d)?)
}

/// `#[serde(deserialize_with = "whole::int64")]`: at most 2^63 - 1, JSON Schema's `int64`.
pub fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let Whole(v) = Whole::deserialize(d)?;
    if v > i64::MAX as u64 {
        return Err(de::Error::custom(format_args!("{v} is over 2^63 - 1")));
    }
    Ok(v)
}

/// `#[serde(default, deserialize_with = "whole::option_u32")]`: absent or `null` is `None`.
pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<Whole>::deserialize(d)?.map(narrow).transpose()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "super::u32")]
        n: u32,
        #[serde(default, deserialize_with = "super::option_u32")]
        m: Option<u32>,
    }

    #[test]
    fn a_number_without_a_fraction_is_whole_whatever_its_spelling() {
        let read = |s: &str| serde_json::from_str::<Body>(s).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"n": 29}"#), Ok(Body { n: 29, m: None }));
        assert_eq!(read(r#"{"n": 29.0, "m": 1e1}"#), Ok(Body { n: 29, m: Some(10) }));
        assert_eq!(read(r#"{"n": 1, "m": null}"#), Ok(Body { n: 1, m: None }));
        for bad in
            [r#"{"n": 29.5}"#, r#"{"n": -1}"#, r#"{"n": 4294967296}"#, r#"{"n": "3"}"#, r#"{"n": 1e300}"#]
        {
            assert!(read(bad).is_err(), "{bad} was accepted");
        }
    }
}
