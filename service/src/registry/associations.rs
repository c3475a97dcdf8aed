//! Associations: which subject a resource's (a Kafka topic's) keys or values
//! are written under, and whether the subject lives and dies with the
//! resource (STRONG, always frozen) or only points at it (WEAK).
//!
//! The rules and their order are Confluent's (`AbstractSchemaRegistry`,
//! 2026): the first broken rule answers. A create or update runs in three
//! steps, as Confluent's does: every rule is checked on the current state
//! (compatibility of the schemas given included), the schemas are registered
//! (each an ordinary registration), then the association records are built
//! on the state as it is then, with the same rules checked again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use scute_proto::v1 as api;
use scute_proto::v1::list_associations_request::By;
use scute_storage::record::{AssociationKey, AssociationValue, Record};

use super::work::Work;
use super::{
    Registry, SEARCH_LIMIT, check_writable, effective_level, effective_mode, find_version, page,
    same_schema, schema_reply, schemas::find_ok,
};
use crate::error::Error;
use crate::guid;
use crate::model::{Mode, validate_subject};
use crate::state::State;

/// The tenant of a registry without tenants.
const TENANT: &str = "default";
/// The one resource type.
const TOPIC: &str = "topic";
/// A namespace (or name) that matches any in lookups.
const ANY: &str = "-";
pub(super) const STRONG: &str = "STRONG";
const WEAK: &str = "WEAK";
/// Longest resource name or namespace.
const MAX_NAME: usize = 256;

/// One association of a create or update, with every rule passed.
struct Step {
    association_type: String,
    subject: String,
    lifecycle: &'static str,
    frozen: bool,
    /// The association this updates, if any.
    existing: Option<(AssociationKey, AssociationValue)>,
    /// False when the association is already as asked: nothing to write.
    write: bool,
    /// The subject is in IMPORT mode: a schema given is not registered.
    import: bool,
}

impl Registry {
    /// `POST /associations` (`is_create`) and `PUT /associations/resources/{id}`.
    pub async fn create_or_update_association(
        &self,
        mut req: api::AssociationRequest,
        is_create: bool,
    ) -> Result<api::AssociationResponse, Error> {
        validate_request(&mut req)?;
        let mut work = self.work();
        let steps = self
            .with_work(&mut work, |state, work| {
                self.plan(state, work, &req, is_create, true)
            })
            .await?;
        if req.dry_run {
            return Ok(response(&req, Vec::new()));
        }
        let mut registered: HashMap<String, api::Schema> = HashMap::new();
        for (step, change, schema) in schemas_to_register(&steps, &req) {
            let mut schema = schema.clone();
            schema.subject = step.subject.clone();
            schema.normalize |= change.normalize;
            let reply = self.register_schema(schema).await?;
            registered.insert(step.association_type.clone(), reply);
        }
        let create_ts = now_ms();
        self.write_with_work("Create association", &mut work, |state, work| {
            let Some(steps) = self.plan(state, work, &req, is_create, false)? else {
                return Ok(None);
            };
            let mut records = Vec::new();
            let mut infos = Vec::new();
            for step in steps.into_iter().filter(|s| s.write) {
                let (key, value) = association_record(&req, &step, create_ts)?;
                infos.push(api::AssociationInfo {
                    subject: key.subject.clone(),
                    association_type: key.association_type.clone(),
                    lifecycle: value.lifecycle.clone(),
                    frozen: value.frozen,
                    schema: registered.get(&step.association_type).cloned(),
                });
                records.push(Record::Association {
                    key,
                    value: Some(value),
                });
            }
            Ok(Some((records, response(&req, infos))))
        })
        .await
    }

    /// Checks every rule for `req` on `state`, in Confluent's order, and says
    /// what to write. `check_schemas` also parses the schemas given and checks
    /// them against their subjects (before they are registered). `None`
    /// until `work` has parsed and compared what the rules need.
    fn plan(
        &self,
        state: &State,
        work: &mut Work,
        req: &api::AssociationRequest,
        is_create: bool,
        check_schemas: bool,
    ) -> Result<Option<Vec<Step>>, Error> {
        let mut seen = HashSet::new();
        for change in &req.associations {
            let t = association_type(change);
            if !seen.insert(t) {
                return Err(Error::invalid_association(
                    "associationType",
                    format!("may only appear once per request, but '{t}' appears more than once"),
                ));
            }
        }
        let existing: HashMap<&str, (&AssociationKey, &AssociationValue)> =
            resource_associations(state, req)
                .map(|(k, v)| (k.association_type.as_str(), (k, v)))
                .collect();
        let mut steps = Vec::with_capacity(req.associations.len());
        for change in &req.associations {
            let t = association_type(change);
            let default_subject = default_subject(req, t);
            let old = existing.get(t).copied();
            let has_schema = change.schema.is_some();
            let mut asked_lifecycle = change.lifecycle.as_deref().map(lifecycle).transpose()?;
            let mut asked_frozen = change.frozen;
            if old.is_none() {
                // Defaults of a new association: a schema makes it STRONG on
                // a create; otherwise it is WEAK.
                let strong = is_create && has_schema && asked_lifecycle != Some(WEAK);
                asked_lifecycle.get_or_insert(if strong { STRONG } else { WEAK });
                asked_frozen.get_or_insert(asked_lifecycle == Some(STRONG));
            }
            let subject = match (&change.subject, old) {
                (Some(s), _) => s.clone(),
                (None, Some((k, _))) => k.subject.clone(),
                (None, None) if asked_lifecycle == Some(STRONG) => default_subject.clone(),
                (None, None) => {
                    return Err(Error::invalid_association(
                        "subject",
                        "must be provided for WEAK associations",
                    ));
                }
            };
            let lifecycle = asked_lifecycle
                .or_else(|| old.map(|(_, v)| if v.lifecycle == STRONG { STRONG } else { WEAK }))
                .ok_or_else(|| Error::invalid_association("lifecycle", "lifecycle must be set"))?;
            if lifecycle == WEAK {
                if has_schema {
                    return Err(Error::invalid_association(
                        "lifecycle",
                        "cannot be WEAK when schema is provided",
                    ));
                }
                if subject == default_subject {
                    return Err(Error::invalid_association(
                        "subject",
                        format!("WEAK associations cannot use subject '{default_subject}'"),
                    ));
                }
            }
            let frozen = asked_frozen.or(old.map(|(_, v)| v.frozen)).unwrap_or(false);
            if frozen != (lifecycle == STRONG) {
                return Err(Error::invalid_association(
                    "frozen",
                    format!("association with lifecycle of {lifecycle} cannot be frozen={frozen}"),
                ));
            }
            if frozen && subject != default_subject {
                return Err(Error::invalid_association(
                    "subject",
                    format!("frozen associations must use subject '{default_subject}'"),
                ));
            }
            let import = effective_mode(state, &subject) == Mode::Import;
            let mut step = Step {
                association_type: t.to_owned(),
                subject,
                lifecycle,
                frozen,
                existing: old.map(|(k, v)| (k.clone(), v.clone())),
                write: true,
                import,
            };
            match old {
                None => {
                    if !is_create && lifecycle == STRONG && !import {
                        return Err(Error::invalid_association(
                            "lifecycle",
                            "cannot be STRONG when creating an association; STRONG associations must be created with the topic",
                        ));
                    }
                    if frozen
                        && !import
                        && self
                            .check_frozen_start(state, work, change, &step.subject, is_create)?
                            .is_none()
                    {
                        return Ok(None);
                    }
                }
                Some((k, v)) => {
                    let same_lifecycle =
                        change.lifecycle.as_deref().is_none_or(|l| l == v.lifecycle);
                    let equivalent = k.subject == step.subject
                        && same_lifecycle
                        && change.frozen.is_none_or(|f| f == v.frozen);
                    if equivalent {
                        if is_create && has_schema {
                            match self.holds_schema(state, work, &step.subject, change)? {
                                None => return Ok(None),
                                Some(false) => return Err(exists(t, req)),
                                Some(true) => {}
                            }
                        }
                        step.write = false;
                    } else {
                        if is_create {
                            return Err(exists(t, req));
                        }
                        if change.lifecycle.is_none() && !has_schema {
                            return Err(Error::invalid_association(
                                "lifecycle",
                                "at least lifecycle or schema must be provided for update",
                            ));
                        }
                        if k.subject != step.subject {
                            return Err(Error::invalid_association(
                                "subject",
                                format!(
                                    "subject of association cannot be changed from '{}' to '{}'",
                                    k.subject, step.subject
                                ),
                            ));
                        }
                        if v.lifecycle == STRONG
                            && lifecycle == WEAK
                            && k.subject == default_subject
                        {
                            return Err(Error::invalid_association(
                                "lifecycle",
                                format!(
                                    "cannot change to WEAK when subject matches default format '{default_subject}'"
                                ),
                            ));
                        }
                        if change.frozen.is_some_and(|f| f != v.frozen) {
                            return Err(Error::invalid_association(
                                "frozen",
                                "frozen attribute of association cannot be changed",
                            ));
                        }
                        if v.frozen {
                            return Err(Error::AssociationFrozen {
                                association_type: t.to_owned(),
                                subject: k.subject.clone(),
                            });
                        }
                    }
                }
            }
            steps.push(step);
        }
        check_uniform_lifecycle(state, req, &steps)?;
        for (step, change) in steps.iter().zip(&req.associations) {
            if !step.write {
                continue;
            }
            self.check_subject(state, req, step, change)?;
        }
        if check_schemas {
            let mut pending = false;
            for (step, change, schema) in schemas_to_register(&steps, req) {
                pending |= self
                    .check_compatible(state, work, &step.subject, schema, change.normalize)?
                    .is_none();
            }
            if pending {
                return Ok(None);
            }
        }
        Ok(Some(steps))
    }

    /// A new frozen association: it needs a schema on a create, and the
    /// subject may hold nothing but that schema as version 1.
    fn check_frozen_start(
        &self,
        state: &State,
        work: &mut Work,
        change: &api::AssociationChange,
        subject: &str,
        is_create: bool,
    ) -> Result<Option<()>, Error> {
        if is_create && change.schema.is_none() {
            return Err(Error::invalid_association(
                "schema",
                "schema must be provided when creating a frozen association",
            ));
        }
        let Ok((latest, _)) = find_version(state, subject, "latest", false) else {
            return Ok(Some(()));
        };
        let holds = if change.schema.is_none() || latest != 1 {
            false
        } else {
            match self.holds_schema(state, work, subject, change)? {
                None => return Ok(None),
                Some(holds) => holds,
            }
        };
        if !holds {
            return Err(Error::invalid_association(
                "frozen",
                "cannot create a frozen association when schemas already exist in the subject",
            ));
        }
        Ok(Some(()))
    }

    /// The checks of one association against its subject's other
    /// associations and versions.
    fn check_subject(
        &self,
        state: &State,
        req: &api::AssociationRequest,
        step: &Step,
        change: &api::AssociationChange,
    ) -> Result<(), Error> {
        let subject = &step.subject;
        if change.schema.is_some() && step.import {
            return Err(Error::invalid_association(
                "schema",
                format!("cannot be provided while subject '{subject}' is in IMPORT mode"),
            ));
        }
        if change.schema.is_none() && !state.is_live(subject) {
            return Err(Error::NoActiveSubjectVersion(subject.clone()));
        }
        check_writable(state, subject)?;
        let mut others = state.associations_of_subject(subject).filter(|(k, v)| {
            !(k.tenant == TENANT
                && v.resource_id == req.resource_id
                && k.resource_type == req.resource_type
                && k.association_type == step.association_type)
        });
        if step.lifecycle == STRONG {
            if others.next().is_some() {
                return Err(Error::AssociationForSubjectExists(subject.clone()));
            }
            let referenced = state
                .versions(subject)
                .into_iter()
                .flat_map(|vs| vs.keys())
                .any(|v| state.referrers(subject, *v).next().is_some());
            if referenced {
                return Err(Error::SubjectReferenced(subject.clone()));
            }
        } else if others.any(|(_, v)| v.lifecycle == STRONG) {
            return Err(Error::StrongAssociationExists(subject.clone()));
        }
        Ok(())
    }

    /// Whether the subject already holds the change's schema (live).
    fn holds_schema(
        &self,
        state: &State,
        work: &mut Work,
        subject: &str,
        change: &api::AssociationChange,
    ) -> Result<Option<bool>, Error> {
        let Some(schema) = &change.schema else {
            return Ok(Some(false));
        };
        let Some(versions) = state.versions(subject) else {
            return Ok(Some(false));
        };
        let Some(candidate) = self.candidate(
            state,
            work,
            subject,
            &schema.schema_type,
            &schema.schema,
            &schema.references,
            schema.normalize || change.normalize,
            None,
            None,
        )?
        else {
            return Ok(None);
        };
        let live = versions.values().filter(|e| !e.deleted);
        let found = find_ok(live, |e| same_schema(&e.content, &candidate.content))?;
        Ok(Some(found.is_some()))
    }

    /// A schema given with an association must be compatible with its
    /// subject, as its registration would require.
    fn check_compatible(
        &self,
        state: &State,
        work: &mut Work,
        subject: &str,
        schema: &api::RegisterSchemaRequest,
        normalize: bool,
    ) -> Result<Option<()>, Error> {
        let Some(candidate) = self.candidate(
            state,
            work,
            subject,
            &schema.schema_type,
            &schema.schema,
            &schema.references,
            schema.normalize || normalize,
            schema.metadata_json.as_deref(),
            schema.rule_set_json.as_deref(),
        )?
        else {
            return Ok(None);
        };
        let level = effective_level(state, subject, self.info.compatibility_level);
        let Some(messages) =
            self.check_against(state, work, subject, &candidate.parsed, level, None)?
        else {
            return Ok(None);
        };
        if messages.is_empty() {
            Ok(Some(()))
        } else {
            Err(Error::IncompatibleSchema {
                subject: subject.to_owned(),
                messages,
            })
        }
    }

    pub async fn list_associations(
        &self,
        req: api::ListAssociationsRequest,
    ) -> Result<api::Associations, Error> {
        let filter = Filter::new(&req.resource_type, &req.association_types, &req.lifecycle)?;
        let state = self.read();
        let found: Vec<api::Association> = match &req.by {
            Some(By::Subject(subject)) => select(state.associations_of_subject(subject), &filter),
            Some(By::ResourceId(id)) => select(state.associations_of_resource_id(id), &filter),
            Some(By::Resource(resource)) if resource.name.is_empty() => {
                return Err(Error::invalid_association(
                    "resourceName",
                    "cannot be null or empty",
                ));
            }
            Some(By::Resource(resource)) if resource.name == ANY => select(
                state
                    .associations()
                    .filter(|(k, _)| in_namespace(k, &resource.namespace)),
                &filter,
            ),
            Some(By::Resource(resource)) => select(
                state
                    .associations_of_resource_name(TENANT, &resource.name)
                    .filter(|(k, _)| in_namespace(k, &resource.namespace)),
                &filter,
            ),
            None => {
                return Err(Error::BadRequest(
                    "A subject, a resource id or a resource name is required".into(),
                ));
            }
        };
        Ok(api::Associations {
            associations: page(found, req.offset, req.limit, Some(SEARCH_LIMIT)),
        })
    }

    pub async fn delete_associations(
        &self,
        req: api::DeleteAssociationsRequest,
    ) -> Result<api::Associations, Error> {
        self.delete_associations_of(req, false).await
    }

    /// Deletes; `missing_ok` (a batch's DELETE op) makes "nothing to delete"
    /// a success instead of a 40410.
    async fn delete_associations_of(
        &self,
        req: api::DeleteAssociationsRequest,
        missing_ok: bool,
    ) -> Result<api::Associations, Error> {
        let filter = Filter::new(&req.resource_type, &req.association_types, "")?;
        self.write("Delete associations", |state| {
            let found: Vec<(&AssociationKey, &AssociationValue)> = state
                .associations_of_resource_id(&req.resource_id)
                .filter(|(k, v)| filter.keeps(k, v))
                .collect();
            if found.is_empty() && !missing_ok {
                return Err(Error::AssociationNotFound(req.resource_id.clone()));
            }
            for (k, v) in &found {
                check_writable(state, &k.subject)?;
                if v.frozen && !req.cascade_lifecycle {
                    return Err(Error::AssociationFrozen {
                        association_type: k.association_type.clone(),
                        subject: k.subject.clone(),
                    });
                }
            }
            let deleted = api::Associations {
                associations: found.iter().map(|(k, v)| to_api(k, v)).collect(),
            };
            if req.dry_run {
                return Ok((Vec::new(), deleted));
            }
            let mut records = Vec::new();
            for (k, _) in &found {
                records.push(Record::Association {
                    key: (*k).clone(),
                    value: None,
                });
            }
            // A STRONG association's subject goes with it, soft then
            // permanently, unless it is being imported.
            for (k, v) in &found {
                let cascade = req.cascade_lifecycle
                    && v.lifecycle == STRONG
                    && effective_mode(state, &k.subject) != Mode::Import;
                if cascade {
                    records.extend(super::remove_subject(state, &k.subject)?);
                }
            }
            Ok((records, deleted))
        })
        .await
    }

    pub async fn batch_get_associations(
        &self,
        req: api::BatchGetAssociationsRequest,
    ) -> Result<api::AssociationBatchResponse, Error> {
        require_requests(req.requests.len())?;
        let state = self.read();
        let results = req
            .requests
            .iter()
            .map(|query| outcome(get_resource(&state, query, req.include_schemas)))
            .collect();
        Ok(api::AssociationBatchResponse { results })
    }

    pub async fn batch_mutate_associations(
        &self,
        req: api::BatchMutateAssociationsRequest,
    ) -> Result<api::AssociationBatchResponse, Error> {
        require_requests(req.requests.len())?;
        let mut results = Vec::with_capacity(req.requests.len());
        for ops in &req.requests {
            results.push(outcome(self.mutate(ops, req.dry_run).await));
        }
        Ok(api::AssociationBatchResponse { results })
    }

    /// One resource's ops of a batch, in order: runs of CREATE (or of UPSERT)
    /// ops go as one request, each DELETE on its own. Ops done before one
    /// fails stay done.
    async fn mutate(
        &self,
        ops: &api::AssociationOps,
        dry_run: bool,
    ) -> Result<api::AssociationResponse, Error> {
        let mut base = api::AssociationRequest {
            resource_name: ops.resource_name.clone(),
            resource_namespace: ops.resource_namespace.clone(),
            resource_id: ops.resource_id.clone(),
            resource_type: ops.resource_type.clone(),
            associations: Vec::new(),
            dry_run,
            ..Default::default()
        };
        validate_resource(&mut base, !ops.associations.is_empty())?;
        for op in &ops.associations {
            if !matches!(op.op_type.as_str(), "CREATE" | "UPSERT" | "DELETE") {
                return Err(Error::invalid_association(
                    "opType",
                    "must be one of CREATE, UPSERT or DELETE",
                ));
            }
        }
        let mut registered = Vec::new();
        let mut rest = ops.associations.as_slice();
        while let Some(first) = rest.first() {
            let run = rest
                .iter()
                .take_while(|op| op.op_type == first.op_type)
                .count();
            let (these, after) = rest.split_at(run);
            rest = after;
            if first.op_type == "DELETE" {
                for op in these {
                    let association_type = op
                        .change
                        .as_ref()
                        .map_or("value", association_type)
                        .to_owned();
                    check_association_type(&association_type)?;
                    let delete = api::DeleteAssociationsRequest {
                        resource_id: base.resource_id.clone(),
                        resource_type: base.resource_type.clone(),
                        association_types: vec![association_type],
                        cascade_lifecycle: op.cascade_lifecycle,
                        dry_run,
                    };
                    self.delete_associations_of(delete, true).await?;
                }
                continue;
            }
            let request = api::AssociationRequest {
                associations: these
                    .iter()
                    .map(|op| op.change.clone().unwrap_or_default())
                    .collect(),
                ..base.clone()
            };
            let reply = self
                .create_or_update_association(request, first.op_type == "CREATE")
                .await?;
            registered.extend(reply.associations.into_iter().filter_map(|i| {
                let schema = i.schema?;
                Some((i.association_type, schema))
            }));
        }
        let associations = if dry_run {
            Vec::new()
        } else {
            let state = self.read();
            let current: Vec<_> = state
                .associations_of_resource_id(&base.resource_id)
                .filter(|(k, _)| k.tenant == TENANT && k.resource_type == base.resource_type)
                .collect();
            same_resource(&current)?;
            current
                .into_iter()
                .map(|(k, v)| api::AssociationInfo {
                    schema: registered
                        .iter()
                        .rev()
                        .find(|(t, _)| *t == k.association_type)
                        .map(|(_, s)| s.clone()),
                    ..info(k, v)
                })
                .collect()
        };
        Ok(response(&base, associations))
    }
}

/// A change's association type: `value` unless given.
fn association_type(change: &api::AssociationChange) -> &str {
    or_value(change.association_type.as_deref().unwrap_or_default())
}

/// The schemas a request registers: those of the associations it writes,
/// unless their subject is being imported.
fn schemas_to_register<'r>(
    steps: &'r [Step],
    req: &'r api::AssociationRequest,
) -> impl Iterator<
    Item = (
        &'r Step,
        &'r api::AssociationChange,
        &'r api::RegisterSchemaRequest,
    ),
> {
    steps
        .iter()
        .zip(&req.associations)
        .filter(|(step, _)| step.write && !step.import)
        .filter_map(|(step, change)| Some((step, change, change.schema.as_ref()?)))
}

/// A batch asks for something.
fn require_requests(count: usize) -> Result<(), Error> {
    if count == 0 {
        return Err(Error::invalid_association(
            "requests",
            "cannot be null or empty",
        ));
    }
    Ok(())
}

fn or_value(association_type: &str) -> &str {
    if association_type.is_empty() {
        "value"
    } else {
        association_type
    }
}

fn or_topic(resource_type: &str) -> &str {
    if resource_type.is_empty() {
        TOPIC
    } else {
        resource_type
    }
}

/// A lifecycle as given: `STRONG` or `WEAK`, exactly.
fn lifecycle(text: &str) -> Result<&'static str, Error> {
    match text {
        STRONG => Ok(STRONG),
        WEAK => Ok(WEAK),
        other => Err(Error::BadRequest(format!(
            "Cannot deserialize value of type `LifecyclePolicy` from String \"{other}\": not one of the values accepted for Enum class: [STRONG, WEAK]"
        ))),
    }
}

/// Confluent's request validation: the resource's names, its id, its type,
/// then each association's subject and type. Fills in the defaults.
fn validate_request(req: &mut api::AssociationRequest) -> Result<(), Error> {
    if !req.addressed_resource_id.is_empty() {
        if req.resource_id.is_empty() {
            req.resource_id = req.addressed_resource_id.clone();
        } else if req.resource_id != req.addressed_resource_id {
            return Err(Error::invalid_association(
                "resourceId",
                "Resource ID in the path parameter does not match the resource ID in the request body",
            ));
        }
    }
    validate_resource(req, !req.associations.is_empty())?;
    for change in &mut req.associations {
        if let Some(subject) = &change.subject {
            if subject.is_empty() || subject.chars().any(char::is_control) {
                return Err(Error::invalid_association("subject", "must not be empty"));
            }
            validate_subject(subject)?;
        }
        let association_type = association_type(change).to_owned();
        check_association_type(&association_type)?;
        change.association_type = Some(association_type);
        if let Some(l) = &change.lifecycle {
            lifecycle(l)?;
        }
    }
    Ok(())
}

fn validate_resource(req: &mut api::AssociationRequest, has_ops: bool) -> Result<(), Error> {
    check_name(&req.resource_name, "resourceName")?;
    check_name(&req.resource_namespace, "resourceNamespace")?;
    if req.resource_id.is_empty() && !req.dry_run {
        return Err(Error::invalid_association(
            "resourceId",
            "cannot be null or empty",
        ));
    }
    if req.resource_type.is_empty() {
        req.resource_type = TOPIC.to_owned();
    } else if req.resource_type != TOPIC {
        return Err(Error::invalid_association(
            "resourceType",
            "must be 'topic'",
        ));
    }
    if !has_ops {
        return Err(Error::invalid_association(
            "associations",
            "cannot be null or empty",
        ));
    }
    Ok(())
}

/// Resource names and namespaces: letters, digits, `_` and `-`, at most 256.
fn check_name(name: &str, property: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid_association(
            property,
            "cannot be null or empty",
        ));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid_association(
            property,
            format!("exceeds max length of {MAX_NAME}"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(Error::invalid_association(
            property,
            format!("illegal character '{c}'"),
        ));
    }
    Ok(())
}

fn check_association_type(association_type: &str) -> Result<(), Error> {
    if matches!(association_type, "key" | "value") {
        Ok(())
    } else {
        Err(Error::invalid_association(
            "associationType",
            "must be either 'key' or 'value'",
        ))
    }
}

/// The subject a STRONG association of this type uses unless told otherwise.
fn default_subject(req: &api::AssociationRequest, association_type: &str) -> String {
    format!(
        ":.{}:{}-{association_type}",
        req.resource_namespace, req.resource_name
    )
}

/// The request's resource's associations of the types it names: by id, or on
/// a dry run without one, by name and namespace.
fn resource_associations<'s>(
    state: &'s State,
    req: &'s api::AssociationRequest,
) -> Box<dyn Iterator<Item = (&'s AssociationKey, &'s AssociationValue)> + 's> {
    let types: HashSet<&str> = req.associations.iter().map(association_type).collect();
    let matching = move |(k, _): &(&AssociationKey, &AssociationValue)| {
        k.tenant == TENANT
            && k.resource_type == req.resource_type
            && types.contains(k.association_type.as_str())
    };
    if req.resource_id.is_empty() {
        Box::new(
            state
                .associations_of_resource_name(TENANT, &req.resource_name)
                .filter(|(k, _)| k.resource_namespace == req.resource_namespace)
                .filter(matching),
        )
    } else {
        Box::new(
            state
                .associations_of_resource_id(&req.resource_id)
                .filter(matching),
        )
    }
}

/// All associations of a resource share one lifecycle: the stored ones (in
/// type order), as this request leaves them.
fn check_uniform_lifecycle(
    state: &State,
    req: &api::AssociationRequest,
    steps: &[Step],
) -> Result<(), Error> {
    let mut lifecycles: Vec<(String, String)> = state
        .associations_of_resource_id(&req.resource_id)
        .filter(|(k, _)| k.tenant == TENANT && k.resource_type == req.resource_type)
        .map(|(k, v)| (k.association_type.clone(), v.lifecycle.clone()))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    for step in steps {
        match lifecycles
            .iter_mut()
            .find(|(t, _)| *t == step.association_type)
        {
            Some((_, l)) => *l = step.lifecycle.to_owned(),
            None => lifecycles.push((step.association_type.clone(), step.lifecycle.to_owned())),
        }
    }
    let distinct: HashSet<&str> = lifecycles.iter().map(|(_, l)| l.as_str()).collect();
    if distinct.len() > 1 {
        let list: Vec<String> = lifecycles.iter().map(|(t, l)| format!("{t}={l}")).collect();
        return Err(Error::invalid_association(
            "lifecycle",
            format!(
                "all associations for a resource must have the same lifecycle, but got {}",
                list.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The record of one step: an update keeps the association's guid, resource
/// and creation time.
fn association_record(
    req: &api::AssociationRequest,
    step: &Step,
    create_ts: i64,
) -> Result<(AssociationKey, AssociationValue), Error> {
    if let Some((key, old)) = &step.existing {
        let value = AssociationValue {
            lifecycle: step.lifecycle.to_owned(),
            frozen: step.frozen,
            ..old.clone()
        };
        return Ok((key.clone(), value));
    }
    let key = AssociationKey {
        tenant: TENANT.to_owned(),
        resource_name: req.resource_name.clone(),
        resource_namespace: req.resource_namespace.clone(),
        resource_type: req.resource_type.clone(),
        association_type: step.association_type.clone(),
        subject: step.subject.clone(),
    };
    let value = AssociationValue {
        guid: random_guid()?,
        resource_id: req.resource_id.clone(),
        lifecycle: step.lifecycle.to_owned(),
        frozen: step.frozen,
        create_ts: Some(create_ts),
        extra: Default::default(),
    };
    Ok((key, value))
}

fn random_guid() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::store("Create association", format!("no randomness: {e}")))?;
    // A version 4 (random) UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(guid::to_string(&bytes))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn exists(association_type: &str, req: &api::AssociationRequest) -> Error {
    Error::AssociationExists {
        association_type: association_type.to_owned(),
        resource_name: req.resource_name.clone(),
    }
}

fn response(
    req: &api::AssociationRequest,
    associations: Vec<api::AssociationInfo>,
) -> api::AssociationResponse {
    api::AssociationResponse {
        resource_name: req.resource_name.clone(),
        resource_namespace: req.resource_namespace.clone(),
        resource_id: req.resource_id.clone(),
        resource_type: req.resource_type.clone(),
        associations,
    }
}

fn in_namespace(key: &AssociationKey, namespace: &str) -> bool {
    key.tenant == TENANT
        && (namespace.is_empty() || namespace == ANY || key.resource_namespace == namespace)
}

fn to_api(k: &AssociationKey, v: &AssociationValue) -> api::Association {
    api::Association {
        subject: k.subject.clone(),
        guid: v.guid.clone(),
        resource_name: k.resource_name.clone(),
        resource_namespace: k.resource_namespace.clone(),
        resource_id: v.resource_id.clone(),
        resource_type: k.resource_type.clone(),
        association_type: k.association_type.clone(),
        lifecycle: v.lifecycle.clone(),
        frozen: v.frozen,
        create_ts: v.create_ts,
    }
}

/// What a lookup or a delete keeps: one resource type (`topic` unless
/// given), the association types asked for (every one when none is) and one
/// lifecycle, or both.
struct Filter<'r> {
    resource_type: &'r str,
    association_types: &'r [String],
    lifecycle: Option<&'static str>,
}

impl<'r> Filter<'r> {
    fn new(
        resource_type: &'r str,
        association_types: &'r [String],
        lifecycle_text: &str,
    ) -> Result<Self, Error> {
        Ok(Self {
            resource_type: or_topic(resource_type),
            association_types,
            lifecycle: (!lifecycle_text.is_empty())
                .then(|| lifecycle(lifecycle_text))
                .transpose()?,
        })
    }

    fn keeps(&self, k: &AssociationKey, v: &AssociationValue) -> bool {
        k.tenant == TENANT
            && k.resource_type == self.resource_type
            && (self.association_types.is_empty()
                || self.association_types.contains(&k.association_type))
            && self.lifecycle.is_none_or(|l| v.lifecycle == l)
    }
}

fn select<'s>(
    found: impl Iterator<Item = (&'s AssociationKey, &'s AssociationValue)>,
    filter: &Filter<'_>,
) -> Vec<api::Association> {
    found
        .filter(|(k, v)| filter.keeps(k, v))
        .map(|(k, v)| to_api(k, v))
        .collect()
}

fn info(k: &AssociationKey, v: &AssociationValue) -> api::AssociationInfo {
    api::AssociationInfo {
        subject: k.subject.clone(),
        association_type: k.association_type.clone(),
        lifecycle: v.lifecycle.clone(),
        frozen: v.frozen,
        schema: None,
    }
}

/// The associations listed for one resource must all be of that resource.
fn same_resource(found: &[(&AssociationKey, &AssociationValue)]) -> Result<(), Error> {
    let resource = |(k, v): &(&AssociationKey, &AssociationValue)| {
        (
            k.resource_name.clone(),
            k.resource_namespace.clone(),
            v.resource_id.clone(),
            k.resource_type.clone(),
        )
    };
    match found.split_first() {
        Some((first, rest)) if rest.iter().any(|a| resource(a) != resource(first)) => {
            Err(Error::BadRequest(
                "All associations must have the same resourceName, resourceNamespace, resourceId, and resourceType.".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// One lookup of a batch get.
fn get_resource(
    state: &State,
    query: &api::AssociationQuery,
    include_schemas: bool,
) -> Result<api::AssociationResponse, Error> {
    let filter = Filter::new(
        &query.resource_type,
        &query.association_types,
        &query.lifecycle,
    )?;
    let found: Vec<(&AssociationKey, &AssociationValue)> = if query.resource_id.is_empty() {
        state
            .associations_of_resource_name(TENANT, &query.resource_name)
            .filter(|(k, _)| in_namespace(k, &query.resource_namespace))
            .collect()
    } else {
        state
            .associations_of_resource_id(&query.resource_id)
            .collect::<Vec<_>>()
    }
    .into_iter()
    .filter(|(k, v)| filter.keeps(k, v))
    .collect();
    same_resource(&found)?;
    let fill = |asked: &str, stored: Option<&String>| match (asked, stored) {
        ("" | ANY, Some(s)) => s.clone(),
        _ => asked.to_owned(),
    };
    let first = found.first();
    let associations = found
        .iter()
        .map(|(k, v)| {
            Ok(api::AssociationInfo {
                schema: include_schemas
                    .then(|| find_version(state, &k.subject, "latest", false).ok())
                    .flatten()
                    .map(|(version, entry)| schema_reply(&k.subject, version, entry))
                    .transpose()?,
                ..info(k, v)
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(api::AssociationResponse {
        resource_name: fill(&query.resource_name, first.map(|(k, _)| &k.resource_name)),
        resource_namespace: fill(
            &query.resource_namespace,
            first.map(|(k, _)| &k.resource_namespace),
        ),
        resource_id: fill(&query.resource_id, first.map(|(_, v)| &v.resource_id)),
        resource_type: filter.resource_type.to_owned(),
        associations,
    })
}

/// A batch item's answer. A schema that does not parse is 42212 there, as
/// Confluent reports it in batches.
fn outcome(result: Result<api::AssociationResponse, Error>) -> api::AssociationResult {
    use api::association_result::Outcome;
    let outcome = match result {
        Ok(response) => Outcome::Result(response),
        Err(e) => {
            let error_code = match &e {
                Error::InvalidSchema(_) => 42212,
                Error::BadRequest(_) => 500,
                other => other.error_code(),
            };
            Outcome::Error(api::ErrorMessage {
                error_code,
                message: e.to_string(),
            })
        }
    };
    api::AssociationResult {
        outcome: Some(outcome),
    }
}
