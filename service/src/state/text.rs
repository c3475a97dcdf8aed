//! A schema's text: held in memory, or left in the embedded log and read
//! back when asked.
//!
//! The text is most of what a schema costs in memory (a million AVRO
//! schemas of 300 bytes: 380 MB of 880 MB). A schema replayed from the
//! embedded log keeps only where its record is: the page cache keeps the
//! texts that are asked for, and the rest costs nothing. The texts read
//! lately are also kept decoded, up to [`LogTexts::CACHE_BYTES`].

use std::borrow::Cow;
use std::sync::Arc;

use scute_storage::file::{FramePlace, FrameReader};
use serde::Deserialize;

use super::text_cache::TextCache;
use crate::error::Error;

/// The embedded log as the texts left in it are read back.
#[derive(Debug)]
pub struct LogTexts {
    log: FrameReader,
    cache: TextCache,
}

impl LogTexts {
    /// Texts kept decoded: 64 MiB, about 150,000 texts of 400 bytes.
    pub const CACHE_BYTES: usize = 64 << 20;

    pub fn new(log: FrameReader) -> Self {
        Self {
            log,
            cache: TextCache::new(Self::CACHE_BYTES),
        }
    }

    /// Whether the log holds `tail` (see [`FrameReader::holds`]).
    pub fn holds(&self, tail: &scute_storage::file::LogTail) -> Result<bool, Error> {
        self.log
            .holds(tail)
            .map_err(|e| Error::Store(e.to_string()))
    }
}

/// Where a schema's text is.
#[derive(Debug)]
pub enum SchemaText {
    /// Registered through this process, or replayed from a log that is not
    /// a file.
    Inline(Box<str>),
    /// The `schema` field of the SCHEMA record framed at `at` (`len` bytes)
    /// in the log `log` reads. Only records whose value a strict decode
    /// read (no repeated field) are left there, so reading the one field
    /// again gives the text the replay saw.
    Logged {
        log: Arc<LogTexts>,
        at: u64,
        len: u32,
    },
}

/// The one field of a SCHEMA value a text read needs.
#[derive(Deserialize)]
struct TextField {
    schema: String,
}

impl SchemaText {
    /// The text, or an error if the log cannot be read back (the store's
    /// error, 50001), never a wrong text: the frame's checksum is checked.
    pub fn read(&self) -> Result<Cow<'_, str>, Error> {
        let (log, at, len) = match self {
            Self::Inline(text) => return Ok(Cow::Borrowed(text)),
            Self::Logged { log, at, len } => (log, *at, *len),
        };
        let failed = |cause: &dyn std::fmt::Display| {
            Error::Store(format!(
                "Error while reading a schema's text from the log: {cause}"
            ))
        };
        if let Some(text) = log.cache.get(at) {
            return Ok(Cow::Owned(String::from(&*text)));
        }
        let value = log
            .log
            .read_value(FramePlace { at, len })
            .map_err(|e| failed(&e))?
            .ok_or_else(|| failed(&"the record is a tombstone"))?;
        let field: TextField = serde_json::from_slice(&value).map_err(|e| failed(&e))?;
        log.cache.insert(at, &field.schema);
        Ok(Cow::Owned(field.schema))
    }

    /// Whether two texts are equal, or the error reading one of them.
    pub fn same(&self, other: &Self) -> Result<bool, Error> {
        if let (Self::Inline(a), Self::Inline(b)) = (self, other) {
            return Ok(a == b);
        }
        Ok(self.read()? == other.read()?)
    }
}

impl From<String> for SchemaText {
    fn from(text: String) -> Self {
        Self::Inline(text.into_boxed_str())
    }
}

/// Equal texts, wherever they are held. Reads from the log; a text that
/// cannot be read is unequal to everything ([`SchemaText::same`] gives the
/// error instead).
impl PartialEq for SchemaText {
    fn eq(&self, other: &Self) -> bool {
        self.same(other).unwrap_or(false)
    }
}
