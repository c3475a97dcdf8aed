//! The files Confluent's registry lets a schema import without a reference.
//!
//! protox already carries `google/protobuf/*.proto`; the `google/type` common
//! types and Confluent's own `confluent/meta.proto` and
//! `confluent/type/decimal.proto` are shipped here, written out from their
//! wire facts (packages, names, numbers, types).

/// The text of a bundled file by import path, `google/protobuf/*` excepted
/// (protox resolves those itself).
pub(crate) fn bundled(name: &str) -> Option<&'static str> {
    Some(match name {
        "confluent/meta.proto" => include_str!("bundled/confluent/meta.proto"),
        "confluent/type/decimal.proto" => include_str!("bundled/confluent/type/decimal.proto"),
        "google/type/calendar_period.proto" => {
            include_str!("bundled/google/type/calendar_period.proto")
        }
        "google/type/color.proto" => include_str!("bundled/google/type/color.proto"),
        "google/type/date.proto" => include_str!("bundled/google/type/date.proto"),
        "google/type/datetime.proto" => include_str!("bundled/google/type/datetime.proto"),
        "google/type/dayofweek.proto" => include_str!("bundled/google/type/dayofweek.proto"),
        "google/type/decimal.proto" => include_str!("bundled/google/type/decimal.proto"),
        "google/type/expr.proto" => include_str!("bundled/google/type/expr.proto"),
        "google/type/fraction.proto" => include_str!("bundled/google/type/fraction.proto"),
        "google/type/interval.proto" => include_str!("bundled/google/type/interval.proto"),
        "google/type/latlng.proto" => include_str!("bundled/google/type/latlng.proto"),
        "google/type/money.proto" => include_str!("bundled/google/type/money.proto"),
        "google/type/month.proto" => include_str!("bundled/google/type/month.proto"),
        "google/type/phone_number.proto" => include_str!("bundled/google/type/phone_number.proto"),
        "google/type/postal_address.proto" => {
            include_str!("bundled/google/type/postal_address.proto")
        }
        "google/type/quaternion.proto" => include_str!("bundled/google/type/quaternion.proto"),
        "google/type/timeofday.proto" => include_str!("bundled/google/type/timeofday.proto"),
        _ => return None,
    })
}

/// The `google/protobuf` files Confluent bundles (and protox carries).
pub(crate) fn is_google_protobuf(name: &str) -> bool {
    matches!(
        name,
        "google/protobuf/any.proto"
            | "google/protobuf/api.proto"
            | "google/protobuf/descriptor.proto"
            | "google/protobuf/duration.proto"
            | "google/protobuf/empty.proto"
            | "google/protobuf/field_mask.proto"
            | "google/protobuf/source_context.proto"
            | "google/protobuf/struct.proto"
            | "google/protobuf/timestamp.proto"
            | "google/protobuf/type.proto"
            | "google/protobuf/wrappers.proto"
    )
}

/// Every file Confluent bundles, by import path: what its type resolution
/// sees besides a schema's references.
pub(crate) const ALL: [&str; 29] = [
    "confluent/meta.proto",
    "confluent/type/decimal.proto",
    "google/type/calendar_period.proto",
    "google/type/color.proto",
    "google/type/date.proto",
    "google/type/datetime.proto",
    "google/type/dayofweek.proto",
    "google/type/decimal.proto",
    "google/type/expr.proto",
    "google/type/fraction.proto",
    "google/type/interval.proto",
    "google/type/latlng.proto",
    "google/type/money.proto",
    "google/type/month.proto",
    "google/type/phone_number.proto",
    "google/type/postal_address.proto",
    "google/type/quaternion.proto",
    "google/type/timeofday.proto",
    "google/protobuf/any.proto",
    "google/protobuf/api.proto",
    "google/protobuf/descriptor.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/source_context.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/type.proto",
    "google/protobuf/wrappers.proto",
];
