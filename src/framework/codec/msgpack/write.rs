//! A msgpack writer into a byte vector, always choosing the most compact
//! encoding (as Terraform does).

use crate::framework::codec::error::Fail;
use crate::framework::codec::number;
use crate::framework::value::Number;

/// Appends msgpack to a byte vector.
#[derive(Default)]
pub(super) struct Writer {
    out: Vec<u8>,
}

/// Writing to a `Vec` cannot fail, but rmp's signatures say it might.
fn written<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<(), Fail> {
    result
        .map(|_| ())
        .map_err(|e| Fail::new(format!("msgpack write failed: {e}")))
}

/// A length as msgpack's 32-bit lengths.
fn len32(len: usize) -> Result<u32, Fail> {
    u32::try_from(len).map_err(|_| Fail::new(format!("length {len} exceeds msgpack's limit")))
}

impl Writer {
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    pub(super) fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub(super) fn nil(&mut self) -> Result<(), Fail> {
        written(rmp::encode::write_nil(&mut self.out))
    }

    pub(super) fn bool(&mut self, b: bool) -> Result<(), Fail> {
        written(rmp::encode::write_bool(&mut self.out, b))
    }

    pub(super) fn int(&mut self, i: i64) -> Result<(), Fail> {
        written(rmp::encode::write_sint(&mut self.out, i))
    }

    pub(super) fn uint(&mut self, u: u64) -> Result<(), Fail> {
        written(rmp::encode::write_uint(&mut self.out, u))
    }

    pub(super) fn str(&mut self, s: &str) -> Result<(), Fail> {
        len32(s.len())?;
        written(rmp::encode::write_str(&mut self.out, s))
    }

    pub(super) fn bin(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        len32(bytes.len())?;
        written(rmp::encode::write_bin(&mut self.out, bytes))
    }

    pub(super) fn array_len(&mut self, len: usize) -> Result<(), Fail> {
        written(rmp::encode::write_array_len(&mut self.out, len32(len)?))
    }

    pub(super) fn map_len(&mut self, len: usize) -> Result<(), Fail> {
        written(rmp::encode::write_map_len(&mut self.out, len32(len)?))
    }

    /// An extension with a non-negative type `code` and its payload.
    pub(super) fn ext(&mut self, code: u8, payload: &[u8]) -> Result<(), Fail> {
        let code = i8::try_from(code).map_err(|_| Fail::new("extension code out of range"))?;
        written(rmp::encode::write_ext_meta(
            &mut self.out,
            len32(payload.len())?,
            code,
        ))?;
        self.raw(payload);
        Ok(())
    }

    /// A number, the way Terraform writes one: an integer when it is one
    /// (even if held as a float), a float 64 otherwise, decimal text for
    /// numbers only known as text.
    pub(super) fn number(&mut self, n: &Number) -> Result<(), Fail> {
        match n {
            Number::Int(i) => self.int(*i),
            Number::Float(f) if f.is_nan() => Err(Fail::new("NaN is not a valid number")),
            Number::Float(f) => match number::integral_f64(*f) {
                Some(i) => self.int(i),
                None => written(rmp::encode::write_f64(&mut self.out, *f)),
            },
            Number::Big(text) => self.str(number::big_text(text)?),
        }
    }
}
