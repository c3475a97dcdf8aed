//! The schema text as Confluent stores it (`canonicalString`) and its
//! normalized form, written the way Jackson writes them.
//!
//! Confluent re-serializes a JSON schema with Jackson: compact, key order
//! kept, a repeated key keeping its first place and its last value, floats
//! read as exact `BigDecimal`s and printed with `BigDecimal.toString()`
//! (`1.50` stays `1.50`, `1e2` becomes `1E+2`). `serde_json` keeps only an
//! `f64`, so this module reads the text into a small tree of its own that
//! keeps every number's digits. `normalize=true` sorts every object's keys.

use std::collections::HashMap;

use crate::avro::json::write_str;

/// A JSON value with numbers kept as Jackson would print them.
#[derive(Debug, Clone, PartialEq)]
enum Tree {
    Null,
    Bool(bool),
    /// Already in Jackson's printed form.
    Number(String),
    String(String),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

/// Confluent's stored text for a schema, or `None` when `text` is not JSON
/// this reader accepts (the caller has already parsed it with serde_json,
/// so this does not happen for valid input).
pub(crate) fn canonical(text: &str) -> Option<String> {
    let tree = read(text)?;
    let mut out = String::with_capacity(text.len());
    write(&mut out, &tree, false);
    Some(out)
}

/// The normalized text: as [`canonical`], every object's keys sorted.
pub(crate) fn normalized(text: &str) -> Option<String> {
    let tree = read(text)?;
    let mut out = String::with_capacity(text.len());
    write(&mut out, &tree, true);
    Some(out)
}

fn read(text: &str) -> Option<Tree> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let v = r.value()?;
    r.ws();
    (r.i == r.s.len()).then_some(v)
}

fn write(out: &mut String, t: &Tree, sorted: bool) {
    match t {
        Tree::Null => out.push_str("null"),
        Tree::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Tree::Number(n) => out.push_str(n),
        Tree::String(s) => write_str(out, s),
        Tree::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item, sorted);
            }
            out.push(']');
        }
        Tree::Object(members) => {
            let mut refs: Vec<&(String, Tree)> = members.iter().collect();
            if sorted {
                // Java's TreeMap orders by UTF-16 code units; for keys
                // outside the surrogate range that is code point order.
                refs.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            }
            out.push('{');
            for (i, (k, v)) in refs.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, v, sorted);
            }
            out.push('}');
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

/// The deepest nesting any configuration lets through: deeper input was
/// refused before here.
const MAX_DEPTH: usize = crate::Limits::MAX_MAX_DEPTH;

impl Reader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, lit: &str) -> Option<()> {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<Tree> {
        self.ws();
        match self.peek()? {
            b'n' => self.eat("null").map(|_| Tree::Null),
            b't' => self.eat("true").map(|_| Tree::Bool(true)),
            b'f' => self.eat("false").map(|_| Tree::Bool(false)),
            b'"' => self.string().map(Tree::String),
            b'[' => {
                self.enter()?;
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Some(Tree::Array(items))
            }
            b'{' => {
                self.enter()?;
                self.i += 1;
                let mut members: Vec<(String, Tree)> = Vec::new();
                // Where each key is, once an object is large enough for a
                // linear search to cost more than an index.
                let mut index: HashMap<String, usize> = HashMap::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.ws();
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.i += 1;
                        let v = self.value()?;
                        // Jackson: a repeated key keeps its place, takes the last value.
                        let at = if members.len() < 16 {
                            members.iter().position(|(k, _)| *k == key)
                        } else {
                            if index.is_empty() {
                                index = members
                                    .iter()
                                    .enumerate()
                                    .map(|(i, (k, _))| (k.clone(), i))
                                    .collect();
                            }
                            index.get(&key).copied()
                        };
                        match at {
                            Some(i) => members[i].1 = v,
                            None => {
                                if !index.is_empty() {
                                    index.insert(key.clone(), members.len());
                                }
                                members.push((key, v));
                            }
                        }
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Some(Tree::Object(members))
            }
            _ => self.number().map(Tree::Number),
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i;
        self.i += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        let raw = self.text.get(start..self.i)?;
        if !raw.contains('\\') {
            return raw.get(1..raw.len() - 1).map(str::to_owned);
        }
        // The escapes are serde_json's to decode.
        serde_json::from_str(raw).ok()
    }

    fn number(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        jackson_number(self.text.get(start..self.i)?)
    }
}

/// A JSON number literal as Jackson prints it after reading it with
/// `USE_BIG_DECIMAL_FOR_FLOATS` and exact big decimals: integers as
/// integers, anything with a fraction or exponent as `BigDecimal.toString()`.
pub(crate) fn jackson_number(lit: &str) -> Option<String> {
    let (negative, body) = match lit.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lit),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(p) => (&body[..p], Some(body[p + 1..].parse::<i64>().ok()?)),
        None => (body, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(p) => (&mantissa[..p], Some(&mantissa[p + 1..])),
        None => (mantissa, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let digits: String = format!("{int}{}", frac.unwrap_or(""));
    let unscaled = digits.trim_start_matches('0');
    let zero = unscaled.is_empty();
    if frac.is_none() && exp.is_none() {
        // An integer node: no sign on zero.
        return Some(if zero {
            "0".to_owned()
        } else if negative {
            format!("-{unscaled}")
        } else {
            unscaled.to_owned()
        });
    }
    let unscaled = if zero { "0" } else { unscaled };
    let scale = frac.map_or(0, str::len) as i64 - exp.unwrap_or(0);
    let n = unscaled.len() as i64;
    let adjusted = -scale + (n - 1);
    let mut out = String::new();
    if negative && !zero {
        out.push('-');
    }
    if scale >= 0 && adjusted >= -6 {
        if scale == 0 {
            out.push_str(unscaled);
        } else if n > scale {
            let point = (n - scale) as usize;
            out.push_str(&unscaled[..point]);
            out.push('.');
            out.push_str(&unscaled[point..]);
        } else {
            out.push_str("0.");
            for _ in 0..(scale - n) {
                out.push('0');
            }
            out.push_str(unscaled);
        }
    } else {
        out.push_str(&unscaled[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&unscaled[1..]);
        }
        out.push('E');
        if adjusted >= 0 {
            out.push('+');
        }
        out.push_str(&adjusted.to_string());
    }
    Some(out)
}
