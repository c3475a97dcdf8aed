//! Confluent's JSON Schema compatibility: the differences between an
//! original (writer) and an update (reader) schema, each with Confluent's
//! change type and path, and which of them are compatible.
//!
//! The rules are those of Confluent's `SchemaDiff` and its per-kind diffs
//! (strings, numbers, enums, objects, arrays, combined and `not` schemas).
//! Combined schemas compare every original subschema with every update
//! subschema and look for a maximum matching of compatible pairs; every
//! (original, update) pair of nodes is compared once and remembered, a pair
//! met again while being compared (a recursive schema) counts as
//! compatible, a pair's result keeps at most [`MAX_DIFFERENCES`]
//! differences, and a budget of pairs bounds the whole check, so deep or
//! wide schemas stay polynomial and a pathological one ends with an error
//! instead of running away.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use super::model::{Additional, Array, Graph, Kind, NodeId, Object};

/// Confluent's `Difference.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ChangeType {
    IdChanged,
    DescriptionChanged,
    TitleChanged,
    DefaultChanged,
    SchemaAdded,
    SchemaRemoved,
    TypeExtended,
    TypeNarrowed,
    TypeChanged,
    MaxLengthAdded,
    MaxLengthRemoved,
    MaxLengthIncreased,
    MaxLengthDecreased,
    MinLengthAdded,
    MinLengthRemoved,
    MinLengthIncreased,
    MinLengthDecreased,
    PatternAdded,
    PatternRemoved,
    PatternChanged,
    MaximumAdded,
    MaximumRemoved,
    MaximumIncreased,
    MaximumDecreased,
    MinimumAdded,
    MinimumRemoved,
    MinimumIncreased,
    MinimumDecreased,
    ExclusiveMaximumAdded,
    ExclusiveMaximumRemoved,
    ExclusiveMaximumIncreased,
    ExclusiveMaximumDecreased,
    ExclusiveMinimumAdded,
    ExclusiveMinimumRemoved,
    ExclusiveMinimumIncreased,
    ExclusiveMinimumDecreased,
    MultipleOfAdded,
    MultipleOfRemoved,
    MultipleOfExpanded,
    MultipleOfReduced,
    MultipleOfChanged,
    RequiredAttributeAdded,
    RequiredAttributeWithDefaultAdded,
    RequiredAttributeRemoved,
    MaxPropertiesAdded,
    MaxPropertiesRemoved,
    MaxPropertiesIncreased,
    MaxPropertiesDecreased,
    MinPropertiesAdded,
    MinPropertiesRemoved,
    MinPropertiesIncreased,
    MinPropertiesDecreased,
    AdditionalPropertiesAdded,
    AdditionalPropertiesRemoved,
    AdditionalPropertiesExtended,
    AdditionalPropertiesNarrowed,
    DependencyArrayAdded,
    DependencyArrayRemoved,
    DependencyArrayExtended,
    DependencyArrayNarrowed,
    DependencyArrayChanged,
    DependencySchemaAdded,
    DependencySchemaRemoved,
    RequiredPropertyAddedToOpenContentModel,
    RequiredPropertyWithDefaultAddedToOpenContentModel,
    OptionalPropertyAddedToOpenContentModel,
    PropertyWithEmptySchemaAddedToOpenContentModel,
    RequiredPropertyAddedToUnopenContentModel,
    RequiredPropertyWithDefaultAddedToUnopenContentModel,
    OptionalPropertyAddedToUnopenContentModel,
    PropertyRemovedFromOpenContentModel,
    PropertyWithFalseRemovedFromClosedContentModel,
    PropertyRemovedFromClosedContentModel,
    PropertyRemovedIsCoveredByPartiallyOpenContentModel,
    PropertyRemovedNotCoveredByPartiallyOpenContentModel,
    PropertyAddedIsCoveredByPartiallyOpenContentModel,
    PropertyAddedNotCoveredByPartiallyOpenContentModel,
    UnevaluatedPropertiesAdded,
    UnevaluatedPropertiesRemoved,
    UnevaluatedPropertiesExtended,
    UnevaluatedPropertiesNarrowed,
    MaxItemsAdded,
    MaxItemsRemoved,
    MaxItemsIncreased,
    MaxItemsDecreased,
    MinItemsAdded,
    MinItemsRemoved,
    MinItemsIncreased,
    MinItemsDecreased,
    MaxContainsAdded,
    MaxContainsRemoved,
    MaxContainsIncreased,
    MaxContainsDecreased,
    MinContainsAdded,
    MinContainsRemoved,
    MinContainsIncreased,
    MinContainsDecreased,
    UniqueItemsAdded,
    UniqueItemsRemoved,
    AdditionalItemsAdded,
    AdditionalItemsRemoved,
    AdditionalItemsExtended,
    AdditionalItemsNarrowed,
    UnevaluatedItemsAdded,
    UnevaluatedItemsRemoved,
    UnevaluatedItemsExtended,
    UnevaluatedItemsNarrowed,
    ItemAddedToOpenContentModel,
    ItemWithEmptySchemaAddedToOpenContentModel,
    ItemAddedToClosedContentModel,
    ItemRemovedFromOpenContentModel,
    ItemWithFalseRemovedFromClosedContentModel,
    ItemRemovedFromClosedContentModel,
    ItemRemovedIsCoveredByPartiallyOpenContentModel,
    ItemRemovedNotCoveredByPartiallyOpenContentModel,
    ItemAddedIsCoveredByPartiallyOpenContentModel,
    ItemAddedNotCoveredByPartiallyOpenContentModel,
    EnumArrayExtended,
    EnumArrayNarrowed,
    EnumArrayChanged,
    CombinedTypeExtended,
    CombinedTypeChanged,
    ProductTypeExtended,
    ProductTypeNarrowed,
    SumTypeExtended,
    SumTypeNarrowed,
    CombinedTypeSubschemasChanged,
    NotTypeExtended,
    NotTypeNarrowed,
}

use ChangeType as T;

impl ChangeType {
    /// Confluent's name of the change.
    pub fn as_str(self) -> &'static str {
        match self {
            T::IdChanged => "ID_CHANGED",
            T::DescriptionChanged => "DESCRIPTION_CHANGED",
            T::TitleChanged => "TITLE_CHANGED",
            T::DefaultChanged => "DEFAULT_CHANGED",
            T::SchemaAdded => "SCHEMA_ADDED",
            T::SchemaRemoved => "SCHEMA_REMOVED",
            T::TypeExtended => "TYPE_EXTENDED",
            T::TypeNarrowed => "TYPE_NARROWED",
            T::TypeChanged => "TYPE_CHANGED",
            T::MaxLengthAdded => "MAX_LENGTH_ADDED",
            T::MaxLengthRemoved => "MAX_LENGTH_REMOVED",
            T::MaxLengthIncreased => "MAX_LENGTH_INCREASED",
            T::MaxLengthDecreased => "MAX_LENGTH_DECREASED",
            T::MinLengthAdded => "MIN_LENGTH_ADDED",
            T::MinLengthRemoved => "MIN_LENGTH_REMOVED",
            T::MinLengthIncreased => "MIN_LENGTH_INCREASED",
            T::MinLengthDecreased => "MIN_LENGTH_DECREASED",
            T::PatternAdded => "PATTERN_ADDED",
            T::PatternRemoved => "PATTERN_REMOVED",
            T::PatternChanged => "PATTERN_CHANGED",
            T::MaximumAdded => "MAXIMUM_ADDED",
            T::MaximumRemoved => "MAXIMUM_REMOVED",
            T::MaximumIncreased => "MAXIMUM_INCREASED",
            T::MaximumDecreased => "MAXIMUM_DECREASED",
            T::MinimumAdded => "MINIMUM_ADDED",
            T::MinimumRemoved => "MINIMUM_REMOVED",
            T::MinimumIncreased => "MINIMUM_INCREASED",
            T::MinimumDecreased => "MINIMUM_DECREASED",
            T::ExclusiveMaximumAdded => "EXCLUSIVE_MAXIMUM_ADDED",
            T::ExclusiveMaximumRemoved => "EXCLUSIVE_MAXIMUM_REMOVED",
            T::ExclusiveMaximumIncreased => "EXCLUSIVE_MAXIMUM_INCREASED",
            T::ExclusiveMaximumDecreased => "EXCLUSIVE_MAXIMUM_DECREASED",
            T::ExclusiveMinimumAdded => "EXCLUSIVE_MINIMUM_ADDED",
            T::ExclusiveMinimumRemoved => "EXCLUSIVE_MINIMUM_REMOVED",
            T::ExclusiveMinimumIncreased => "EXCLUSIVE_MINIMUM_INCREASED",
            T::ExclusiveMinimumDecreased => "EXCLUSIVE_MINIMUM_DECREASED",
            T::MultipleOfAdded => "MULTIPLE_OF_ADDED",
            T::MultipleOfRemoved => "MULTIPLE_OF_REMOVED",
            T::MultipleOfExpanded => "MULTIPLE_OF_EXPANDED",
            T::MultipleOfReduced => "MULTIPLE_OF_REDUCED",
            T::MultipleOfChanged => "MULTIPLE_OF_CHANGED",
            T::RequiredAttributeAdded => "REQUIRED_ATTRIBUTE_ADDED",
            T::RequiredAttributeWithDefaultAdded => "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
            T::RequiredAttributeRemoved => "REQUIRED_ATTRIBUTE_REMOVED",
            T::MaxPropertiesAdded => "MAX_PROPERTIES_ADDED",
            T::MaxPropertiesRemoved => "MAX_PROPERTIES_REMOVED",
            T::MaxPropertiesIncreased => "MAX_PROPERTIES_INCREASED",
            T::MaxPropertiesDecreased => "MAX_PROPERTIES_DECREASED",
            T::MinPropertiesAdded => "MIN_PROPERTIES_ADDED",
            T::MinPropertiesRemoved => "MIN_PROPERTIES_REMOVED",
            T::MinPropertiesIncreased => "MIN_PROPERTIES_INCREASED",
            T::MinPropertiesDecreased => "MIN_PROPERTIES_DECREASED",
            T::AdditionalPropertiesAdded => "ADDITIONAL_PROPERTIES_ADDED",
            T::AdditionalPropertiesRemoved => "ADDITIONAL_PROPERTIES_REMOVED",
            T::AdditionalPropertiesExtended => "ADDITIONAL_PROPERTIES_EXTENDED",
            T::AdditionalPropertiesNarrowed => "ADDITIONAL_PROPERTIES_NARROWED",
            T::DependencyArrayAdded => "DEPENDENCY_ARRAY_ADDED",
            T::DependencyArrayRemoved => "DEPENDENCY_ARRAY_REMOVED",
            T::DependencyArrayExtended => "DEPENDENCY_ARRAY_EXTENDED",
            T::DependencyArrayNarrowed => "DEPENDENCY_ARRAY_NARROWED",
            T::DependencyArrayChanged => "DEPENDENCY_ARRAY_CHANGED",
            T::DependencySchemaAdded => "DEPENDENCY_SCHEMA_ADDED",
            T::DependencySchemaRemoved => "DEPENDENCY_SCHEMA_REMOVED",
            T::RequiredPropertyAddedToOpenContentModel => {
                "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            T::RequiredPropertyWithDefaultAddedToOpenContentModel => {
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            T::OptionalPropertyAddedToOpenContentModel => {
                "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            T::PropertyWithEmptySchemaAddedToOpenContentModel => {
                "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            T::RequiredPropertyAddedToUnopenContentModel => {
                "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            T::RequiredPropertyWithDefaultAddedToUnopenContentModel => {
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            T::OptionalPropertyAddedToUnopenContentModel => {
                "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            T::PropertyRemovedFromOpenContentModel => "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
            T::PropertyWithFalseRemovedFromClosedContentModel => {
                "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            T::PropertyRemovedFromClosedContentModel => {
                "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            T::PropertyRemovedIsCoveredByPartiallyOpenContentModel => {
                "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::PropertyRemovedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::PropertyAddedIsCoveredByPartiallyOpenContentModel => {
                "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::PropertyAddedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::UnevaluatedPropertiesAdded => "UNEVALUATED_PROPERTIES_ADDED",
            T::UnevaluatedPropertiesRemoved => "UNEVALUATED_PROPERTIES_REMOVED",
            T::UnevaluatedPropertiesExtended => "UNEVALUATED_PROPERTIES_EXTENDED",
            T::UnevaluatedPropertiesNarrowed => "UNEVALUATED_PROPERTIES_NARROWED",
            T::MaxItemsAdded => "MAX_ITEMS_ADDED",
            T::MaxItemsRemoved => "MAX_ITEMS_REMOVED",
            T::MaxItemsIncreased => "MAX_ITEMS_INCREASED",
            T::MaxItemsDecreased => "MAX_ITEMS_DECREASED",
            T::MinItemsAdded => "MIN_ITEMS_ADDED",
            T::MinItemsRemoved => "MIN_ITEMS_REMOVED",
            T::MinItemsIncreased => "MIN_ITEMS_INCREASED",
            T::MinItemsDecreased => "MIN_ITEMS_DECREASED",
            T::MaxContainsAdded => "MAX_CONTAINS_ADDED",
            T::MaxContainsRemoved => "MAX_CONTAINS_REMOVED",
            T::MaxContainsIncreased => "MAX_CONTAINS_INCREASED",
            T::MaxContainsDecreased => "MAX_CONTAINS_DECREASED",
            T::MinContainsAdded => "MIN_CONTAINS_ADDED",
            T::MinContainsRemoved => "MIN_CONTAINS_REMOVED",
            T::MinContainsIncreased => "MIN_CONTAINS_INCREASED",
            T::MinContainsDecreased => "MIN_CONTAINS_DECREASED",
            T::UniqueItemsAdded => "UNIQUE_ITEMS_ADDED",
            T::UniqueItemsRemoved => "UNIQUE_ITEMS_REMOVED",
            T::AdditionalItemsAdded => "ADDITIONAL_ITEMS_ADDED",
            T::AdditionalItemsRemoved => "ADDITIONAL_ITEMS_REMOVED",
            T::AdditionalItemsExtended => "ADDITIONAL_ITEMS_EXTENDED",
            T::AdditionalItemsNarrowed => "ADDITIONAL_ITEMS_NARROWED",
            T::UnevaluatedItemsAdded => "UNEVALUATED_ITEMS_ADDED",
            T::UnevaluatedItemsRemoved => "UNEVALUATED_ITEMS_REMOVED",
            T::UnevaluatedItemsExtended => "UNEVALUATED_ITEMS_EXTENDED",
            T::UnevaluatedItemsNarrowed => "UNEVALUATED_ITEMS_NARROWED",
            T::ItemAddedToOpenContentModel => "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
            T::ItemWithEmptySchemaAddedToOpenContentModel => {
                "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            T::ItemAddedToClosedContentModel => "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
            T::ItemRemovedFromOpenContentModel => "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
            T::ItemWithFalseRemovedFromClosedContentModel => {
                "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            T::ItemRemovedFromClosedContentModel => "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            T::ItemRemovedIsCoveredByPartiallyOpenContentModel => {
                "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::ItemRemovedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::ItemAddedIsCoveredByPartiallyOpenContentModel => {
                "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::ItemAddedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            T::EnumArrayExtended => "ENUM_ARRAY_EXTENDED",
            T::EnumArrayNarrowed => "ENUM_ARRAY_NARROWED",
            T::EnumArrayChanged => "ENUM_ARRAY_CHANGED",
            T::CombinedTypeExtended => "COMBINED_TYPE_EXTENDED",
            T::CombinedTypeChanged => "COMBINED_TYPE_CHANGED",
            T::ProductTypeExtended => "PRODUCT_TYPE_EXTENDED",
            T::ProductTypeNarrowed => "PRODUCT_TYPE_NARROWED",
            T::SumTypeExtended => "SUM_TYPE_EXTENDED",
            T::SumTypeNarrowed => "SUM_TYPE_NARROWED",
            T::CombinedTypeSubschemasChanged => "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
            T::NotTypeExtended => "NOT_TYPE_EXTENDED",
            T::NotTypeNarrowed => "NOT_TYPE_NARROWED",
        }
    }

    /// Whether Confluent accepts this change (`SchemaDiff.COMPATIBLE_CHANGES`).
    pub fn is_compatible(self) -> bool {
        matches!(
            self,
            T::IdChanged
                | T::DescriptionChanged
                | T::TitleChanged
                | T::DefaultChanged
                | T::SchemaRemoved
                | T::TypeExtended
                | T::MaxLengthIncreased
                | T::MaxLengthRemoved
                | T::MinLengthDecreased
                | T::MinLengthRemoved
                | T::PatternRemoved
                | T::MaximumIncreased
                | T::MaximumRemoved
                | T::MinimumDecreased
                | T::MinimumRemoved
                | T::ExclusiveMaximumIncreased
                | T::ExclusiveMaximumRemoved
                | T::ExclusiveMinimumDecreased
                | T::ExclusiveMinimumRemoved
                | T::MultipleOfReduced
                | T::MultipleOfRemoved
                | T::RequiredAttributeWithDefaultAdded
                | T::RequiredAttributeRemoved
                | T::DependencyArrayNarrowed
                | T::DependencyArrayRemoved
                | T::DependencySchemaRemoved
                | T::MaxPropertiesIncreased
                | T::MaxPropertiesRemoved
                | T::MinPropertiesDecreased
                | T::MinPropertiesRemoved
                | T::AdditionalPropertiesAdded
                | T::AdditionalPropertiesExtended
                | T::UnevaluatedPropertiesAdded
                | T::UnevaluatedPropertiesExtended
                | T::PropertyWithEmptySchemaAddedToOpenContentModel
                | T::RequiredPropertyWithDefaultAddedToUnopenContentModel
                | T::OptionalPropertyAddedToUnopenContentModel
                | T::PropertyWithFalseRemovedFromClosedContentModel
                | T::PropertyRemovedFromOpenContentModel
                | T::PropertyAddedIsCoveredByPartiallyOpenContentModel
                | T::PropertyRemovedIsCoveredByPartiallyOpenContentModel
                | T::MaxItemsIncreased
                | T::MaxItemsRemoved
                | T::MinItemsDecreased
                | T::MinItemsRemoved
                | T::UniqueItemsRemoved
                | T::AdditionalItemsAdded
                | T::AdditionalItemsExtended
                | T::UnevaluatedItemsAdded
                | T::UnevaluatedItemsExtended
                | T::ItemWithEmptySchemaAddedToOpenContentModel
                | T::ItemAddedToClosedContentModel
                | T::ItemWithFalseRemovedFromClosedContentModel
                | T::ItemRemovedFromOpenContentModel
                | T::ItemAddedIsCoveredByPartiallyOpenContentModel
                | T::ItemRemovedIsCoveredByPartiallyOpenContentModel
                | T::EnumArrayExtended
                | T::CombinedTypeExtended
                | T::ProductTypeNarrowed
                | T::SumTypeExtended
                | T::NotTypeNarrowed
        )
    }

    /// Confluent's description (`Difference.error()`), with the update
    /// schema's role first and the original's second.
    pub fn description(self, path: &str, update: &str, original: &str) -> String {
        match self {
            T::MaximumAdded
            | T::MinimumAdded
            | T::ExclusiveMaximumAdded
            | T::ExclusiveMinimumAdded
            | T::MultipleOfAdded
            | T::MaxLengthAdded
            | T::MinLengthAdded
            | T::PatternAdded
            | T::RequiredAttributeAdded
            | T::MaxPropertiesAdded
            | T::MinPropertiesAdded
            | T::DependencyArrayAdded
            | T::DependencySchemaAdded
            | T::MaxItemsAdded
            | T::MinItemsAdded
            | T::MaxContainsAdded
            | T::MinContainsAdded
            | T::UniqueItemsAdded
            | T::AdditionalItemsRemoved
            | T::AdditionalPropertiesRemoved
            | T::UnevaluatedPropertiesRemoved
            | T::UnevaluatedItemsRemoved => format!(
                "The keyword at path '{path}' in the {update} schema is not present in the {original} schema"
            ),
            T::MinLengthIncreased
            | T::MinimumIncreased
            | T::ExclusiveMinimumIncreased
            | T::MinPropertiesIncreased
            | T::MultipleOfExpanded
            | T::MinItemsIncreased
            | T::MinContainsIncreased => format!(
                "The value at path '{path}' in the {update} schema is more than its value in the {original} schema"
            ),
            T::MaxLengthDecreased
            | T::MaximumDecreased
            | T::MaxItemsDecreased
            | T::MaxContainsDecreased
            | T::ExclusiveMaximumDecreased
            | T::MaxPropertiesDecreased => format!(
                "The value at path '{path}' in the {update} schema is less than its value in the {original} schema"
            ),
            T::PatternChanged | T::MultipleOfChanged | T::DependencyArrayChanged => format!(
                "The value at path '{path}' is different between the {update} and {original} schema"
            ),
            T::AdditionalItemsNarrowed
            | T::EnumArrayNarrowed
            | T::SumTypeNarrowed
            | T::AdditionalPropertiesNarrowed
            | T::UnevaluatedPropertiesNarrowed
            | T::UnevaluatedItemsNarrowed => format!(
                "An array or combined type at path '{path}' has fewer elements in the {update} schema than the {original} schema"
            ),
            T::DependencyArrayExtended
            | T::ProductTypeExtended
            | T::SumTypeExtended
            | T::NotTypeExtended => format!(
                "An array or combined type at path '{path}' has more elements in the {update} schema than the {original} schema"
            ),
            T::TypeChanged
            | T::TypeNarrowed
            | T::CombinedTypeChanged
            | T::CombinedTypeSubschemasChanged
            | T::EnumArrayChanged => format!(
                "A type at path '{path}' is different between the {update} schema and the {original} schema"
            ),
            T::RequiredPropertyAddedToOpenContentModel
            | T::RequiredPropertyWithDefaultAddedToOpenContentModel
            | T::OptionalPropertyAddedToOpenContentModel
            | T::ItemAddedToOpenContentModel => format!(
                "The {update} schema has an open content model and has a property or item at path '{path}' which is missing in the {original} schema"
            ),
            T::RequiredPropertyAddedToUnopenContentModel => format!(
                "The {update} schema has an unopen content model and has a required property at path '{path}' which is missing in the {original} schema"
            ),
            T::PropertyRemovedFromClosedContentModel | T::ItemRemovedFromClosedContentModel => {
                format!(
                    "The {update} schema has a closed content model and is missing a property or item present at path '{path}' in the {original} schema"
                )
            }
            T::PropertyRemovedNotCoveredByPartiallyOpenContentModel
            | T::ItemRemovedNotCoveredByPartiallyOpenContentModel => format!(
                "A property or item is missing in the {update} schema but present at path '{path}' in the {original} schema and is not covered by its partially open content model"
            ),
            T::PropertyAddedNotCoveredByPartiallyOpenContentModel
            | T::ItemAddedNotCoveredByPartiallyOpenContentModel => format!(
                "The {update} schema has a property or item at path '{path}' which is missing in the {original} schema and is not covered by its partially open content model"
            ),
            _ => String::new(),
        }
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference, its path relative to the pair compared (`""` for the
/// pair's root, `properties/a/maxLength` below it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Difference {
    pub(crate) change: ChangeType,
    pub(crate) path: String,
}

impl Difference {
    fn at(change: ChangeType, path: &str) -> Difference {
        Difference {
            change,
            path: path.to_owned(),
        }
    }

    /// Confluent's form of the path: `#/`, `#/properties/a`.
    pub(crate) fn json_path(&self) -> String {
        format!("#/{}", self.path)
    }
}

/// What a check found: the differences, and whether the budget ran out.
pub(crate) struct Outcome {
    pub(crate) differences: Vec<Difference>,
    pub(crate) limit_hit: bool,
}

/// How many distinct (original, update) pairs of subschemas one check may
/// compare. Real schemas need a few per property; this is room for
/// schemas of hundreds of thousands of properties.
pub(crate) const MAX_PAIRS: usize = 2_000_000;

/// The differences from `original` (the writer) to `update` (the reader),
/// comparing at most `budget` pairs of subschemas.
pub(crate) fn compare(original: &Graph, update: &Graph, budget: usize) -> Outcome {
    let mut c = Checker {
        o: original,
        u: update,
        memo: HashMap::new(),
        in_progress: HashSet::new(),
        budget,
        limit_hit: false,
    };
    let differences = c.compare(Some(original.root), Some(update.root));
    Outcome {
        differences,
        limit_hit: c.limit_hit,
    }
}

/// How many differences one pair's result carries. A difference deep in a
/// schema reached by many paths (nested combinators through `$ref`s) is a
/// difference on each path, and their number can grow exponentially while
/// the pairs compared stay few; past this many, a result keeps its
/// incompatible differences first, so verdicts are unchanged and the
/// messages stay readable.
const MAX_DIFFERENCES: usize = 100;

fn capped(mut diffs: Vec<Difference>) -> Vec<Difference> {
    if diffs.len() <= MAX_DIFFERENCES {
        return diffs;
    }
    let (mut kept, compatible): (Vec<Difference>, Vec<Difference>) =
        diffs.drain(..).partition(|d| !d.change.is_compatible());
    kept.truncate(MAX_DIFFERENCES);
    let room = MAX_DIFFERENCES - kept.len();
    kept.extend(compatible.into_iter().take(room));
    kept
}

fn compatible(diffs: &[Difference]) -> bool {
    diffs.iter().all(|d| d.change.is_compatible())
}

/// `diffs` moved under `prefix`.
fn rebased(prefix: &str, diffs: Vec<Difference>) -> impl Iterator<Item = Difference> {
    diffs.into_iter().map(move |mut d| {
        d.path = if d.path.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}/{}", d.path)
        };
        d
    })
}

struct Checker<'g> {
    o: &'g Graph,
    u: &'g Graph,
    memo: HashMap<(NodeId, NodeId), Vec<Difference>>,
    in_progress: HashSet<(NodeId, NodeId)>,
    budget: usize,
    limit_hit: bool,
}

impl Checker<'_> {
    fn compare(&mut self, original: Option<NodeId>, update: Option<NodeId>) -> Vec<Difference> {
        let (o, u) = match (original, update) {
            (None, None) => return vec![],
            (None, Some(_)) => return vec![Difference::at(T::SchemaAdded, "")],
            (Some(_), None) => return vec![Difference::at(T::SchemaRemoved, "")],
            (Some(o), Some(u)) => (self.o.deref(o), self.u.deref(u)),
        };
        if let Some(d) = self.memo.get(&(o, u)) {
            return d.clone();
        }
        if self.limit_hit || !self.in_progress.insert((o, u)) {
            // A recursive schema met itself: compatible on this path.
            return vec![];
        }
        if self.budget == 0 || crate::limits::expired() {
            self.limit_hit = true;
            return vec![];
        }
        self.budget -= 1;
        let diffs = capped(self.compare_nodes(o, u));
        self.in_progress.remove(&(o, u));
        self.memo.insert((o, u), diffs.clone());
        diffs
    }

    /// Compares `update_node` (of the update) as the original and
    /// `original_node` (of the original) as the update, sharing the budget.
    fn reversed(&mut self, update_node: NodeId, original_node: NodeId) -> Vec<Difference> {
        let mut rev = Checker {
            o: self.u,
            u: self.o,
            memo: HashMap::new(),
            in_progress: HashSet::new(),
            budget: self.budget,
            limit_hit: self.limit_hit,
        };
        let d = rev.compare(Some(update_node), Some(original_node));
        self.budget = rev.budget;
        self.limit_hit = rev.limit_hit;
        d
    }

    fn compare_nodes(&mut self, o: NodeId, u: NodeId) -> Vec<Difference> {
        let (on, un) = (self.o.node(o), self.u.node(u));
        // A plain schema against a combined one (and back).
        match (&on.kind, &un.kind) {
            (
                k,
                Kind::Combined {
                    criterion,
                    subschemas,
                },
            ) if !matches!(k, Kind::Combined { .. }) => {
                if subschemas.len() == 1 {
                    let d = self.compare(Some(o), Some(subschemas[0]));
                    if compatible(&d) {
                        return d;
                    }
                } else if *criterion != super::model::Criterion::AllOf {
                    for &sub in subschemas {
                        let mut d = self.compare(Some(o), Some(sub));
                        if compatible(&d) {
                            d.push(Difference::at(T::SumTypeExtended, ""));
                            return d;
                        }
                    }
                }
            }
            (
                Kind::Combined {
                    criterion,
                    subschemas,
                },
                k,
            ) if !matches!(k, Kind::Combined { .. }) => {
                if subschemas.len() == 1 {
                    let d = self.compare(Some(subschemas[0]), Some(u));
                    if compatible(&d) {
                        return d;
                    }
                } else if *criterion == super::model::Criterion::AllOf {
                    for &sub in subschemas {
                        let mut d = self.compare(Some(sub), Some(u));
                        if compatible(&d) {
                            d.push(Difference::at(T::ProductTypeNarrowed, ""));
                            return d;
                        }
                    }
                }
            }
            _ => {}
        }
        if on.kind.class() != un.kind.class() {
            if matches!(on.kind, Kind::False) || un.kind.is_empty() {
                return vec![];
            }
            return vec![Difference::at(T::TypeChanged, "")];
        }
        let mut out = Vec::new();
        if on.meta.id != un.meta.id {
            out.push(Difference::at(T::IdChanged, ""));
        }
        if on.meta.title != un.meta.title {
            out.push(Difference::at(T::TitleChanged, ""));
        }
        if on.meta.description != un.meta.description {
            out.push(Difference::at(T::DescriptionChanged, ""));
        }
        if on.meta.default != un.meta.default {
            out.push(Difference::at(T::DefaultChanged, ""));
        }
        match (&on.kind, &un.kind) {
            (
                Kind::String {
                    min_length: omin,
                    max_length: omax,
                    pattern: op,
                },
                Kind::String {
                    min_length: umin,
                    max_length: umax,
                    pattern: up,
                },
            ) => {
                bound(&mut out, "maxLength", *omax, *umax, MAX_LENGTH);
                bound(&mut out, "minLength", *omin, *umin, MIN_LENGTH);
                match (op, up) {
                    (None, Some(_)) => out.push(Difference::at(T::PatternAdded, "pattern")),
                    (Some(_), None) => out.push(Difference::at(T::PatternRemoved, "pattern")),
                    (Some(a), Some(b)) if a != b => {
                        out.push(Difference::at(T::PatternChanged, "pattern"))
                    }
                    _ => {}
                }
            }
            (
                Kind::Number {
                    integer: oi,
                    minimum: omin,
                    maximum: omax,
                    exclusive_minimum: oemin,
                    exclusive_maximum: oemax,
                    multiple_of: om,
                },
                Kind::Number {
                    integer: ui,
                    minimum: umin,
                    maximum: umax,
                    exclusive_minimum: uemin,
                    exclusive_maximum: uemax,
                    multiple_of: um,
                },
            ) => {
                bound(&mut out, "maximum", *omax, *umax, MAXIMUM);
                bound(&mut out, "minimum", *omin, *umin, MINIMUM);
                bound(
                    &mut out,
                    "exclusiveMaximum",
                    *oemax,
                    *uemax,
                    EXCLUSIVE_MAXIMUM,
                );
                bound(
                    &mut out,
                    "exclusiveMinimum",
                    *oemin,
                    *uemin,
                    EXCLUSIVE_MINIMUM,
                );
                if om != um {
                    let change = match (om, um) {
                        (None, _) => T::MultipleOfAdded,
                        (_, None) => T::MultipleOfRemoved,
                        (Some(a), Some(b)) => {
                            // Confluent compares the integer parts.
                            let (a, b) = (*a as i64, *b as i64);
                            if a != 0 && b % a == 0 {
                                T::MultipleOfExpanded
                            } else if b != 0 && a % b == 0 {
                                T::MultipleOfReduced
                            } else {
                                T::MultipleOfChanged
                            }
                        }
                    };
                    out.push(Difference::at(change, "multipleOf"));
                }
                if oi != ui {
                    out.push(Difference::at(
                        if *oi {
                            T::TypeExtended
                        } else {
                            T::TypeNarrowed
                        },
                        "",
                    ));
                }
            }
            (Kind::Enum(ov), Kind::Enum(uv)) => {
                let contains_all = |a: &[Value], b: &[Value]| b.iter().all(|v| a.contains(v));
                if !(contains_all(ov, uv) && contains_all(uv, ov)) {
                    let change = if contains_all(uv, ov) {
                        T::EnumArrayExtended
                    } else if contains_all(ov, uv) {
                        T::EnumArrayNarrowed
                    } else {
                        T::EnumArrayChanged
                    };
                    out.push(Difference::at(change, "enum"));
                }
            }
            (Kind::Const(a), Kind::Const(b)) if a != b => {
                out.push(Difference::at(T::EnumArrayChanged, "const"));
            }
            (
                Kind::Combined {
                    criterion: oc,
                    subschemas: os,
                },
                Kind::Combined {
                    criterion: uc,
                    subschemas: us,
                },
            ) => self.combined(&mut out, *oc, os, *uc, us),
            (Kind::Not(a), Kind::Not(b)) => {
                // Reversed: the update must exclude no more than the original.
                let d = self.reversed(*b, *a);
                out.push(Difference::at(
                    if compatible(&d) {
                        T::NotTypeNarrowed
                    } else {
                        T::NotTypeExtended
                    },
                    "not",
                ));
            }
            (Kind::Object(a), Kind::Object(b)) => self.object(&mut out, a, b),
            (Kind::Array(a), Kind::Array(b)) => self.array(&mut out, a, b),
            _ => {}
        }
        out
    }

    fn combined(
        &mut self,
        out: &mut Vec<Difference>,
        oc: super::model::Criterion,
        os: &[NodeId],
        uc: super::model::Criterion,
        us: &[NodeId],
    ) {
        use super::model::Criterion::{AllOf, AnyOf, OneOf};
        let criteria = if oc == uc {
            None
        } else if uc == AnyOf
            || (uc == OneOf && (os.len() == 1 || oc == AllOf))
            || (uc == AllOf && os.len() == 1 && us.len() == 1)
        {
            Some(T::CombinedTypeExtended)
        } else {
            Some(T::CombinedTypeChanged)
        };
        if let Some(change) = criteria {
            out.push(Difference::at(change, ""));
            if change == T::CombinedTypeChanged {
                return;
            }
        }
        if os.len() < us.len() {
            out.push(Difference::at(
                if uc == AllOf {
                    T::ProductTypeExtended
                } else {
                    T::SumTypeExtended
                },
                "",
            ));
        } else if os.len() > us.len() {
            // Fewer subschemas narrow what the original combined.
            out.push(Difference::at(
                if oc == AllOf {
                    T::ProductTypeNarrowed
                } else {
                    T::SumTypeNarrowed
                },
                "",
            ));
        }
        // Compatible pairs, then a maximum matching over them.
        let mut edges: Vec<Vec<(usize, Vec<Difference>)>> = Vec::with_capacity(os.len());
        for (i, &o) in os.iter().enumerate() {
            let prefix = format!("{}/{i}", oc.as_str());
            let mut row = Vec::new();
            for (j, &u) in us.iter().enumerate() {
                let d = self.compare(Some(o), Some(u));
                if compatible(&d) {
                    row.push((j, rebased(&prefix, d).collect()));
                }
            }
            edges.push(row);
        }
        let matched = maximum_matching(&edges, us.len());
        let mut size = 0;
        for (i, j) in matched.iter().enumerate() {
            if let Some(j) = j
                && let Some((_, d)) = edges[i].iter().find(|(jj, _)| jj == j)
            {
                out.extend(d.iter().cloned());
                size += 1;
            }
        }
        if size < os.len().min(us.len()) {
            out.push(Difference::at(T::CombinedTypeSubschemasChanged, ""));
        }
    }

    fn object(&mut self, out: &mut Vec<Difference>, o: &Object, u: &Object) {
        // required
        for (key, _) in &o.properties {
            let Some(uprop) = u.property(key) else {
                continue;
            };
            let was = o.required.contains(key);
            let is = u.required.contains(key);
            let path = format!("required/{key}");
            if was && !is {
                out.push(Difference::at(T::RequiredAttributeRemoved, &path));
            } else if !was && is {
                out.push(Difference::at(
                    if self.u.node(uprop).meta.default.is_some() {
                        T::RequiredAttributeWithDefaultAdded
                    } else {
                        T::RequiredAttributeAdded
                    },
                    &path,
                ));
            }
        }
        // properties: the original's in order, then the update's new ones
        let keys: Vec<&String> = o
            .properties
            .iter()
            .map(|(k, _)| k)
            .chain(
                u.properties
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| o.property(k).is_none()),
            )
            .collect();
        for key in keys {
            let path = format!("properties/{key}");
            match (o.property(key), u.property(key)) {
                (Some(op), None) => {
                    if open(self.u, u) {
                        out.push(Difference::at(
                            T::PropertyRemovedFromOpenContentModel,
                            &path,
                        ));
                    } else if let Some(partial) = partial(self.u, u, key) {
                        let d = self.compare(Some(op), Some(partial));
                        let ok = compatible(&d);
                        out.extend(rebased(&path, d));
                        out.push(Difference::at(
                            if ok {
                                T::PropertyRemovedIsCoveredByPartiallyOpenContentModel
                            } else {
                                T::PropertyRemovedNotCoveredByPartiallyOpenContentModel
                            },
                            &path,
                        ));
                    } else if matches!(self.o.node(op).kind, Kind::False) {
                        out.push(Difference::at(
                            T::PropertyWithFalseRemovedFromClosedContentModel,
                            &path,
                        ));
                    } else {
                        out.push(Difference::at(
                            T::PropertyRemovedFromClosedContentModel,
                            &path,
                        ));
                    }
                }
                (None, Some(up)) => {
                    let required = u.required.contains(key);
                    let has_default = self.u.node(up).meta.default.is_some();
                    if open(self.o, o) {
                        let change = if self.u.node(up).kind.is_empty() {
                            T::PropertyWithEmptySchemaAddedToOpenContentModel
                        } else if required && has_default {
                            T::RequiredPropertyWithDefaultAddedToOpenContentModel
                        } else if required {
                            T::RequiredPropertyAddedToOpenContentModel
                        } else {
                            T::OptionalPropertyAddedToOpenContentModel
                        };
                        out.push(Difference::at(change, &path));
                    } else {
                        if let Some(partial) = partial(self.o, o, key) {
                            let d = self.compare(Some(partial), Some(up));
                            let ok = compatible(&d);
                            out.extend(rebased(&path, d));
                            out.push(Difference::at(
                                if ok {
                                    T::PropertyAddedIsCoveredByPartiallyOpenContentModel
                                } else {
                                    T::PropertyAddedNotCoveredByPartiallyOpenContentModel
                                },
                                &path,
                            ));
                        }
                        let change = if required && has_default {
                            T::RequiredPropertyWithDefaultAddedToUnopenContentModel
                        } else if required {
                            T::RequiredPropertyAddedToUnopenContentModel
                        } else {
                            T::OptionalPropertyAddedToUnopenContentModel
                        };
                        out.push(Difference::at(change, &path));
                    }
                }
                (Some(op), Some(up)) => {
                    let d = self.compare(Some(op), Some(up));
                    out.extend(rebased(&path, d));
                }
                (None, None) => {}
            }
        }
        // dependencies
        let mut keys: Vec<&String> = o.property_dependencies.iter().map(|(k, _)| k).collect();
        for (k, _) in &u.property_dependencies {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let find = |deps: &[(String, Vec<String>)], k: &str| {
            deps.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone())
        };
        for key in keys {
            let path = format!("dependencies/{key}");
            let change = match (
                find(&o.property_dependencies, key),
                find(&u.property_dependencies, key),
            ) {
                (_, None) => Some(T::DependencyArrayRemoved),
                (None, Some(_)) => Some(T::DependencyArrayAdded),
                (Some(a), Some(b)) => {
                    let has_all = |x: &[String], y: &[String]| y.iter().all(|v| x.contains(v));
                    if has_all(&a, &b) && has_all(&b, &a) {
                        None
                    } else if has_all(&b, &a) {
                        Some(T::DependencyArrayExtended)
                    } else if has_all(&a, &b) {
                        Some(T::DependencyArrayNarrowed)
                    } else {
                        Some(T::DependencyArrayChanged)
                    }
                }
            };
            if let Some(change) = change {
                out.push(Difference::at(change, &path));
            }
        }
        let mut keys: Vec<&String> = o.schema_dependencies.iter().map(|(k, _)| k).collect();
        for (k, _) in &u.schema_dependencies {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let find = |deps: &[(String, NodeId)], k: &str| {
            deps.iter().find(|(kk, _)| kk == k).map(|(_, v)| *v)
        };
        for key in keys {
            let path = format!("dependencies/{key}");
            match (
                find(&o.schema_dependencies, key),
                find(&u.schema_dependencies, key),
            ) {
                (_, None) => out.push(Difference::at(T::DependencySchemaRemoved, &path)),
                (None, Some(_)) => out.push(Difference::at(T::DependencySchemaAdded, &path)),
                (Some(a), Some(b)) => {
                    let d = self.compare(Some(a), Some(b));
                    out.extend(rebased(&path, d));
                }
            }
        }
        // additionalProperties
        let (oa, ua) = (o.additional(), u.additional());
        let path = "additionalProperties";
        if oa.permits() != ua.permits() {
            out.push(Difference::at(
                if ua.permits() {
                    T::AdditionalPropertiesAdded
                } else {
                    T::AdditionalPropertiesRemoved
                },
                path,
            ));
        } else if oa.schema().is_none() && ua.schema().is_some() {
            out.push(Difference::at(T::AdditionalPropertiesNarrowed, path));
        } else if ua.schema().is_none() && oa.schema().is_some() {
            out.push(Difference::at(T::AdditionalPropertiesExtended, path));
        } else if oa.schema().is_some() {
            let d = self.compare(oa.schema(), ua.schema());
            out.extend(rebased(path, d));
        }
        self.unevaluated(
            out,
            "unevaluatedProperties",
            o.unevaluated,
            u.unevaluated,
            UNEVALUATED_PROPERTIES,
        );
        bound(
            out,
            "maxProperties",
            o.max_properties,
            u.max_properties,
            MAX_PROPERTIES,
        );
        bound(
            out,
            "minProperties",
            o.min_properties,
            u.min_properties,
            MIN_PROPERTIES,
        );
    }

    /// `unevaluatedItems` / `unevaluatedProperties` as Confluent sees them:
    /// to or from `false` is removed or added, to or from an absent keyword
    /// or `true`/`{}` is narrowed or extended, two other schemas compare.
    fn unevaluated(
        &mut self,
        out: &mut Vec<Difference>,
        path: &str,
        original: Option<NodeId>,
        update: Option<NodeId>,
        changes: BoundChanges,
    ) {
        let [added, removed, extended, narrowed] = changes;
        let is_false = |g: &Graph, id: NodeId| matches!(g.node(id).kind, Kind::False);
        let is_empty = |g: &Graph, id: NodeId| g.node(id).kind.is_empty();
        let change = match (original, update) {
            (None, None) => return,
            (None, Some(b)) if is_false(self.u, b) => Some(removed),
            (None, Some(_)) => Some(narrowed),
            (Some(a), None) if is_false(self.o, a) => Some(added),
            (Some(_), None) => Some(extended),
            (Some(a), Some(b)) => match (is_false(self.o, a), is_false(self.u, b)) {
                (true, false) => Some(added),
                (false, true) => Some(removed),
                _ => match (is_empty(self.o, a), is_empty(self.u, b)) {
                    (true, false) => Some(narrowed),
                    (false, true) => Some(extended),
                    _ => None,
                },
            },
        };
        match change {
            Some(c) => out.push(Difference::at(c, path)),
            None => {
                let d = self.compare(original, update);
                out.extend(rebased(path, d));
            }
        }
    }

    fn array(&mut self, out: &mut Vec<Difference>, o: &Array, u: &Array) {
        let d = self.compare(o.all_items, u.all_items);
        out.extend(rebased("items", d));
        let n = o.item_schemas.len().min(u.item_schemas.len());
        for i in 0..n {
            let d = self.compare(Some(o.item_schemas[i]), Some(u.item_schemas[i]));
            out.extend(rebased(&format!("items/{i}"), d));
        }
        for (i, &os) in o.item_schemas.iter().enumerate().skip(n) {
            let path = format!("items/{i}");
            if open_array(self.u, u) {
                out.push(Difference::at(T::ItemRemovedFromOpenContentModel, &path));
            } else if let Some(partial) = partial_array(self.u, u) {
                let d = self.compare(Some(os), Some(partial));
                let ok = compatible(&d);
                out.extend(rebased(&path, d));
                out.push(Difference::at(
                    if ok {
                        T::ItemRemovedIsCoveredByPartiallyOpenContentModel
                    } else {
                        T::ItemRemovedNotCoveredByPartiallyOpenContentModel
                    },
                    &path,
                ));
            } else if matches!(self.o.node(os).kind, Kind::False) {
                out.push(Difference::at(
                    T::ItemWithFalseRemovedFromClosedContentModel,
                    &path,
                ));
            } else {
                out.push(Difference::at(T::ItemRemovedFromClosedContentModel, &path));
            }
        }
        for (i, &us) in u.item_schemas.iter().enumerate().skip(n) {
            let path = format!("items/{i}");
            if open_array(self.o, o) {
                out.push(Difference::at(
                    if self.u.node(us).kind.is_empty() {
                        T::ItemWithEmptySchemaAddedToOpenContentModel
                    } else {
                        T::ItemAddedToOpenContentModel
                    },
                    &path,
                ));
            } else if let Some(partial) = partial_array(self.o, o) {
                let d = self.compare(Some(partial), Some(us));
                let ok = compatible(&d);
                out.extend(rebased(&path, d));
                out.push(Difference::at(
                    if ok {
                        T::ItemAddedIsCoveredByPartiallyOpenContentModel
                    } else {
                        T::ItemAddedNotCoveredByPartiallyOpenContentModel
                    },
                    &path,
                ));
            } else {
                out.push(Difference::at(T::ItemAddedToClosedContentModel, &path));
            }
        }
        // additionalItems
        let (oa, ua) = (o.additional(), u.additional());
        let path = "additionalItems";
        if oa.permits() != ua.permits() {
            out.push(Difference::at(
                if oa.permits() {
                    T::AdditionalItemsRemoved
                } else {
                    T::AdditionalItemsAdded
                },
                path,
            ));
        } else if oa.schema().is_none() && ua.schema().is_some() {
            out.push(Difference::at(T::AdditionalItemsNarrowed, path));
        } else if ua.schema().is_none() && oa.schema().is_some() {
            out.push(Difference::at(T::AdditionalItemsExtended, path));
        } else if oa.schema().is_some() {
            let d = self.compare(oa.schema(), ua.schema());
            out.extend(rebased(path, d));
        }
        self.unevaluated(
            out,
            "unevaluatedItems",
            o.unevaluated,
            u.unevaluated,
            UNEVALUATED_ITEMS,
        );
        bound(out, "maxItems", o.max_items, u.max_items, MAX_ITEMS);
        bound(out, "minItems", o.min_items, u.min_items, MIN_ITEMS);
        if o.unique_items != u.unique_items {
            out.push(Difference::at(
                if o.unique_items {
                    T::UniqueItemsRemoved
                } else {
                    T::UniqueItemsAdded
                },
                "uniqueItems",
            ));
        }
        bound(
            out,
            "maxContains",
            o.max_contains,
            u.max_contains,
            MAX_CONTAINS,
        );
        bound(
            out,
            "minContains",
            o.min_contains,
            u.min_contains,
            MIN_CONTAINS,
        );
    }
}

/// An object that takes any undeclared property: no patterns, and
/// `additionalProperties` absent or `true` with `unevaluatedProperties`
/// absent, `true` or `{}`.
fn open(g: &Graph, o: &Object) -> bool {
    o.pattern_properties.is_empty()
        && o.additional() == Additional::Allowed
        && o.unevaluated.is_none_or(|id| g.node(id).kind.is_empty())
}

/// The schema a partially open object gives an undeclared property: the
/// first matching pattern's, else `additionalProperties`', else (with
/// `additionalProperties` absent or `true`) a non-trivial
/// `unevaluatedProperties`.
fn partial(g: &Graph, o: &Object, key: &str) -> Option<NodeId> {
    for (pattern, id) in &o.pattern_properties {
        if regex::Regex::new(pattern).is_ok_and(|re| re.is_match(key)) {
            return Some(*id);
        }
    }
    if let Some(s) = o.additional().schema() {
        return Some(s);
    }
    if o.additional() == Additional::Allowed {
        return o
            .unevaluated
            .filter(|&id| !matches!(g.node(id).kind, Kind::False) && !g.node(id).kind.is_empty());
    }
    None
}

/// An array that takes any item past its listed ones.
fn open_array(g: &Graph, a: &Array) -> bool {
    a.additional() == Additional::Allowed
        && a.unevaluated.is_none_or(|id| g.node(id).kind.is_empty())
}

/// The schema a partially open array gives items past its listed ones.
fn partial_array(g: &Graph, a: &Array) -> Option<NodeId> {
    if let Some(s) = a.additional().schema() {
        return Some(s);
    }
    if a.additional() == Additional::Allowed {
        return a
            .unevaluated
            .filter(|&id| !matches!(g.node(id).kind, Kind::False) && !g.node(id).kind.is_empty());
    }
    None
}

/// The four changes of a bound keyword: added, removed, increased,
/// decreased (for the `unevaluated*` keywords: added, removed, extended,
/// narrowed).
type BoundChanges = [ChangeType; 4];
const UNEVALUATED_ITEMS: BoundChanges = [
    T::UnevaluatedItemsAdded,
    T::UnevaluatedItemsRemoved,
    T::UnevaluatedItemsExtended,
    T::UnevaluatedItemsNarrowed,
];
const UNEVALUATED_PROPERTIES: BoundChanges = [
    T::UnevaluatedPropertiesAdded,
    T::UnevaluatedPropertiesRemoved,
    T::UnevaluatedPropertiesExtended,
    T::UnevaluatedPropertiesNarrowed,
];
const MAX_LENGTH: BoundChanges = [
    T::MaxLengthAdded,
    T::MaxLengthRemoved,
    T::MaxLengthIncreased,
    T::MaxLengthDecreased,
];
const MIN_LENGTH: BoundChanges = [
    T::MinLengthAdded,
    T::MinLengthRemoved,
    T::MinLengthIncreased,
    T::MinLengthDecreased,
];
const MAXIMUM: BoundChanges = [
    T::MaximumAdded,
    T::MaximumRemoved,
    T::MaximumIncreased,
    T::MaximumDecreased,
];
const MINIMUM: BoundChanges = [
    T::MinimumAdded,
    T::MinimumRemoved,
    T::MinimumIncreased,
    T::MinimumDecreased,
];
const EXCLUSIVE_MAXIMUM: BoundChanges = [
    T::ExclusiveMaximumAdded,
    T::ExclusiveMaximumRemoved,
    T::ExclusiveMaximumIncreased,
    T::ExclusiveMaximumDecreased,
];
const EXCLUSIVE_MINIMUM: BoundChanges = [
    T::ExclusiveMinimumAdded,
    T::ExclusiveMinimumRemoved,
    T::ExclusiveMinimumIncreased,
    T::ExclusiveMinimumDecreased,
];
const MAX_PROPERTIES: BoundChanges = [
    T::MaxPropertiesAdded,
    T::MaxPropertiesRemoved,
    T::MaxPropertiesIncreased,
    T::MaxPropertiesDecreased,
];
const MIN_PROPERTIES: BoundChanges = [
    T::MinPropertiesAdded,
    T::MinPropertiesRemoved,
    T::MinPropertiesIncreased,
    T::MinPropertiesDecreased,
];
const MAX_ITEMS: BoundChanges = [
    T::MaxItemsAdded,
    T::MaxItemsRemoved,
    T::MaxItemsIncreased,
    T::MaxItemsDecreased,
];
const MIN_ITEMS: BoundChanges = [
    T::MinItemsAdded,
    T::MinItemsRemoved,
    T::MinItemsIncreased,
    T::MinItemsDecreased,
];
const MAX_CONTAINS: BoundChanges = [
    T::MaxContainsAdded,
    T::MaxContainsRemoved,
    T::MaxContainsIncreased,
    T::MaxContainsDecreased,
];
const MIN_CONTAINS: BoundChanges = [
    T::MinContainsAdded,
    T::MinContainsRemoved,
    T::MinContainsIncreased,
    T::MinContainsDecreased,
];

fn bound<N: PartialOrd>(
    out: &mut Vec<Difference>,
    keyword: &str,
    original: Option<N>,
    update: Option<N>,
    changes: BoundChanges,
) {
    let [added, removed, increased, decreased] = changes;
    let change = match (original, update) {
        (None, None) => None,
        (None, Some(_)) => Some(added),
        (Some(_), None) => Some(removed),
        (Some(a), Some(b)) if a < b => Some(increased),
        (Some(a), Some(b)) if a > b => Some(decreased),
        _ => None,
    };
    if let Some(change) = change {
        out.push(Difference::at(change, keyword));
    }
}

/// A maximum matching of a bipartite graph (Kuhn's augmenting paths):
/// for each left vertex, the right vertex it is matched to.
fn maximum_matching<E>(edges: &[Vec<(usize, E)>], right: usize) -> Vec<Option<usize>> {
    fn augment<E>(
        v: usize,
        edges: &[Vec<(usize, E)>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for (r, _) in &edges[v] {
            if seen[*r] {
                continue;
            }
            seen[*r] = true;
            if owner[*r].is_none_or(|w| augment(w, edges, seen, owner)) {
                owner[*r] = Some(v);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; right];
    for v in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(v, edges, &mut seen, &mut owner);
    }
    let mut left = vec![None; edges.len()];
    for (r, o) in owner.iter().enumerate() {
        if let Some(l) = o {
            left[*l] = Some(r);
        }
    }
    left
}
