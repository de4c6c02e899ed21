//! The protobuf wire format, read only: varints, fixed 32/64-bit values and length-delimited
//! fields, every read bounds-checked (a hostile body yields an error, never a panic).

use super::ProtobufError;

/// How a field's value is laid out on the wire (the low three bits of its key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    /// A base-128 varint (int32, int64, bool, enums).
    Varint,
    /// Eight little-endian bytes (fixed64, sfixed64, double).
    Fixed64,
    /// A varint length, then that many bytes (strings, bytes, messages, packed repeated).
    LengthDelimited,
    /// Four little-endian bytes (fixed32, sfixed32, float).
    Fixed32,
}

impl WireType {
    /// The wire type of a key's low bits; groups (3, 4) and 6, 7 are refused.
    pub fn from_bits(bits: u64) -> Result<WireType, ProtobufError> {
        match bits {
            0 => Ok(WireType::Varint),
            1 => Ok(WireType::Fixed64),
            2 => Ok(WireType::LengthDelimited),
            5 => Ok(WireType::Fixed32),
            other => Err(ProtobufError::UnsupportedWireType(other as u8)),
        }
    }
}

/// A field's value as read from the wire, before the schema gives it a meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// A varint's 64 bits.
    Varint(u64),
    /// A fixed 64-bit value.
    Fixed64(u64),
    /// The bytes of a length-delimited field.
    Bytes(&'a [u8]),
    /// A fixed 32-bit value.
    Fixed32(u32),
}

impl WireValue<'_> {
    /// The wire type this value was read with.
    pub fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::Bytes(_) => WireType::LengthDelimited,
            WireValue::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// A cursor over one message's bytes.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads a base-128 varint (at most ten bytes; the tenth may carry only the top bit).
    pub fn varint(&mut self) -> Result<u64, ProtobufError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(ProtobufError::Truncated { offset: start });
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(ProtobufError::BadVarint { offset: start });
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::BadVarint { offset: start })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(ProtobufError::Truncated { offset: self.pos })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Reads the next field: its number and its value (None at the end of the message).
    pub fn field(&mut self) -> Result<Option<(u32, WireValue<'a>)>, ProtobufError> {
        if self.is_empty() {
            return Ok(None);
        }
        let offset = self.pos;
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|n| (1..(1 << 29)).contains(n))
            .ok_or(ProtobufError::BadFieldNumber { offset })?;
        let value = match WireType::from_bits(key & 7)? {
            WireType::Varint => WireValue::Varint(self.varint()?),
            WireType::Fixed64 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                WireValue::Fixed64(u64::from_le_bytes(a))
            }
            WireType::Fixed32 => {
                let b = self.take(4)?;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                WireValue::Fixed32(u32::from_le_bytes(a))
            }
            WireType::LengthDelimited => {
                let at = self.pos;
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| ProtobufError::Truncated { offset: at })?;
                WireValue::Bytes(self.take(len)?)
            }
        };
        Ok(Some((number, value)))
    }
}
