//! The records of the `_schemas` log, byte for byte as Confluent Schema Registry 8.x
//! writes them.
//!
//! Keys matter most: Kafka compaction compares key bytes, so a key Scute writes must be
//! identical (field order, no whitespace, same escapes) to the key Confluent writes for
//! the same thing, or an update or tombstone would not replace the earlier record.
//! Values are written in Confluent's field order too, so a log written by Scute reads
//! back the same in every registry.
//!
//! Reading is lenient: every shape Confluent (any version), Karapace and Redpanda
//! write is accepted, and fields Scute does not model are kept in `extra` and written
//! back, so that passing a record through Scute never loses data.
//!
//! JSON is written by a small writer of our own rather than `serde_json::to_vec`,
//! because Jackson escapes control characters with upper-case hex (`\u001F`) where
//! serde_json writes lower case, and keys must match byte for byte.

use serde_json::{Map, Value};

/// One record as the log stores it: JSON key bytes, JSON value bytes or none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawRecord {
    pub key: Vec<u8>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A decoded `_schemas` record.
#[derive(Clone, Debug, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "records are short-lived and matched by value; boxing would burden every caller"
)]
pub enum Record {
    /// A subject-version. `value: None` is a hard delete of that version.
    Schema {
        subject: String,
        version: i32,
        value: Option<SchemaValue>,
    },
    /// Compatibility config. `subject: None` is the global config; `value: None` deletes it.
    Config {
        subject: Option<String>,
        value: Option<ConfigValue>,
    },
    /// Mode. `subject: None` is the global mode; `value: None` deletes it.
    Mode {
        subject: Option<String>,
        value: Option<ModeValue>,
    },
    /// Soft delete of a subject up to a version. A tombstone means nothing.
    DeleteSubject {
        subject: String,
        value: Option<DeleteSubjectValue>,
    },
    /// Drop soft-deleted versions of a subject. A CLEAR_SUBJECT tombstone decodes as
    /// [`Record::Noop`], because it means nothing.
    ClearSubject { subject: String },
    /// An association of a subject with a resource (a topic). `value: None` deletes it.
    Association {
        key: AssociationKey,
        value: Option<AssociationValue>,
    },
    /// A context other than the default one exists (Confluent writes it
    /// before a context's first schema). `live: false` is its tombstone.
    Context {
        tenant: String,
        context: String,
        live: bool,
    },
    /// Written only to learn the end of the log; always ignored.
    Noop,
    /// A keytype Scute does not know (future ones). Replay skips it.
    /// Encoding it gives `{"keytype":K,"magic":0}` with no value: Scute never writes one.
    Unknown { keytype: String },
}

/// The value of a SCHEMA record.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaValue {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    /// `None` is AVRO (Karapace, Redpanda and Confluent before 8.0 omit it for AVRO).
    pub schema_type: Option<String>,
    pub references: Vec<SchemaReference>,
    pub metadata: Option<Value>,
    pub rule_set: Option<Value>,
    pub schema: String,
    pub deleted: bool,
    /// Fields Scute does not model (`md5`, `offset`, `ts`, ...), kept and written back.
    pub extra: Map<String, Value>,
}

/// A reference from one schema to a subject-version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// The value of a CONFIG record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigValue {
    pub subject: Option<String>,
    pub compatibility_level: Option<String>,
    pub normalize: Option<bool>,
    /// `alias`, `validateFields`, `compatibilityGroup`, `defaultMetadata`, ... kept verbatim.
    pub extra: Map<String, Value>,
}

/// The value of a MODE record.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeValue {
    pub subject: Option<String>,
    pub mode: String,
    pub extra: Map<String, Value>,
}

/// The value of a DELETE_SUBJECT record: versions up to `version` are soft-deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteSubjectValue {
    pub subject: String,
    pub version: i32,
    pub extra: Map<String, Value>,
}

/// The key of an ASSOC record: what makes an association one record to compaction.
/// The resource id is not part of it (it is in the value).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssociationKey {
    /// `default` on a registry without tenants.
    pub tenant: String,
    pub resource_name: String,
    pub resource_namespace: String,
    /// `topic`.
    pub resource_type: String,
    /// `key` or `value`.
    pub association_type: String,
    pub subject: String,
}

/// The value of an ASSOC record.
#[derive(Clone, Debug, PartialEq)]
pub struct AssociationValue {
    /// Assigned when the association is created, kept by updates.
    pub guid: String,
    pub resource_id: String,
    /// `STRONG` or `WEAK`.
    pub lifecycle: String,
    pub frozen: bool,
    /// Milliseconds since the epoch; Confluent may leave it out.
    pub create_ts: Option<i64>,
    /// Fields Scute does not model, kept and written back.
    pub extra: Map<String, Value>,
}

/// Redpanda's optimistic-concurrency stamp on a key: the offset the writer expected the
/// record to land at (`seq`) and the writer's node id (`node`). Confluent and Karapace
/// ignore these fields; [`decode_stamped`] returns them and [`Record::encode_stamped`]
/// writes them after `magic`, as Redpanda does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyStamp {
    pub seq: i64,
    pub node: i32,
}

/// Why a record could not be decoded. The replayer logs it and skips the record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record {part} is not valid JSON: {source}")]
    Json {
        part: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("record {part} is not a JSON object")]
    NotAnObject { part: &'static str },
    #[error("record {part} lacks field `{field}` or it has the wrong type")]
    MissingField {
        part: &'static str,
        field: &'static str,
    },
}

/// The tenant of an open-source registry's records.
pub const DEFAULT_TENANT: &str = "default";

/// Decodes a record from its key and value bytes (`None` = tombstone).
pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Record, RecordError> {
    decode_stamped(key, value).map(|(record, _)| record)
}

/// Decodes a record and the Redpanda [`KeyStamp`] of its key, if the key has both
/// `seq` and `node`.
pub fn decode_stamped(
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(Record, Option<KeyStamp>), RecordError> {
    let key = parse_object(key, "key")?;
    let keytype = str_field(&key, "keytype").ok_or(RecordError::MissingField {
        part: "key",
        field: "keytype",
    })?;
    let stamp = match (
        key.get("seq").and_then(Value::as_i64),
        key.get("node").and_then(as_i32),
    ) {
        (Some(seq), Some(node)) => Some(KeyStamp { seq, node }),
        _ => None,
    };
    // Karapace tolerates empty values; a JSON `null` is a tombstone too.
    let value = match value {
        Some(bytes) if !is_blank(bytes) => match parse_json(bytes, "value")? {
            Value::Null => None,
            Value::Object(map) => Some(map),
            _ => return Err(RecordError::NotAnObject { part: "value" }),
        },
        _ => None,
    };
    let record = match keytype {
        "SCHEMA" => {
            let subject = key_subject(&key)?;
            let version = key
                .get("version")
                .and_then(as_i32)
                .ok_or(missing("key", "version"))?;
            let value = value
                .map(|v| schema_value(v, &subject, version))
                .transpose()?;
            Record::Schema {
                subject,
                version,
                value,
            }
        }
        "CONFIG" => {
            let subject = str_field(&key, "subject").map(str::to_owned);
            let value = value.map(|v| config_value(v, subject.as_deref()));
            Record::Config { subject, value }
        }
        "MODE" => {
            let subject = str_field(&key, "subject").map(str::to_owned);
            let value = value
                .map(|v| mode_value(v, subject.as_deref()))
                .transpose()?;
            Record::Mode { subject, value }
        }
        "DELETE_SUBJECT" => {
            let subject = key_subject(&key)?;
            let value = value
                .map(|v| delete_subject_value(v, &subject))
                .transpose()?;
            Record::DeleteSubject { subject, value }
        }
        "CLEAR_SUBJECT" => match value {
            Some(_) => Record::ClearSubject {
                subject: key_subject(&key)?,
            },
            None => Record::Noop,
        },
        "ASSOC" => {
            let key = association_key(&key)?;
            let value = value.map(association_value).transpose()?;
            Record::Association { key, value }
        }
        "CONTEXT" => Record::Context {
            tenant: str_field(&key, "tenant")
                .unwrap_or(DEFAULT_TENANT)
                .to_owned(),
            context: str_field(&key, "context")
                .ok_or(missing("key", "context"))?
                .to_owned(),
            live: value.is_some(),
        },
        "NOOP" => Record::Noop,
        other => Record::Unknown {
            keytype: other.to_owned(),
        },
    };
    Ok((record, stamp))
}

impl Record {
    /// Whether the record carries a value: false for tombstones and NOOPs,
    /// which a shared log's first-writer-wins rule does not apply to.
    pub fn has_value(&self) -> bool {
        !matches!(
            self,
            Record::Schema { value: None, .. }
                | Record::Config { value: None, .. }
                | Record::Mode { value: None, .. }
                | Record::DeleteSubject { value: None, .. }
                | Record::Association { value: None, .. }
                | Record::Context { live: false, .. }
                | Record::Noop
        )
    }

    /// Encodes the record as Confluent Schema Registry 8.x writes it.
    pub fn encode(&self) -> RawRecord {
        self.encode_with(None)
    }

    /// Encodes the record with Redpanda's `seq` and `node` after `magic` in the key.
    pub fn encode_stamped(&self, stamp: KeyStamp) -> RawRecord {
        self.encode_with(Some(stamp))
    }

    fn encode_with(&self, stamp: Option<KeyStamp>) -> RawRecord {
        let mut key = Map::new();
        let value = match self {
            Record::Schema {
                subject,
                version,
                value,
            } => {
                key.insert("keytype".into(), "SCHEMA".into());
                key.insert("subject".into(), subject.as_str().into());
                key.insert("version".into(), (*version).into());
                key.insert("magic".into(), 1.into());
                value.as_ref().map(SchemaValue::to_json)
            }
            Record::Config { subject, value } => {
                subject_key(&mut key, "CONFIG", subject.as_deref());
                value.as_ref().map(ConfigValue::to_json)
            }
            Record::Mode { subject, value } => {
                subject_key(&mut key, "MODE", subject.as_deref());
                value.as_ref().map(ModeValue::to_json)
            }
            Record::DeleteSubject { subject, value } => {
                subject_key(&mut key, "DELETE_SUBJECT", Some(subject));
                value.as_ref().map(DeleteSubjectValue::to_json)
            }
            Record::ClearSubject { subject } => {
                subject_key(&mut key, "CLEAR_SUBJECT", Some(subject));
                let mut value = Map::new();
                value.insert("subject".into(), subject.as_str().into());
                Some(value)
            }
            Record::Association { key: k, value } => {
                k.write(&mut key);
                value.as_ref().map(|v| v.to_json(k))
            }
            // `ContextKey`'s order: keytype, tenant, context, then magic.
            Record::Context {
                tenant,
                context,
                live,
            } => {
                key.insert("keytype".into(), "CONTEXT".into());
                key.insert("tenant".into(), tenant.as_str().into());
                key.insert("context".into(), context.as_str().into());
                key.insert("magic".into(), 0.into());
                live.then(|| {
                    let mut value = Map::new();
                    value.insert("tenant".into(), tenant.as_str().into());
                    value.insert("context".into(), context.as_str().into());
                    value
                })
            }
            Record::Noop => {
                subject_key(&mut key, "NOOP", None);
                None
            }
            Record::Unknown { keytype } => {
                subject_key(&mut key, keytype, None);
                None
            }
        };
        if let Some(stamp) = stamp {
            key.insert("seq".into(), stamp.seq.into());
            key.insert("node".into(), stamp.node.into());
        }
        RawRecord {
            key: to_bytes(&key),
            value: value.map(|v| to_bytes(&v)),
        }
    }
}

impl SchemaValue {
    fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("subject".into(), self.subject.as_str().into());
        out.insert("version".into(), self.version.into());
        out.insert("id".into(), self.id.into());
        put_extra(&mut out, &self.extra, "md5");
        out.insert(
            "schemaType".into(),
            self.schema_type.as_deref().unwrap_or("AVRO").into(),
        );
        if !self.references.is_empty() {
            let refs = self
                .references
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("name".into(), r.name.as_str().into());
                    m.insert("subject".into(), r.subject.as_str().into());
                    m.insert("version".into(), r.version.into());
                    Value::Object(m)
                })
                .collect();
            out.insert("references".into(), Value::Array(refs));
        }
        put_opt(&mut out, "metadata", self.metadata.as_ref());
        put_opt(&mut out, "ruleSet", self.rule_set.as_ref());
        out.insert("schema".into(), self.schema.as_str().into());
        out.insert("deleted".into(), self.deleted.into());
        put_rest(&mut out, &self.extra);
        out
    }
}

/// Confluent's `ConfigValue` creator order (`storage/ConfigValue.java`): Jackson writes
/// creator properties first, in parameter order. `compatibilityLevel` and `normalize`
/// come from the struct, the others from `extra`; fields not listed follow in the
/// order they were read. `validateRules`, `aliasForDeks`, `validateNewSchemas` and
/// `compatibilityPolicy` are placed by the REST `Config` order, the best evidence found.
const CONFIG_FIELD_ORDER: &[&str] = &[
    "alias",
    "aliasForDeks",
    "normalize",
    "validateFields",
    "validateNewSchemas",
    "validateRules",
    "compatibilityLevel",
    "compatibilityPolicy",
    "compatibilityGroup",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
];

impl ConfigValue {
    fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(subject) = &self.subject {
            out.insert("subject".into(), subject.as_str().into());
        }
        for &field in CONFIG_FIELD_ORDER {
            match field {
                "compatibilityLevel" => {
                    if let Some(level) = &self.compatibility_level {
                        out.insert(field.into(), level.as_str().into());
                    }
                }
                "normalize" => {
                    if let Some(normalize) = self.normalize {
                        out.insert(field.into(), normalize.into());
                    }
                }
                _ => put_extra(&mut out, &self.extra, field),
            }
        }
        put_rest(&mut out, &self.extra);
        out
    }
}

impl ModeValue {
    fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(subject) = &self.subject {
            out.insert("subject".into(), subject.as_str().into());
        }
        out.insert("mode".into(), self.mode.as_str().into());
        put_rest(&mut out, &self.extra);
        out
    }
}

impl DeleteSubjectValue {
    fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("subject".into(), self.subject.as_str().into());
        out.insert("version".into(), self.version.into());
        put_rest(&mut out, &self.extra);
        out
    }
}

/// `AssociationKey`'s property order: `keytype, tenant, resourceName,
/// resourceNamespace, resourceType, associationType, subject`, then `magic` (0).
/// Empty fields are left out, as Jackson's `NON_EMPTY` does.
impl AssociationKey {
    fn write(&self, key: &mut Map<String, Value>) {
        key.insert("keytype".into(), "ASSOC".into());
        for (field, text) in [
            ("tenant", &self.tenant),
            ("resourceName", &self.resource_name),
            ("resourceNamespace", &self.resource_namespace),
            ("resourceType", &self.resource_type),
            ("associationType", &self.association_type),
            ("subject", &self.subject),
        ] {
            if !text.is_empty() {
                key.insert(field.into(), text.as_str().into());
            }
        }
        key.insert("magic".into(), 0.into());
    }
}

/// `AssociationValue`'s creator order: `guid, tenant, resourceName,
/// resourceNamespace, resourceId, resourceType, associationType, subject,
/// lifecycle, frozen, createTs`; the key's fields are repeated in the value.
impl AssociationValue {
    fn to_json(&self, key: &AssociationKey) -> Map<String, Value> {
        let mut out = Map::new();
        for (field, text) in [
            ("guid", &self.guid),
            ("tenant", &key.tenant),
            ("resourceName", &key.resource_name),
            ("resourceNamespace", &key.resource_namespace),
            ("resourceId", &self.resource_id),
            ("resourceType", &key.resource_type),
            ("associationType", &key.association_type),
            ("subject", &key.subject),
            ("lifecycle", &self.lifecycle),
        ] {
            if !text.is_empty() {
                out.insert(field.into(), text.as_str().into());
            }
        }
        out.insert("frozen".into(), self.frozen.into());
        if let Some(ts) = self.create_ts {
            out.insert("createTs".into(), ts.into());
        }
        put_rest(&mut out, &self.extra);
        out
    }
}

fn association_key(key: &Map<String, Value>) -> Result<AssociationKey, RecordError> {
    let field = |name: &'static str| str_field(key, name).unwrap_or_default().to_owned();
    let key = AssociationKey {
        tenant: field("tenant"),
        resource_name: field("resourceName"),
        resource_namespace: field("resourceNamespace"),
        resource_type: field("resourceType"),
        association_type: field("associationType"),
        subject: field("subject"),
    };
    if key.subject.is_empty() {
        return Err(missing("key", "subject"));
    }
    Ok(key)
}

fn association_value(mut v: Map<String, Value>) -> Result<AssociationValue, RecordError> {
    // The key's fields, repeated in the value, are the key's to say.
    for field in [
        "tenant",
        "resourceName",
        "resourceNamespace",
        "resourceType",
        "associationType",
        "subject",
    ] {
        v.shift_remove(field);
    }
    Ok(AssociationValue {
        guid: take_string(&mut v, "guid").unwrap_or_default(),
        resource_id: take_string(&mut v, "resourceId").unwrap_or_default(),
        lifecycle: take_string(&mut v, "lifecycle").ok_or(missing("value", "lifecycle"))?,
        frozen: take(&mut v, "frozen")
            .as_ref()
            .and_then(Value::as_bool)
            .unwrap_or(false),
        create_ts: take(&mut v, "createTs").as_ref().and_then(Value::as_i64),
        extra: v,
    })
}

fn schema_value(
    mut v: Map<String, Value>,
    key_subject: &str,
    key_version: i32,
) -> Result<SchemaValue, RecordError> {
    let subject = take_string(&mut v, "subject").unwrap_or_else(|| key_subject.to_owned());
    let version = take(&mut v, "version")
        .as_ref()
        .and_then(as_i32)
        .unwrap_or(key_version);
    let id = take(&mut v, "id")
        .as_ref()
        .and_then(as_i32)
        .ok_or(missing("value", "id"))?;
    let schema = take_string(&mut v, "schema").ok_or(missing("value", "schema"))?;
    let schema_type = take_string(&mut v, "schemaType");
    let references = match take(&mut v, "references") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(reference)
            .collect::<Option<Vec<_>>>()
            .ok_or(missing("value", "references"))?,
        Some(_) => return Err(missing("value", "references")),
    };
    let metadata = take(&mut v, "metadata");
    let rule_set = take(&mut v, "ruleSet");
    let deleted = take(&mut v, "deleted")
        .as_ref()
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(SchemaValue {
        subject,
        version,
        id,
        schema_type,
        references,
        metadata,
        rule_set,
        schema,
        deleted,
        extra: v,
    })
}

fn reference(v: &Value) -> Option<SchemaReference> {
    Some(SchemaReference {
        name: v.get("name")?.as_str()?.to_owned(),
        subject: v.get("subject")?.as_str()?.to_owned(),
        version: as_i32(v.get("version")?)?,
    })
}

fn config_value(mut v: Map<String, Value>, key_subject: Option<&str>) -> ConfigValue {
    let subject = take_string(&mut v, "subject").or_else(|| key_subject.map(str::to_owned));
    let compatibility_level = take_string(&mut v, "compatibilityLevel");
    let normalize = take(&mut v, "normalize").as_ref().and_then(Value::as_bool);
    ConfigValue {
        subject,
        compatibility_level,
        normalize,
        extra: v,
    }
}

fn mode_value(
    mut v: Map<String, Value>,
    key_subject: Option<&str>,
) -> Result<ModeValue, RecordError> {
    let subject = take_string(&mut v, "subject").or_else(|| key_subject.map(str::to_owned));
    let mode = take_string(&mut v, "mode").ok_or(missing("value", "mode"))?;
    Ok(ModeValue {
        subject,
        mode,
        extra: v,
    })
}

fn delete_subject_value(
    mut v: Map<String, Value>,
    key_subject: &str,
) -> Result<DeleteSubjectValue, RecordError> {
    let subject = take_string(&mut v, "subject").unwrap_or_else(|| key_subject.to_owned());
    let version = take(&mut v, "version")
        .as_ref()
        .and_then(as_i32)
        .ok_or(missing("value", "version"))?;
    Ok(DeleteSubjectValue {
        subject,
        version,
        extra: v,
    })
}

fn parse_json(bytes: &[u8], part: &'static str) -> Result<Value, RecordError> {
    serde_json::from_slice(bytes).map_err(|source| RecordError::Json { part, source })
}

fn parse_object(bytes: &[u8], part: &'static str) -> Result<Map<String, Value>, RecordError> {
    match parse_json(bytes, part)? {
        Value::Object(map) => Ok(map),
        _ => Err(RecordError::NotAnObject { part }),
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn missing(part: &'static str, field: &'static str) -> RecordError {
    RecordError::MissingField { part, field }
}

fn key_subject(key: &Map<String, Value>) -> Result<String, RecordError> {
    str_field(key, "subject")
        .map(str::to_owned)
        .ok_or(missing("key", "subject"))
}

fn str_field<'a>(map: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    map.get(field).and_then(Value::as_str)
}

fn as_i32(v: &Value) -> Option<i32> {
    v.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Removes a field; a JSON `null` counts as absent, as it does for Jackson.
fn take(map: &mut Map<String, Value>, field: &str) -> Option<Value> {
    map.shift_remove(field).filter(|v| !v.is_null())
}

fn take_string(map: &mut Map<String, Value>, field: &str) -> Option<String> {
    match take(map, field) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn subject_key(key: &mut Map<String, Value>, keytype: &str, subject: Option<&str>) {
    key.insert("keytype".into(), keytype.into());
    if let Some(subject) = subject {
        key.insert("subject".into(), subject.into());
    }
    key.insert("magic".into(), 0.into());
}

fn put_opt(out: &mut Map<String, Value>, field: &str, value: Option<&Value>) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        out.insert(field.into(), value.clone());
    }
}

/// Writes one field of `extra` at this point of the order, if present.
fn put_extra(out: &mut Map<String, Value>, extra: &Map<String, Value>, field: &str) {
    put_opt(out, field, extra.get(field));
}

/// Writes the fields of `extra` not written yet, in their order. Nulls are omitted,
/// as Jackson's `NON_EMPTY` does.
fn put_rest(out: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (field, value) in extra {
        if !out.contains_key(field) && !value.is_null() {
            out.insert(field.clone(), value.clone());
        }
    }
}

fn to_bytes(map: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_object(&mut out, map);
    out
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (field, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, field);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// Jackson's default escaping: `"` and `\`, the short forms for \b \t \n \f \r, other
/// control characters as `\u00XX` with upper-case hex; everything else as UTF-8.
fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0D => out.extend_from_slice(b"\\r"),
            0x00..=0x1F => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xF)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(raw: &RawRecord) -> (String, Option<String>) {
        (
            String::from_utf8(raw.key.clone()).unwrap(),
            raw.value.clone().map(|v| String::from_utf8(v).unwrap()),
        )
    }

    fn dec(key: &str, value: Option<&str>) -> Record {
        decode(key.as_bytes(), value.map(str::as_bytes)).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn schema(subject: &str, version: i32, id: i32) -> SchemaValue {
        SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema_type: None,
            references: vec![],
            metadata: None,
            rule_set: None,
            schema: "\"string\"".into(),
            deleted: false,
            extra: Map::new(),
        }
    }

    /// Encodes, checks the exact bytes, decodes them back and checks the record.
    fn exact(record: Record, key: &str, value: Option<&str>) {
        let raw = record.encode();
        assert_eq!(text(&raw), (key.to_owned(), value.map(str::to_owned)));
        assert_eq!(decode(&raw.key, raw.value.as_deref()).unwrap(), record);
    }

    #[test]
    fn schema_exact_bytes() {
        let mut value = schema("orders-value", 1, 7);
        value.schema_type = Some("AVRO".into());
        exact(
            Record::Schema {
                subject: "orders-value".into(),
                version: 1,
                value: Some(value),
            },
            r#"{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}"#,
            Some(
                r#"{"subject":"orders-value","version":1,"id":7,"schemaType":"AVRO","schema":"\"string\"","deleted":false}"#,
            ),
        );
    }

    #[test]
    fn schema_type_none_encodes_as_avro() {
        let record = Record::Schema {
            subject: "s".into(),
            version: 2,
            value: Some(schema("s", 2, 1)),
        };
        let (_, value) = text(&record.encode());
        assert_eq!(
            value.unwrap(),
            r#"{"subject":"s","version":2,"id":1,"schemaType":"AVRO","schema":"\"string\"","deleted":false}"#
        );
    }

    #[test]
    fn schema_with_everything_exact_bytes() {
        let mut extra = Map::new();
        extra.insert("ts".into(), json!(1700000000000_i64));
        extra.insert("md5".into(), json!("q1w2"));
        let value = SchemaValue {
            subject: "orders-value".into(),
            version: 3,
            id: 9,
            schema_type: Some("PROTOBUF".into()),
            references: vec![SchemaReference {
                name: "a.proto".into(),
                subject: "a".into(),
                version: 1,
            }],
            metadata: Some(json!({"properties":{"owner":"x"}})),
            rule_set: Some(json!({"domainRules":[]})),
            schema: "syntax = \"proto3\";\nmessage M {}".into(),
            deleted: true,
            extra,
        };
        exact(
            Record::Schema {
                subject: "orders-value".into(),
                version: 3,
                value: Some(value),
            },
            r#"{"keytype":"SCHEMA","subject":"orders-value","version":3,"magic":1}"#,
            Some(concat!(
                r#"{"subject":"orders-value","version":3,"id":9,"md5":"q1w2","schemaType":"PROTOBUF","#,
                r#""references":[{"name":"a.proto","subject":"a","version":1}],"#,
                r#""metadata":{"properties":{"owner":"x"}},"ruleSet":{"domainRules":[]},"#,
                r#""schema":"syntax = \"proto3\";\nmessage M {}","deleted":true,"ts":1700000000000}"#
            )),
        );
    }

    #[test]
    fn schema_hard_delete_exact_bytes() {
        exact(
            Record::Schema {
                subject: "s".into(),
                version: 4,
                value: None,
            },
            r#"{"keytype":"SCHEMA","subject":"s","version":4,"magic":1}"#,
            None,
        );
    }

    #[test]
    fn config_exact_bytes() {
        exact(
            Record::Config {
                subject: Some("orders-value".into()),
                value: Some(ConfigValue {
                    subject: Some("orders-value".into()),
                    compatibility_level: Some("FULL".into()),
                    ..ConfigValue::default()
                }),
            },
            r#"{"keytype":"CONFIG","subject":"orders-value","magic":0}"#,
            Some(r#"{"subject":"orders-value","compatibilityLevel":"FULL"}"#),
        );
        exact(
            Record::Config {
                subject: None,
                value: Some(ConfigValue {
                    compatibility_level: Some("BACKWARD".into()),
                    ..ConfigValue::default()
                }),
            },
            r#"{"keytype":"CONFIG","magic":0}"#,
            Some(r#"{"compatibilityLevel":"BACKWARD"}"#),
        );
        exact(
            Record::Config {
                subject: Some("s".into()),
                value: None,
            },
            r#"{"keytype":"CONFIG","subject":"s","magic":0}"#,
            None,
        );
    }

    #[test]
    fn config_fields_in_confluent_order() {
        // Read in a scrambled order, written in ConfigValue's creator order.
        let record = dec(
            r#"{"keytype":"CONFIG","subject":"s","magic":0}"#,
            Some(
                r#"{"overrideRuleSet":{"domainRules":[]},"compatibilityGroup":"app","zzz":1,"compatibilityLevel":"FULL_TRANSITIVE","normalize":true,"validateFields":false,"alias":"t","subject":"s","defaultMetadata":{"properties":{"a":"b"}}}"#,
            ),
        );
        let raw = record.encode();
        assert_eq!(
            text(&raw).1.unwrap(),
            concat!(
                r#"{"subject":"s","alias":"t","normalize":true,"validateFields":false,"#,
                r#""compatibilityLevel":"FULL_TRANSITIVE","compatibilityGroup":"app","#,
                r#""defaultMetadata":{"properties":{"a":"b"}},"overrideRuleSet":{"domainRules":[]},"zzz":1}"#
            )
        );
        let Record::Config {
            value: Some(value), ..
        } = record
        else {
            panic!("not a config")
        };
        assert_eq!(value.normalize, Some(true));
        assert_eq!(value.extra.get("alias"), Some(&json!("t")));
    }

    #[test]
    fn mode_exact_bytes() {
        exact(
            Record::Mode {
                subject: Some("s".into()),
                value: Some(ModeValue {
                    subject: Some("s".into()),
                    mode: "IMPORT".into(),
                    extra: Map::new(),
                }),
            },
            r#"{"keytype":"MODE","subject":"s","magic":0}"#,
            Some(r#"{"subject":"s","mode":"IMPORT"}"#),
        );
        exact(
            Record::Mode {
                subject: None,
                value: Some(ModeValue {
                    subject: None,
                    mode: "READWRITE".into(),
                    extra: Map::new(),
                }),
            },
            r#"{"keytype":"MODE","magic":0}"#,
            Some(r#"{"mode":"READWRITE"}"#),
        );
        exact(
            Record::Mode {
                subject: None,
                value: None,
            },
            r#"{"keytype":"MODE","magic":0}"#,
            None,
        );
    }

    #[test]
    fn delete_clear_noop_exact_bytes() {
        exact(
            Record::DeleteSubject {
                subject: "s".into(),
                value: Some(DeleteSubjectValue {
                    subject: "s".into(),
                    version: 3,
                    extra: Map::new(),
                }),
            },
            r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#,
            Some(r#"{"subject":"s","version":3}"#),
        );
        exact(
            Record::DeleteSubject {
                subject: "s".into(),
                value: None,
            },
            r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#,
            None,
        );
        exact(
            Record::ClearSubject {
                subject: "s".into(),
            },
            r#"{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}"#,
            Some(r#"{"subject":"s"}"#),
        );
        exact(Record::Noop, r#"{"keytype":"NOOP","magic":0}"#, None);
        exact(
            Record::Context {
                tenant: "default".into(),
                context: ".ctx".into(),
                live: true,
            },
            r#"{"keytype":"CONTEXT","tenant":"default","context":".ctx","magic":0}"#,
            Some(r#"{"tenant":"default","context":".ctx"}"#),
        );
        exact(
            Record::Context {
                tenant: "default".into(),
                context: ".ctx".into(),
                live: false,
            },
            r#"{"keytype":"CONTEXT","tenant":"default","context":".ctx","magic":0}"#,
            None,
        );
    }

    #[test]
    fn jackson_escapes() {
        let record = Record::Config {
            subject: Some("a\"b\\c\u{1}\u{1f}\t\n/é☃".into()),
            value: None,
        };
        assert_eq!(
            text(&record.encode()).0,
            "{\"keytype\":\"CONFIG\",\"subject\":\"a\\\"b\\\\c\\u0001\\u001F\\t\\n/é☃\",\"magic\":0}"
        );
        let raw = record.encode();
        assert_eq!(decode(&raw.key, None).unwrap(), record);
    }

    #[test]
    fn global_config_key_variants() {
        for key in [
            r#"{"keytype":"CONFIG","magic":0}"#,
            r#"{"keytype":"CONFIG","subject":null,"magic":0}"#,
            r#"{"magic":1,"subject":null,"keytype":"CONFIG"}"#,
        ] {
            let record = dec(key, Some(r#"{"compatibilityLevel":"BACKWARD"}"#));
            assert_eq!(
                record,
                Record::Config {
                    subject: None,
                    value: Some(ConfigValue {
                        compatibility_level: Some("BACKWARD".into()),
                        ..ConfigValue::default()
                    }),
                }
            );
            assert_eq!(
                text(&record.encode()).0,
                r#"{"keytype":"CONFIG","magic":0}"#
            );
        }
        let record = dec(
            r#"{"keytype":"MODE","subject":null,"magic":0}"#,
            Some(r#"{"mode":"READONLY"}"#),
        );
        assert!(matches!(record, Record::Mode { subject: None, .. }));
    }

    #[test]
    fn karapace_shapes() {
        // Older Karapace key order, no schemaType for AVRO, magic 0.
        let record = dec(
            r#"{"subject":"s","version":2,"magic":0,"keytype":"SCHEMA"}"#,
            Some(
                r#"{"deleted": false, "id": 5, "schema": "\"int\"", "subject": "s", "version": 2}"#,
            ),
        );
        let Record::Schema {
            subject,
            version,
            value: Some(value),
        } = &record
        else {
            panic!("not a schema")
        };
        assert_eq!((subject.as_str(), *version), ("s", 2));
        assert_eq!(value.schema_type, None);
        assert_eq!(value.id, 5);
        assert!(value.extra.is_empty());
        // Written back in Confluent's canonical form.
        let raw = record.encode();
        assert_eq!(
            text(&raw),
            (
                r#"{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}"#.to_owned(),
                Some(
                    r#"{"subject":"s","version":2,"id":5,"schemaType":"AVRO","schema":"\"int\"","deleted":false}"#
                        .to_owned()
                )
            )
        );
        // Karapace config value without subject takes it from the key.
        let record = dec(
            r#"{"keytype":"CONFIG","subject":"s","magic":0}"#,
            Some(r#"{"compatibilityLevel":"NONE"}"#),
        );
        let Record::Config {
            value: Some(value), ..
        } = record
        else {
            panic!("not a config")
        };
        assert_eq!(value.subject.as_deref(), Some("s"));
        // Empty value bytes read as a tombstone.
        assert_eq!(
            decode(
                br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
                Some(b"")
            )
            .unwrap(),
            Record::Schema {
                subject: "s".into(),
                version: 1,
                value: None
            }
        );
    }

    #[test]
    fn value_without_subject_or_version_takes_them_from_key() {
        let record = dec(
            r#"{"keytype":"SCHEMA","subject":"k","version":4,"magic":1}"#,
            Some(r#"{"id":1,"schema":"\"int\"","schemaType":"JSON"}"#),
        );
        let Record::Schema {
            value: Some(value), ..
        } = record
        else {
            panic!("not a schema")
        };
        assert_eq!((value.subject.as_str(), value.version), ("k", 4));
        assert_eq!(value.schema_type.as_deref(), Some("JSON"));
        let record = dec(
            r#"{"keytype":"DELETE_SUBJECT","subject":"k","magic":0}"#,
            Some(r#"{"version":3}"#),
        );
        assert_eq!(
            record,
            Record::DeleteSubject {
                subject: "k".into(),
                value: Some(DeleteSubjectValue {
                    subject: "k".into(),
                    version: 3,
                    extra: Map::new()
                })
            }
        );
        let record = dec(
            r#"{"keytype":"MODE","subject":"k","magic":0}"#,
            Some(r#"{"mode":"IMPORT"}"#),
        );
        let Record::Mode {
            value: Some(value), ..
        } = record
        else {
            panic!("not a mode")
        };
        assert_eq!(value.subject.as_deref(), Some("k"));
    }

    #[test]
    fn unknown_fields_round_trip() {
        let value = r#"{"subject":"s","version":1,"id":2,"schemaType":"AVRO","schema":"\"int\"","deleted":false,"offset":17,"ts":99,"future":{"x":[1,2]}}"#;
        let record = dec(
            r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
            Some(value),
        );
        assert_eq!(text(&record.encode()).1.as_deref(), Some(value));
        let mode = r#"{"subject":"s","mode":"IMPORT","extra":true}"#;
        let record = dec(r#"{"keytype":"MODE","subject":"s","magic":0}"#, Some(mode));
        assert_eq!(text(&record.encode()).1.as_deref(), Some(mode));
        let delete = r#"{"subject":"s","version":2,"more":"x"}"#;
        let record = dec(
            r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#,
            Some(delete),
        );
        assert_eq!(text(&record.encode()).1.as_deref(), Some(delete));
    }

    #[test]
    fn nulls_are_absent() {
        let record = dec(
            r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
            Some(
                r#"{"subject":"s","version":1,"id":2,"schemaType":null,"references":null,"metadata":null,"schema":"x","deleted":false,"md5":null}"#,
            ),
        );
        assert_eq!(
            text(&record.encode()).1.as_deref(),
            Some(
                r#"{"subject":"s","version":1,"id":2,"schemaType":"AVRO","schema":"x","deleted":false}"#
            )
        );
        assert_eq!(
            dec(
                r#"{"keytype":"CONFIG","subject":"s","magic":0}"#,
                Some("null")
            ),
            Record::Config {
                subject: Some("s".into()),
                value: None
            }
        );
    }

    #[test]
    fn association_exact_bytes() {
        let key = AssociationKey {
            tenant: "default".into(),
            resource_name: "orders".into(),
            resource_namespace: "lkc-123".into(),
            resource_type: "topic".into(),
            association_type: "value".into(),
            subject: "orders-value".into(),
        };
        let k = r#"{"keytype":"ASSOC","tenant":"default","resourceName":"orders","resourceNamespace":"lkc-123","resourceType":"topic","associationType":"value","subject":"orders-value","magic":0}"#;
        exact(
            Record::Association {
                key: key.clone(),
                value: Some(AssociationValue {
                    guid: "0b6c".into(),
                    resource_id: "rid-1".into(),
                    lifecycle: "WEAK".into(),
                    frozen: false,
                    create_ts: Some(1700000000000),
                    extra: Map::new(),
                }),
            },
            k,
            Some(
                r#"{"guid":"0b6c","tenant":"default","resourceName":"orders","resourceNamespace":"lkc-123","resourceId":"rid-1","resourceType":"topic","associationType":"value","subject":"orders-value","lifecycle":"WEAK","frozen":false,"createTs":1700000000000}"#,
            ),
        );
        exact(Record::Association { key, value: None }, k, None);
        // Confluent's reader fills offset and ts; a value written with them
        // keeps them.
        let read = dec(
            k,
            Some(
                r#"{"guid":"g","resourceId":"r","lifecycle":"STRONG","frozen":true,"offset":4,"ts":9}"#,
            ),
        );
        let Record::Association { value: Some(v), .. } = read else {
            panic!("not an association");
        };
        assert!(v.frozen);
        assert_eq!(v.create_ts, None);
        assert_eq!(v.extra.get("ts"), Some(&json!(9)));
    }

    #[test]
    fn unknown_keytypes_and_clear_tombstone() {
        assert_eq!(
            dec(
                r#"{"keytype":"KEK","tenant":"default","name":"k","magic":0}"#,
                Some(r#"{"name":"k"}"#)
            ),
            Record::Unknown {
                keytype: "KEK".into()
            }
        );
        assert_eq!(
            dec(
                r#"{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}"#,
                None
            ),
            Record::Noop
        );
        assert_eq!(
            dec(r#"{"keytype":"NOOP","magic":0}"#, Some("{}")),
            Record::Noop
        );
    }

    #[test]
    fn redpanda_stamp() {
        let key = r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1,"seq":42,"node":3}"#;
        let value = r#"{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false}"#;
        let (record, stamp) = decode_stamped(key.as_bytes(), Some(value.as_bytes())).unwrap();
        assert_eq!(stamp, Some(KeyStamp { seq: 42, node: 3 }));
        assert_eq!(
            text(&record.encode()).0,
            r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#
        );
        assert_eq!(
            text(&record.encode_stamped(KeyStamp { seq: 42, node: 3 })).0,
            key
        );
        let (_, stamp) = decode_stamped(br#"{"keytype":"NOOP","magic":0}"#, None).unwrap();
        assert_eq!(stamp, None);
    }

    #[test]
    fn invalid_records_are_errors() {
        assert!(matches!(
            decode(b"not json", None),
            Err(RecordError::Json { part: "key", .. })
        ));
        assert!(matches!(
            decode(
                br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
                Some(b"{")
            ),
            Err(RecordError::Json { part: "value", .. })
        ));
        assert!(matches!(
            decode(b"[1]", None),
            Err(RecordError::NotAnObject { part: "key" })
        ));
        assert!(matches!(
            decode(br#"{"magic":0}"#, None),
            Err(RecordError::MissingField {
                field: "keytype",
                ..
            })
        ));
        assert!(matches!(
            decode(
                br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
                Some(br#"{"schema":"x"}"#)
            ),
            Err(RecordError::MissingField { field: "id", .. })
        ));
        assert!(matches!(
            decode(br#"{"keytype":"SCHEMA","subject":"s","magic":1}"#, None),
            Err(RecordError::MissingField {
                field: "version",
                ..
            })
        ));
    }

    #[test]
    fn object_helper_builds_maps() {
        // Keeps `obj` used: a config value built from a JSON literal encodes the same.
        let value = ConfigValue {
            subject: None,
            compatibility_level: Some("NONE".into()),
            normalize: None,
            extra: obj(json!({"validateFields": true})),
        };
        let raw = Record::Config {
            subject: None,
            value: Some(value),
        }
        .encode();
        assert_eq!(
            text(&raw).1.as_deref(),
            Some(r#"{"validateFields":true,"compatibilityLevel":"NONE"}"#)
        );
    }
}
