//! What each call of the API needs of its caller ([`Needs`]), and what of
//! its reply the caller may see ([`Shown`]).
//!
//! Subject reads and writes need Read or Write on the subject; the global
//! config and mode, contexts and associations (which bind resources to
//! subjects registry-wide) need `Config:`. Permanent deletes need Write on
//! the subject, as soft ones do: a Karapace file has no finer operation,
//! and Confluent's RBAC asks the same `SUBJECT_DELETE` for both. Lists need
//! nothing and are filtered; reads by id or guid are decided in `grpc.rs`,
//! which looks up the subjects holding the schema.

use scute_proto::v1 as api;

use super::{Caller, Need, Target};

/// What a request needs of its caller.
pub(crate) trait Needs {
    fn needs(&self) -> Need;
}

/// What of a reply the caller may see.
pub(crate) trait Shown: Sized {
    fn shown(self, _caller: &Caller) -> Self {
        self
    }
}

macro_rules! needs {
    ($($request:ty => |$r:ident| $need:expr;)*) => {
        $(impl Needs for $request {
            fn needs(&self) -> Need {
                let $r = self;
                $need
            }
        })*
    };
}

needs! {
    api::RegisterSchemaRequest => |r| Need::write(Target::subject(&r.subject));
    api::LookupSchemaRequest => |r| Need::read(Target::subject(&r.subject));
    api::ListSchemaIdVersionsRequest => |_r| Need::NOTHING;
    api::ListSchemaIdSubjectsRequest => |_r| Need::NOTHING;
    api::ListVersionsRequest => |r| Need::read(Target::subject(&r.subject));
    api::GetVersionRequest => |r| Need::read(Target::subject(&r.subject));
    api::GetLatestWithMetadataRequest => |r| Need::read(Target::subject(&r.subject));
    api::GetReferencedByRequest => |r| Need::read(Target::subject(&r.subject));
    api::DeleteSubjectRequest => |r| Need::write(Target::subject(&r.subject));
    api::DeleteVersionRequest => |r| Need::write(Target::subject(&r.subject));
    api::GetConfigRequest => |r| Need::read(Target::subject_or_config(r.subject.as_deref()));
    api::SetConfigRequest => |r| Need::write(Target::subject_or_config(r.subject.as_deref()));
    api::DeleteConfigRequest => |r| Need::write(Target::subject_or_config(r.subject.as_deref()));
    api::GetModeRequest => |r| Need::read(Target::subject_or_config(r.subject.as_deref()));
    api::SetModeRequest => |r| Need::write(Target::subject_or_config(r.subject.as_deref()));
    api::DeleteModeRequest => |r| Need::write(Target::subject_or_config(r.subject.as_deref()));
    api::CheckCompatibilityRequest => |r| Need::read(Target::subject(&r.subject));
    api::ListAssociationsRequest => |_r| Need::NOTHING;
    api::AssociationRequest => |_r| Need::write(Target::Config);
    api::DeleteAssociationsRequest => |_r| Need::write(Target::Config);
    api::BatchGetAssociationsRequest => |_r| Need::NOTHING;
    api::BatchMutateAssociationsRequest => |_r| Need::write(Target::Config);
    api::TagSchemaRequest => |r| Need::write(Target::subject(&r.subject));
    api::DeleteContextRequest => |_r| Need::write(Target::Config);
}

/// Replies about one subject the caller was allowed, shown whole.
macro_rules! shown_whole {
    ($($reply:ty),* $(,)?) => {
        $(impl Shown for $reply {})*
    };
}

shown_whole!(
    api::Schema,
    api::Versions,
    api::DeletedVersion,
    api::SchemaIds,
    api::Config,
    api::Mode,
    api::CompatibilityResult,
    api::AssociationResponse,
    api::DeleteContextResponse,
);

impl Shown for api::Subjects {
    fn shown(mut self, caller: &Caller) -> Self {
        if let Some(view) = caller.view() {
            self.subjects.retain(|s| view.reads(s));
        }
        self
    }
}

impl Shown for api::SubjectVersions {
    fn shown(mut self, caller: &Caller) -> Self {
        if let Some(view) = caller.view() {
            self.subject_versions.retain(|sv| view.reads(&sv.subject));
        }
        self
    }
}

impl Shown for api::Associations {
    fn shown(mut self, caller: &Caller) -> Self {
        if let Some(view) = caller.view() {
            self.associations.retain(|a| view.reads(&a.subject));
        }
        self
    }
}

impl Shown for api::AssociationBatchResponse {
    fn shown(mut self, caller: &Caller) -> Self {
        if let Some(view) = caller.view() {
            for result in &mut self.results {
                if let Some(api::association_result::Outcome::Result(response)) =
                    result.outcome.as_mut()
                {
                    response.associations.retain(|a| view.reads(&a.subject));
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scute_security::acl::Operation;

    #[test]
    fn subject_calls_need_the_subject_and_global_ones_config() {
        let register = api::RegisterSchemaRequest {
            subject: "s".into(),
            ..Default::default()
        };
        assert_eq!(register.needs(), Need::write(Target::subject("s")));
        let global = api::SetModeRequest::default();
        assert_eq!(global.needs(), Need::write(Target::Config));
        let empty = api::GetConfigRequest {
            subject: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(empty.needs().target, Some(Target::Config));
        let delete = api::DeleteVersionRequest {
            subject: "s".into(),
            permanent: true,
            ..Default::default()
        };
        assert_eq!(delete.needs().operation, Some(Operation::Write));
    }
}
