//! Contexts as the API lists and deletes them, and what the server says
//! about itself.

use scute_proto::v1 as api;
use scute_storage::record::{DEFAULT_TENANT, Record};

use super::Registry;
use super::reply::page;
use crate::context;
use crate::error::Error;

impl Registry {
    /// The default context first, then the others by name.
    pub async fn list_contexts(
        &self,
        req: api::ListContextsRequest,
    ) -> Result<api::Contexts, Error> {
        self.list_contexts_where(req, None::<fn(&str) -> bool>)
            .await
    }

    /// [`Self::list_contexts`]; with `visible`, only the default context
    /// and those holding a subject it accepts, filtered before paging.
    pub async fn list_contexts_where(
        &self,
        req: api::ListContextsRequest,
        visible: Option<impl Fn(&str) -> bool>,
    ) -> Result<api::Contexts, Error> {
        let state = self.read();
        // One pass over the subjects, not one per context.
        let holding: Option<std::collections::HashSet<&str>> = visible.map(|visible| {
            state
                .subjects()
                .filter(|(s, _)| visible(s))
                .map(|(s, _)| context::of(s))
                .collect()
        });
        let contexts: Vec<String> = std::iter::once(context::DEFAULT)
            .chain(state.contexts())
            .filter(|c| c.starts_with(&req.context_prefix))
            .filter(|c| *c == context::DEFAULT || holding.as_ref().is_none_or(|h| h.contains(c)))
            .map(str::to_owned)
            .collect();
        Ok(api::Contexts {
            contexts: page(contexts, req.offset, req.limit, None),
        })
    }

    /// Deletes a context no subject is left in (soft-deleted ones count).
    pub async fn delete_context(
        &self,
        req: api::DeleteContextRequest,
    ) -> Result<api::DeleteContextResponse, Error> {
        let name = context::normalize_context(&req.context)?;
        self.write("Delete context", |state| {
            if state.subjects().any(|(s, _)| context::of(s) == name) {
                return Err(Error::ContextNotEmpty(name.clone()));
            }
            if !state.has_context(&name) {
                return Err(Error::ContextNotFound(name.clone()));
            }
            let tombstone = Record::Context {
                tenant: DEFAULT_TENANT.to_owned(),
                context: name.clone(),
                live: false,
            };
            Ok((vec![tombstone], api::DeleteContextResponse {}))
        })
        .await
    }

    pub fn cluster_id(&self) -> api::ClusterId {
        api::ClusterId {
            kafka_cluster_id: self.info.kafka_cluster_id.clone(),
            schema_registry_cluster_id: self.info.group_id.clone(),
        }
    }

    pub fn server_version(&self) -> api::ServerVersion {
        api::ServerVersion {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit_id: option_env!("SCUTE_COMMIT").unwrap_or_default().to_owned(),
        }
    }

    pub fn deployment(&self) -> api::Deployment {
        api::Deployment {
            attributes: self.info.deployment.clone(),
        }
    }
}
