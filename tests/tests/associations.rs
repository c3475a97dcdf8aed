//! Associations through the REST contract, in process: Confluent's answers,
//! its rules and their error codes, and what a restart keeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use scute_tests::{TestRegistry, record_schema};
use serde_json::{Value, json};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

fn order_schema() -> String {
    record_schema("Order", &[("id", json!("long"))])
}

async fn register(r: &TestRegistry, subject: &str, schema: &str) {
    let (status, body) = r
        .call(
            POST,
            &format!("/subjects/{subject}/versions"),
            Some(json!({"schema": schema})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn weak(resource_id: &str, subject: &str) -> Value {
    json!({
        "resourceName": "orders",
        "resourceNamespace": "lkc-1",
        "resourceId": resource_id,
        "associations": [{"subject": subject, "associationType": "value"}]
    })
}

fn assert_error(got: (StatusCode, Value), status: u16, code: i64, message: &str) {
    assert_eq!(got.0.as_u16(), status, "body: {}", got.1);
    assert_eq!(
        got.1,
        json!({"error_code": code, "message": message}),
        "status {}",
        got.0
    );
}

/// The one association listed, with its server-made fields checked and
/// taken out.
fn only(list: &Value) -> Value {
    let items = list.as_array().expect("a list");
    assert_eq!(items.len(), 1, "{list}");
    let mut item = items[0].clone();
    let object = item.as_object_mut().unwrap();
    let guid = object.shift_remove("guid").unwrap();
    assert_eq!(guid.as_str().unwrap().len(), 36, "a UUID: {guid}");
    assert!(object.shift_remove("createTs").unwrap().as_i64().unwrap() > 0);
    item
}

#[tokio::test]
async fn a_weak_association_points_a_topic_at_a_subject() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "orders-custom", &order_schema()).await;

    let (status, body) = r
        .call(POST, "/associations", Some(weak("rid-1", "orders-custom")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body.to_string(),
        json!({
            "resourceName": "orders", "resourceNamespace": "lkc-1", "resourceId": "rid-1",
            "resourceType": "topic",
            "associations": [{"subject": "orders-custom", "associationType": "value",
                "lifecycle": "WEAK", "frozen": false}]
        })
        .to_string()
    );
    // The same create again changes nothing, and says so by listing nothing.
    let (status, again) = r
        .call(POST, "/associations", Some(weak("rid-1", "orders-custom")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(again.get("associations").is_none(), "{again}");

    let expected = json!({
        "subject": "orders-custom", "resourceName": "orders", "resourceNamespace": "lkc-1",
        "resourceId": "rid-1", "resourceType": "topic", "associationType": "value",
        "lifecycle": "WEAK", "frozen": false
    })
    .to_string();
    for path in [
        "/associations/resources/lkc-1/orders",
        "/associations/resources/-/orders",
        "/associations/resources/-/-",
        "/associations/resources/rid-1",
        "/associations/subjects/orders-custom",
        "/associations/subjects/orders-custom?lifecycle=WEAK&associationType=value",
        "/associations?resourceName=orders&resourceNamespace=-&resourceType=topic&associationType=value",
    ] {
        let (status, list) = r.call(GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(only(&list).to_string(), expected, "{path}");
    }
    for path in [
        "/associations/resources/lkc-2/orders",
        "/associations/resources/rid-1?associationType=key",
        "/associations/subjects/orders-custom?lifecycle=STRONG",
        "/associations?resourceName=payments",
    ] {
        assert_eq!(r.call(GET, path, None).await, (StatusCode::OK, json!([])));
    }
    // An enum query parameter that does not convert is JAX-RS's 404.
    let (status, _) = r
        .call(
            GET,
            "/associations/subjects/orders-custom?lifecycle=strong",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // While associated, the subject cannot go.
    assert_error(
        r.call(DELETE, "/subjects/orders-custom", None).await,
        409,
        40904,
        "An association already exists for subject 'orders-custom'",
    );
    // A second value association for the topic is refused.
    register(&r, "orders-other", &order_schema()).await;
    assert_error(
        r.call(POST, "/associations", Some(weak("rid-1", "orders-other")))
            .await,
        409,
        40903,
        "An association of type 'value' already exists for resource 'orders'",
    );

    let (status, _) = r.call(DELETE, "/associations/resources/rid-1", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.call(GET, "/associations/resources/rid-1", None).await,
        (StatusCode::OK, json!([]))
    );
    assert_error(
        r.call(DELETE, "/associations/resources/rid-1", None).await,
        404,
        40410,
        "Association for 'rid-1' not found.",
    );
    // A WEAK association leaves its subject alone, which can now go.
    let (status, versions) = r.call(DELETE, "/subjects/orders-custom", None).await;
    assert_eq!((status, versions), (StatusCode::OK, json!([1])));
}

#[tokio::test]
async fn a_strong_association_registers_its_subject_and_takes_it_away() {
    let r = TestRegistry::start().await.unwrap();
    let request = json!({
        "resourceName": "orders", "resourceNamespace": "lkc-1", "resourceId": "rid-2",
        "associations": [{"schema": {"schema": order_schema()}}]
    });
    let (status, body) = r.call(POST, "/associations", Some(request)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let info = &body["associations"][0];
    assert_eq!(info["subject"], ":.lkc-1:orders-value");
    assert_eq!(info["lifecycle"], "STRONG");
    assert_eq!(info["frozen"], true);
    assert_eq!(info["schema"]["version"], 1);
    assert_eq!(info["schema"]["id"], 1);
    let (status, latest) = r
        .call(GET, "/subjects/:.lkc-1:orders-value/versions/latest", None)
        .await;
    assert_eq!((status, latest["id"].clone()), (StatusCode::OK, json!(1)));

    // Its subject is the topic's alone: nothing may reference it.
    let referrer = json!({
        "schema": record_schema("Wrapper", &[("order", json!("Order"))]),
        "references": [{"name": "Order", "subject": ":.lkc-1:orders-value", "version": 1}]
    });
    assert_error(
        r.call(POST, "/subjects/wrapper-value/versions", Some(referrer))
            .await,
        422,
        42205,
        "Subject ':.lkc-1:orders-value' has a strong association and cannot be referenced",
    );
    // Frozen: no delete without the cascade.
    assert_error(
        r.call(DELETE, "/associations/resources/rid-2", None).await,
        409,
        40908,
        "The association of type  'value' is frozen for subject ':.lkc-1:orders-value'",
    );
    let (status, _) = r
        .call(
            DELETE,
            "/associations/resources/rid-2?cascadeLifecycle=true&dryRun=true",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.call(GET, "/associations/resources/rid-2", None)
            .await
            .1
            .as_array()
            .map(Vec::len),
        Some(1),
        "a dry run deletes nothing"
    );
    let (status, _) = r
        .call(
            DELETE,
            "/associations/resources/rid-2?cascadeLifecycle=true&async=true",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_error(
        r.call(GET, "/subjects/:.lkc-1:orders-value/versions", None)
            .await,
        404,
        40401,
        "Subject ':.lkc-1:orders-value' not found.",
    );
    // Soft and then permanently deleted: not even among deleted subjects.
    let (_, deleted) = r.call(GET, "/subjects?deleted=true", None).await;
    assert_eq!(deleted, json!([]));
}

#[tokio::test]
async fn rules_answer_with_confluents_codes() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "shared", &order_schema()).await;
    let invalid = |property: &str, reason: &str| {
        format!(
            "The association specified an invalid value for property: '{property}', reason: {reason}"
        )
    };
    let cases = [
        (
            json!({"resourceName": "orders.v1", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": "shared"}]}),
            invalid("resourceName", "illegal character '.'"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns",
                "associations": [{"subject": "shared"}]}),
            invalid("resourceId", "cannot be null or empty"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "resourceType": "table", "associations": [{"subject": "shared"}]}),
            invalid("resourceType", "must be 'topic'"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": []}),
            invalid("associations", "cannot be null or empty"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": "shared", "associationType": "both"}]}),
            invalid("associationType", "must be either 'key' or 'value'"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": "shared"}, {"subject": "shared"}]}),
            invalid(
                "associationType",
                "may only appear once per request, but 'value' appears more than once",
            ),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"associationType": "key"}]}),
            invalid("subject", "must be provided for WEAK associations"),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": "shared", "lifecycle": "STRONG", "frozen": false}]}),
            invalid(
                "frozen",
                "association with lifecycle of STRONG cannot be frozen=false",
            ),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": "shared", "lifecycle": "STRONG"}]}),
            invalid(
                "subject",
                "frozen associations must use subject ':.ns:orders-value'",
            ),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"subject": ":.ns:orders-value"}]}),
            invalid(
                "subject",
                "WEAK associations cannot use subject ':.ns:orders-value'",
            ),
        ),
        (
            json!({"resourceName": "orders", "resourceNamespace": "ns", "resourceId": "r",
                "associations": [{"lifecycle": "STRONG", "frozen": true}]}),
            invalid(
                "schema",
                "schema must be provided when creating a frozen association",
            ),
        ),
    ];
    for (request, message) in cases {
        assert_error(
            r.call(POST, "/associations", Some(request.clone())).await,
            422,
            42212,
            &message,
        );
    }
    // A subject with no live version cannot be associated without a schema.
    assert_error(
        r.call(POST, "/associations", Some(weak("r1", "nothing-here")))
            .await,
        409,
        40907,
        "No active (non-deleted) version exists for subject 'nothing-here'",
    );
    // One subject, several WEAK associations: fine; then a STRONG one is not.
    for id in ["r1", "r2"] {
        let mut request = weak(id, "shared");
        request["resourceName"] = json!(format!("topic-{id}"));
        let (status, body) = r.call(POST, "/associations", Some(request)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        r.call(GET, "/associations/subjects/shared", None)
            .await
            .1
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // A lifecycle that is not one of the enum's names is Jackson's 400.
    let mut request = weak("r3", "shared");
    request["associations"][0]["lifecycle"] = json!("weak");
    let (status, body) = r.call(POST, "/associations", Some(request)).await;
    assert_eq!(
        (status.as_u16(), body["error_code"].clone()),
        (400, json!(400))
    );
    // A STRONG association cannot take over a subject that holds another
    // schema already.
    register(&r, ":.ns:pay-value", &order_schema()).await;
    let incompatible = json!({
        "resourceName": "pay", "resourceNamespace": "ns", "resourceId": "r4",
        "associations": [{"schema": {"schema": record_schema("Order", &[("id", json!("string"))])}}]
    });
    assert_error(
        r.call(POST, "/associations", Some(incompatible)).await,
        422,
        42212,
        &invalid(
            "frozen",
            "cannot create a frozen association when schemas already exist in the subject",
        ),
    );
}

#[tokio::test]
async fn put_creates_or_updates_and_keeps_what_it_must() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "orders-custom", &order_schema()).await;
    register(&r, "orders-keys", &order_schema()).await;
    let body = json!({
        "resourceName": "orders", "resourceNamespace": "lkc-1",
        "associations": [{"subject": "orders-custom"}]
    });
    let (status, created) = r
        .call(PUT, "/associations/resources/rid-9", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["resourceId"], "rid-9");
    let (_, before) = r.call(GET, "/associations/resources/rid-9", None).await;

    // An update that changes the subject is refused; the id must match.
    let mut moved = body.clone();
    moved["associations"][0] = json!({"subject": "orders-other", "lifecycle": "WEAK"});
    assert_error(
        r.call(PUT, "/associations/resources/rid-9", Some(moved))
            .await,
        422,
        42212,
        "The association specified an invalid value for property: 'subject', reason: subject of association cannot be changed from 'orders-custom' to 'orders-other'",
    );
    let mut other_id = body.clone();
    other_id["resourceId"] = json!("rid-8");
    assert_error(
        r.call(PUT, "/associations/resources/rid-9", Some(other_id))
            .await,
        422,
        42212,
        "The association specified an invalid value for property: 'resourceId', reason: Resource ID in the path parameter does not match the resource ID in the request body",
    );
    // PUT cannot make a STRONG association.
    let strong_key = json!({
        "resourceName": "orders", "resourceNamespace": "lkc-1",
        "associations": [{"associationType": "key", "lifecycle": "STRONG", "frozen": true,
            "schema": {"schema": order_schema()}}]
    });
    assert_error(
        r.call(PUT, "/associations/resources/rid-9", Some(strong_key))
            .await,
        422,
        42212,
        "The association specified an invalid value for property: 'lifecycle', reason: cannot be STRONG when creating an association; STRONG associations must be created with the topic",
    );
    // Adding a key association keeps the value one as it was.
    let key = json!({
        "resourceName": "orders", "resourceNamespace": "lkc-1",
        "associations": [{"subject": "orders-keys", "associationType": "key"}]
    });
    let (status, added) = r
        .call(PUT, "/associations/resources/rid-9", Some(key))
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let (_, after) = r.call(GET, "/associations/resources/rid-9", None).await;
    assert_eq!(after.as_array().unwrap().len(), 2);
    assert_eq!(after[0]["associationType"], "key", "listed in type order");
    assert_eq!(after[1], before[0], "guid and createTs kept");

    // Both survive a restart.
    let dir = r.stop().await.unwrap();
    let r = TestRegistry::start_in(dir).await.unwrap();
    assert_eq!(
        r.call(GET, "/associations/resources/rid-9", None).await,
        (StatusCode::OK, after)
    );
}

#[tokio::test]
async fn batches_answer_each_request_on_its_own() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "orders-custom", &order_schema()).await;
    let mutate = json!({"requests": [
        {"resourceName": "orders", "resourceNamespace": "lkc-1", "resourceId": "rid-1",
         "associations": [{"opType": "CREATE", "subject": "orders-custom"}]},
        {"resourceName": "pay", "resourceNamespace": "lkc-1", "resourceId": "rid-2",
         "associations": [{"opType": "CREATE", "subject": "missing"}]},
        {"resourceName": "audit", "resourceNamespace": "lkc-1", "resourceId": "rid-3",
         "associations": [{"opType": "CREATE", "schema": {"schema": order_schema()}}]}
    ]});
    let (status, body) = r
        .call(POST, "/associations:batchMutate", Some(mutate))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(
        results[0]["result"]["associations"][0]["subject"],
        "orders-custom"
    );
    assert_eq!(
        results[1],
        json!({"error": {"error_code": 40907,
            "message": "No active (non-deleted) version exists for subject 'missing'"}})
    );
    assert_eq!(
        results[2]["result"]["associations"][0]["schema"]["subject"],
        ":.lkc-1:audit-value"
    );

    let get = json!({"requests": [
        {"resourceName": "orders"},
        {"resourceId": "rid-3"},
        {"resourceName": "nothing", "resourceNamespace": "lkc-1"}
    ]});
    let (status, body) = r
        .call(
            POST,
            "/associations:batchGet?includeSchemas=true",
            Some(get),
        )
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["result"]["resourceNamespace"], "lkc-1");
    assert_eq!(results[0]["result"]["resourceId"], "rid-1");
    assert_eq!(
        results[0]["result"]["associations"][0]["schema"]["subject"],
        "orders-custom"
    );
    assert_eq!(results[1]["result"]["resourceName"], "audit");
    assert_eq!(
        results[2],
        json!({"result": {"resourceName": "nothing", "resourceNamespace": "lkc-1",
            "resourceType": "topic"}})
    );

    let delete = json!({"requests": [
        {"resourceName": "audit", "resourceNamespace": "lkc-1", "resourceId": "rid-3",
         "associations": [{"opType": "DELETE", "cascadeLifecycle": true}]}
    ]});
    let (status, body) = r
        .call(POST, "/associations:batchMutate", Some(delete))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(
        body,
        json!({"results": [{"result": {"resourceName": "audit", "resourceNamespace": "lkc-1",
            "resourceId": "rid-3", "resourceType": "topic"}}]})
    );
    let (status, _) = r
        .call(GET, "/subjects/:.lkc-1:audit-value/versions", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(
        r.call(
            POST,
            "/associations:batchGet",
            Some(json!({"requests": []})),
        )
        .await,
        422,
        42212,
        "The association specified an invalid value for property: 'requests', reason: cannot be null or empty",
    );
}

#[tokio::test]
async fn an_associated_subject_keeps_a_live_version() {
    let r = TestRegistry::start().await.unwrap();
    register(&r, "orders-custom", &order_schema()).await;
    let (status, _) = r
        .call(POST, "/associations", Some(weak("rid-1", "orders-custom")))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Its last live version cannot be soft-deleted...
    assert_error(
        r.call(DELETE, "/subjects/orders-custom/versions/1", None)
            .await,
        409,
        40907,
        "No active (non-deleted) version exists for subject 'orders-custom'",
    );
    // ...but one of several can, and not permanently while associated.
    let v2 = json!({"type": "record", "name": "Order", "fields": [
        {"name": "id", "type": "long"},
        {"name": "note", "type": "string", "default": ""}
    ]})
    .to_string();
    register(&r, "orders-custom", &v2).await;
    let (status, body) = r
        .call(DELETE, "/subjects/orders-custom/versions/1", None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!(1)));
    assert_error(
        r.call(
            DELETE,
            "/subjects/orders-custom/versions/1?permanent=true",
            None,
        )
        .await,
        409,
        40904,
        "An association already exists for subject 'orders-custom'",
    );
}
