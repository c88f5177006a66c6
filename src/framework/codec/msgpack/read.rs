//! A bounds-checked msgpack reader over a byte slice.
//!
//! [`Reader::head`] reads one value's marker and fixed-size data (the
//! scalar, or the length of a string, array, map or extension); the caller
//! then reads the contents. Every read checks the remaining input, so
//! lengths taken from the input can never make it read or allocate beyond
//! the input.

use rmp::Marker;

use crate::framework::codec::error::Fail;
use crate::framework::codec::number;
use crate::framework::value::Number;

/// The head of a msgpack value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Head {
    Nil,
    Bool(bool),
    /// Any integer that fits `i64`, whatever its encoding.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    BigUInt(u64),
    /// float 32 or float 64.
    Float(f64),
    /// A string of this many bytes.
    Str(usize),
    /// Binary data of this many bytes.
    Bin(usize),
    /// An array of this many elements.
    Array(usize),
    /// A map of this many entries.
    Map(usize),
    /// An extension with its type code and payload length.
    Ext {
        code: i8,
        len: usize,
    },
}

impl Head {
    /// A short description, for errors.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "a bool",
            Head::Int(_) | Head::BigUInt(_) => "an integer",
            Head::Float(_) => "a float",
            Head::Str(_) => "a string",
            Head::Bin(_) => "binary data",
            Head::Array(_) => "an array",
            Head::Map(_) => "a map",
            Head::Ext { .. } => "an extension",
        }
    }
}

/// Reads msgpack from a byte slice.
pub(super) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input }
    }

    pub(super) fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Fails unless the whole input has been read.
    pub(super) fn finish(&self) -> Result<(), Fail> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(Fail::new(format!("{n} unexpected bytes after the value"))),
        }
    }

    /// The next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        if n > self.input.len() {
            return Err(truncated());
        }
        let (taken, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(taken)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut bytes = [0; N];
        bytes.copy_from_slice(self.take(N)?);
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        self.fixed().map(u8::from_be_bytes)
    }

    fn u16(&mut self) -> Result<u16, Fail> {
        self.fixed().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, Fail> {
        self.fixed().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, Fail> {
        self.fixed().map(u64::from_be_bytes)
    }

    /// A length read as `u32`, as a `usize`.
    fn len32(&mut self) -> Result<usize, Fail> {
        let len = self.u32()?;
        usize::try_from(len).map_err(|_| truncated())
    }

    /// Reads the head of the next value.
    pub(super) fn head(&mut self) -> Result<Head, Fail> {
        let head = match Marker::from_u8(self.u8()?) {
            Marker::Null => Head::Nil,
            Marker::True => Head::Bool(true),
            Marker::False => Head::Bool(false),
            Marker::FixPos(n) => Head::Int(n.into()),
            Marker::FixNeg(n) => Head::Int(n.into()),
            Marker::U8 => Head::Int(self.u8()?.into()),
            Marker::U16 => Head::Int(self.u16()?.into()),
            Marker::U32 => Head::Int(self.u32()?.into()),
            Marker::U64 => unsigned(self.u64()?),
            Marker::I8 => Head::Int(i8::from_be_bytes(self.fixed()?).into()),
            Marker::I16 => Head::Int(i16::from_be_bytes(self.fixed()?).into()),
            Marker::I32 => Head::Int(i32::from_be_bytes(self.fixed()?).into()),
            Marker::I64 => Head::Int(i64::from_be_bytes(self.fixed()?)),
            Marker::F32 => Head::Float(f32::from_be_bytes(self.fixed()?).into()),
            Marker::F64 => Head::Float(f64::from_be_bytes(self.fixed()?)),
            Marker::FixStr(n) => Head::Str(n.into()),
            Marker::Str8 => Head::Str(self.u8()?.into()),
            Marker::Str16 => Head::Str(self.u16()?.into()),
            Marker::Str32 => Head::Str(self.len32()?),
            Marker::Bin8 => Head::Bin(self.u8()?.into()),
            Marker::Bin16 => Head::Bin(self.u16()?.into()),
            Marker::Bin32 => Head::Bin(self.len32()?),
            Marker::FixArray(n) => Head::Array(n.into()),
            Marker::Array16 => Head::Array(self.u16()?.into()),
            Marker::Array32 => Head::Array(self.len32()?),
            Marker::FixMap(n) => Head::Map(n.into()),
            Marker::Map16 => Head::Map(self.u16()?.into()),
            Marker::Map32 => Head::Map(self.len32()?),
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let len = self.u8()?.into();
                self.ext(len)?
            }
            Marker::Ext16 => {
                let len = self.u16()?.into();
                self.ext(len)?
            }
            Marker::Ext32 => {
                let len = self.len32()?;
                self.ext(len)?
            }
            Marker::Reserved => return Err(Fail::new("reserved msgpack marker 0xc1")),
        };
        Ok(head)
    }

    fn ext(&mut self, len: usize) -> Result<Head, Fail> {
        let code = i8::from_be_bytes(self.fixed()?);
        Ok(Head::Ext { code, len })
    }

    /// Checks that `count` items of at least `min_bytes` each can still be
    /// in the input, before reading (or allocating for) them.
    pub(super) fn expect_items(&self, count: usize, min_bytes: usize) -> Result<(), Fail> {
        if count.saturating_mul(min_bytes) > self.remaining() {
            Err(truncated())
        } else {
            Ok(())
        }
    }

    /// The contents of a string of `len` bytes.
    pub(super) fn str(&mut self, len: usize) -> Result<&'a str, Fail> {
        std::str::from_utf8(self.take(len)?).map_err(|_| Fail::new("invalid UTF-8 in a string"))
    }

    /// A whole string value.
    pub(super) fn string(&mut self) -> Result<String, Fail> {
        match self.head()? {
            Head::Str(len) => Ok(self.str(len)?.to_string()),
            other => Err(Fail::new(format!(
                "expected a string, found {}",
                other.kind()
            ))),
        }
    }

    /// A number whose head has been read: an integer, a float, or decimal
    /// text in a string.
    pub(super) fn number(&mut self, head: Head) -> Result<Number, Fail> {
        match head {
            Head::Int(i) => Ok(Number::Int(i)),
            Head::BigUInt(u) => Ok(Number::Big(u.to_string())),
            Head::Float(f) => number::from_f64(f),
            Head::Str(len) => number::from_text(self.str(len)?),
            other => Err(Fail::new(format!(
                "expected a number, found {}",
                other.kind()
            ))),
        }
    }

    /// A whole bool value.
    pub(super) fn bool(&mut self) -> Result<bool, Fail> {
        match self.head()? {
            Head::Bool(b) => Ok(b),
            other => Err(Fail::new(format!(
                "expected a bool, found {}",
                other.kind()
            ))),
        }
    }

    /// Skips one whole value of any kind, without recursion.
    pub(super) fn skip(&mut self) -> Result<(), Fail> {
        // Values still to skip; each takes at least one byte, so more than
        // the remaining input means truncated input (and no overflow).
        let mut pending: usize = 1;
        while pending > 0 {
            pending -= 1;
            match self.head()? {
                Head::Str(len) | Head::Bin(len) | Head::Ext { len, .. } => {
                    self.take(len)?;
                }
                Head::Array(n) => pending = pending.saturating_add(n),
                Head::Map(n) => pending = pending.saturating_add(n.saturating_mul(2)),
                _ => {}
            }
            if pending > self.remaining() {
                return Err(truncated());
            }
        }
        Ok(())
    }
}

fn unsigned(u: u64) -> Head {
    match i64::try_from(u) {
        Ok(i) => Head::Int(i),
        Err(_) => Head::BigUInt(u),
    }
}

fn truncated() -> Fail {
    Fail::new("unexpected end of input")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Head {
        let mut r = Reader::new(bytes);
        let head = r.head().unwrap();
        r.finish().unwrap();
        head
    }

    #[test]
    fn integers_of_every_width() {
        assert_eq!(head(&[0x05]), Head::Int(5));
        assert_eq!(head(&[0xe0]), Head::Int(-32));
        assert_eq!(head(&[0xcc, 0xff]), Head::Int(255));
        assert_eq!(head(&[0xcd, 0x01, 0x00]), Head::Int(256));
        assert_eq!(
            head(&[0xce, 0xff, 0xff, 0xff, 0xff]),
            Head::Int(u32::MAX.into())
        );
        assert_eq!(
            head(&[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Head::Int(i64::MAX)
        );
        assert_eq!(
            head(&[0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Head::BigUInt(1 << 63)
        );
        assert_eq!(head(&[0xd0, 0x80]), Head::Int(-128));
        assert_eq!(head(&[0xd1, 0x80, 0x00]), Head::Int(i16::MIN.into()));
        assert_eq!(head(&[0xd2, 0x80, 0, 0, 0]), Head::Int(i32::MIN.into()));
        assert_eq!(
            head(&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Head::Int(i64::MIN)
        );
    }

    #[test]
    fn lengths_and_extensions() {
        assert_eq!(head(&[0xa3]), Head::Str(3));
        assert_eq!(head(&[0xd9, 0x20]), Head::Str(32));
        assert_eq!(head(&[0xc4, 0x02]), Head::Bin(2));
        assert_eq!(head(&[0xdd, 0, 1, 0, 0]), Head::Array(65536));
        assert_eq!(head(&[0xde, 0, 17]), Head::Map(17));
        assert_eq!(head(&[0xd4, 0x00]), Head::Ext { code: 0, len: 1 });
        assert_eq!(head(&[0xc7, 0x03, 0x0c]), Head::Ext { code: 12, len: 3 });
        assert_eq!(
            head(&[0xc8, 0x01, 0x00, 0xff]),
            Head::Ext { code: -1, len: 256 }
        );
    }

    #[test]
    fn huge_lengths_cannot_be_read_past_the_input() {
        let mut r = Reader::new(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a']);
        let Head::Str(len) = r.head().unwrap() else {
            panic!()
        };
        assert!(r.str(len).is_err());
        let r = Reader::new(&[0, 0, 0]);
        assert!(r.expect_items(usize::MAX, 2).is_err());
        assert!(r.expect_items(3, 1).is_ok());
    }

    #[test]
    fn skip_passes_over_nested_values() {
        // {"a": [1, {"b": bin"xy"}], 2: ext} then a trailing 7.
        let bytes = [
            0x82, 0xa1, b'a', 0x92, 0x01, 0x81, 0xa1, b'b', 0xc4, 0x02, b'x', b'y', 0x02, 0xd4,
            0x05, 0x00, 0x07,
        ];
        let mut r = Reader::new(&bytes);
        r.skip().unwrap();
        assert_eq!(r.head().unwrap(), Head::Int(7));
        // A huge declared array is refused at once.
        assert!(Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x00])
            .skip()
            .is_err());
    }

    #[test]
    fn reserved_marker_and_truncation_are_errors() {
        assert!(Reader::new(&[0xc1]).head().is_err());
        assert!(Reader::new(&[]).head().is_err());
        assert!(Reader::new(&[0xcb, 0x00]).head().is_err());
        assert!(Reader::new(&[0xd4]).head().is_err());
    }
}
