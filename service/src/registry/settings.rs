//! Settings: the compatibility config and the mode, global and per subject,
//! and the values in force for a subject.

use scute_proto::v1 as api;
use scute_storage::record::{ConfigValue, ModeValue, Record};

use super::Registry;
use crate::context;
use crate::data_contract;
use crate::error::Error;
use crate::model::{CompatibilityLevel, Mode, validate_subject};
use crate::state::State;

impl Registry {
    pub async fn get_config(&self, mut req: api::GetConfigRequest) -> Result<api::Config, Error> {
        req.subject = req.subject.map(context::normalize);
        let state = self.read();
        let subject = req.subject.as_deref();
        if let Some(config) = state.config(subject) {
            return Ok(config_reply(self.info.compatibility_level, Some(config)));
        }
        match subject {
            Some(s) if !req.default_to_global => {
                Err(Error::SubjectCompatibilityNotConfigured(s.to_owned()))
            }
            Some(s) => Ok(config_reply(
                self.info.compatibility_level,
                scopes(s).find_map(|scope| state.config(scope.as_deref())),
            )),
            None => Ok(config_reply(
                self.info.compatibility_level,
                state.config(None),
            )),
        }
    }

    pub async fn set_config(&self, mut req: api::SetConfigRequest) -> Result<api::Config, Error> {
        req.subject = req.subject.map(context::normalize);
        let config = req.config.unwrap_or_default();
        let level = config
            .compatibility_level
            .as_deref()
            .map(str::parse::<CompatibilityLevel>)
            .transpose()?;
        if let Some(s) = &req.subject {
            validate_subject(s)?;
        }
        let extra = config
            .extra_json
            .as_deref()
            .map(data_contract::config_extra)
            .transpose()?;
        let extra = extra.unwrap_or_default();
        let subject = req.subject;
        self.write("Update config", |state| {
            check_config_writable(state, subject.as_deref())?;
            // PUT merges into the existing config, as Confluent's does.
            let mut value = state
                .config(subject.as_deref())
                .cloned()
                .unwrap_or(ConfigValue {
                    subject: subject.clone(),
                    compatibility_level: None,
                    normalize: None,
                    extra: Default::default(),
                });
            if let Some(level) = level {
                value.compatibility_level = Some(level.to_string());
            }
            if config.normalize.is_some() {
                value.normalize = config.normalize;
            }
            value.extra.extend(extra.clone());
            // The answer is the config as merged (Confluent since 7.7.4).
            let reply = config_reply(self.info.compatibility_level, Some(&value));
            Ok((
                vec![Record::Config {
                    subject: subject.clone(),
                    value: Some(value),
                }],
                reply,
            ))
        })
        .await
    }

    pub async fn delete_config(
        &self,
        mut req: api::DeleteConfigRequest,
    ) -> Result<api::Config, Error> {
        req.subject = req.subject.map(context::normalize);
        let subject = req.subject;
        self.write("Delete config", |state| {
            check_config_writable(state, subject.as_deref())?;
            let old = state
                .config(subject.as_deref())
                .map(|c| config_reply(self.info.compatibility_level, Some(c)));
            let tombstone = Record::Config {
                subject: subject.clone(),
                value: None,
            };
            delete_setting(
                &subject,
                old,
                config_reply(self.info.compatibility_level, None),
                tombstone,
            )
        })
        .await
    }

    pub async fn get_mode(&self, mut req: api::GetModeRequest) -> Result<api::Mode, Error> {
        req.subject = req.subject.map(context::normalize);
        let state = self.read();
        let subject = req.subject.as_deref();
        if subject.is_some() && global_mode(&state) == Mode::ReadOnlyOverride {
            return Ok(api::Mode {
                mode: Mode::ReadOnlyOverride.to_string(),
            });
        }
        if let Some(mode) = state.mode(subject) {
            return Ok(api::Mode {
                mode: mode.mode.clone(),
            });
        }
        match subject {
            Some(s) if !req.default_to_global => Err(Error::SubjectModeNotConfigured(s.to_owned())),
            Some(s) => Ok(api::Mode {
                mode: effective_mode(&state, s).to_string(),
            }),
            None => Ok(api::Mode {
                mode: global_mode(&state).to_string(),
            }),
        }
    }

    pub async fn set_mode(&self, mut req: api::SetModeRequest) -> Result<api::Mode, Error> {
        req.subject = req.subject.map(context::normalize);
        // The subject is checked first, as Confluent's resource does.
        if let Some(s) = &req.subject {
            validate_subject(s)?;
        }
        let mode: Mode = req.mode.parse()?;
        if mode == Mode::Forward && req.subject.is_some() {
            return Err(Error::ForwardModeNotGlobal);
        }
        let subject = req.subject;
        self.write("Update mode", |state| {
            let in_force = match &subject {
                Some(s) => effective_mode(state, s),
                None => global_mode(state),
            };
            let mut records = Vec::new();
            // Already importing: nothing to check.
            if mode == Mode::Import && in_force != Mode::Import && !req.force {
                // A context's level covers every subject in it.
                let scope = subject.as_deref().map(context::parse);
                let covered = |s: &str| match scope {
                    Some(q) if q.name.is_empty() => context::of(s) == q.context,
                    Some(_) => Some(s) == subject.as_deref(),
                    None => true,
                };
                if state
                    .subjects()
                    .any(|(s, _)| covered(s) && state.is_live(s))
                {
                    return Err(Error::ImportOverExistingSubjects);
                }
                // What is left is soft-deleted: it goes for good, so that
                // imported versions and ids land on a clean slate.
                for (s, versions) in state.subjects().filter(|(s, _)| covered(s)) {
                    for (version, _) in versions.iter() {
                        if state.referrers(s, *version).next().is_some() {
                            return Err(Error::ReferenceExists(s.to_string(), *version));
                        }
                        records.push(Record::Schema {
                            subject: s.to_string(),
                            version: *version,
                            value: None,
                        });
                    }
                }
            }
            let value = ModeValue {
                subject: subject.clone(),
                mode: mode.to_string(),
                extra: Default::default(),
            };
            records.push(Record::Mode {
                subject: subject.clone(),
                value: Some(value),
            });
            Ok((
                records,
                api::Mode {
                    mode: mode.to_string(),
                },
            ))
        })
        .await
    }

    pub async fn delete_mode(&self, mut req: api::DeleteModeRequest) -> Result<api::Mode, Error> {
        req.subject = req.subject.map(context::normalize);
        let subject = req.subject;
        self.write("Delete mode", |state| {
            let old = state.mode(subject.as_deref()).map(|m| api::Mode {
                mode: m.mode.clone(),
            });
            let tombstone = Record::Mode {
                subject: subject.clone(),
                value: None,
            };
            let default = api::Mode {
                mode: Mode::ReadWrite.to_string(),
            };
            delete_setting(&subject, old, default, tombstone)
        })
        .await
    }
}

pub(super) fn check_writable(state: &State, subject: &str) -> Result<(), Error> {
    if effective_mode(state, subject).read_only() {
        return Err(Error::ReadOnlyMode(subject.to_owned()));
    }
    Ok(())
}

pub(super) fn global_mode(state: &State) -> Mode {
    state
        .mode(None)
        .and_then(|m| m.mode.parse().ok())
        .unwrap_or(Mode::ReadWrite)
}

/// The mode in force for `subject`: its own, else the global one; a global
/// READONLY_OVERRIDE wins over every subject's.
pub(super) fn effective_mode(state: &State, subject: &str) -> Mode {
    let global = global_mode(state);
    if global == Mode::ReadOnlyOverride {
        return global;
    }
    scopes(subject)
        .find_map(|scope| state.mode(scope.as_deref()))
        .and_then(|m| m.mode.parse().ok())
        .unwrap_or(Mode::ReadWrite)
}

/// Where a subject's settings are looked for, in Confluent's order: the
/// subject, its context's level (`:.ctx:`, not for the default context),
/// the global level (`None`).
fn scopes(subject: &str) -> impl Iterator<Item = Option<String>> {
    let in_context =
        context::settings_subject(context::of(subject)).filter(|level| level != subject);
    [Some(subject.to_owned())]
        .into_iter()
        .chain(in_context.map(Some))
        .chain([None])
}

/// Config changes are writes too: refused where the mode is read-only (the
/// global config answers to the global mode, which Confluent's message
/// names as subject `null`).
fn check_config_writable(state: &State, subject: Option<&str>) -> Result<(), Error> {
    match subject {
        Some(s) => check_writable(state, s),
        None if global_mode(state).read_only() => Err(Error::ReadOnlyMode("null".into())),
        None => Ok(()),
    }
}

pub(super) fn effective_level(
    state: &State,
    subject: &str,
    default: CompatibilityLevel,
) -> CompatibilityLevel {
    scopes(subject)
        .filter_map(|scope| state.config(scope.as_deref()))
        .find_map(|c| c.compatibility_level.as_deref()?.parse().ok())
        .unwrap_or(default)
}

pub(super) fn config_normalize(state: &State, subject: &str) -> bool {
    scopes(subject)
        .filter_map(|scope| state.config(scope.as_deref()))
        .find_map(|c| c.normalize)
        .unwrap_or(false)
}

/// A DELETE of a config or mode: answers the old value and writes its
/// tombstone. With nothing set, a subject is 40401 (as Confluent answers) and
/// the global level answers its default.
pub(super) fn delete_setting<T>(
    subject: &Option<String>,
    old: Option<T>,
    default: T,
    tombstone: Record,
) -> Result<(Vec<Record>, T), Error> {
    match (old, subject) {
        (Some(old), _) => Ok((vec![tombstone], old)),
        (None, Some(s)) => Err(Error::SubjectNotFound(s.clone())),
        (None, None) => Ok((vec![], default)),
    }
}

pub(super) fn config_reply(
    default: CompatibilityLevel,
    config: Option<&ConfigValue>,
) -> api::Config {
    match config {
        Some(c) => api::Config {
            // A config without a level still reports the level in force.
            compatibility_level: Some(
                c.compatibility_level
                    .clone()
                    .unwrap_or_else(|| default.to_string()),
            ),
            normalize: c.normalize,
            extra_json: (!c.extra.is_empty())
                .then(|| serde_json::Value::Object(c.extra.clone()).to_string()),
        },
        None => api::Config {
            compatibility_level: Some(default.to_string()),
            normalize: None,
            extra_json: None,
        },
    }
}
