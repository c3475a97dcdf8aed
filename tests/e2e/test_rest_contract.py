"""A smoke test of the Confluent REST contract as any HTTP client sees it.

Plain `requests`: content types, error body shapes and status codes that
Confluent's clients (Java, Go, Python, kcat, UIs) depend on.
"""

from __future__ import annotations

import json

import requests

VND = "application/vnd.schemaregistry.v1+json"
STRING_SCHEMA = json.dumps({"type": "string"})


def test_root_answers_empty_object(scute):
    r = requests.get(scute.url + "/", timeout=10)
    assert r.status_code == 200
    assert r.json() == {}


def test_responses_carry_the_registry_content_type(scute):
    for path in ("/subjects", "/config", "/schemas/types"):
        r = requests.get(scute.url + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert r.headers.get("Content-Type", "").startswith(VND), (path, r.headers.get("Content-Type"))
    assert requests.get(scute.url + "/subjects", timeout=10).json() == []
    assert requests.get(scute.url + "/config", timeout=10).json() == {"compatibilityLevel": "BACKWARD"}
    types = requests.get(scute.url + "/schemas/types", timeout=10).json()
    assert "AVRO" in types and set(types) <= {"AVRO", "JSON", "PROTOBUF"}, types


def test_subject_not_found_body(scute):
    r = requests.get(scute.url + "/subjects/x/versions", timeout=10)
    assert r.status_code == 404
    assert r.headers.get("Content-Type", "").startswith(VND)
    assert r.json() == {"error_code": 40401, "message": "Subject 'x' not found."}

    r = requests.get(scute.url + "/subjects/x/versions/latest", timeout=10)
    assert r.status_code == 404
    assert r.json() == {"error_code": 40401, "message": "Subject 'x' not found."}


def test_schema_not_found_body(scute):
    r = requests.get(scute.url + "/schemas/ids/987654", timeout=10)
    assert r.status_code == 404
    assert r.json() == {"error_code": 40403, "message": "Schema 987654 not found"}


def test_version_not_found_and_invalid_version(scute):
    r = requests.post(scute.url + "/subjects/v/versions", json={"schema": STRING_SCHEMA}, headers={"Content-Type": VND}, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.get(scute.url + "/subjects/v/versions/2", timeout=10)
    assert r.status_code == 404
    assert r.json() == {"error_code": 40402, "message": "Version 2 not found."}
    r = requests.get(scute.url + "/subjects/v/versions/0", timeout=10)
    assert r.status_code == 422
    assert r.json()["error_code"] == 42202


def test_text_plain_body_is_415(scute):
    r = requests.post(
        scute.url + "/subjects/t/versions",
        data=json.dumps({"schema": STRING_SCHEMA}),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert r.status_code == 415, (r.status_code, r.text)
    # Nothing was registered.
    assert requests.get(scute.url + "/subjects", timeout=10).json() == []


def test_accepted_request_content_types(scute):
    ids = set()
    for i, ctype in enumerate(
        (VND, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream")
    ):
        r = requests.post(
            scute.url + f"/subjects/ct-{i}/versions",
            data=json.dumps({"schema": STRING_SCHEMA}),
            headers={"Content-Type": ctype},
            timeout=10,
        )
        assert r.status_code == 200, (ctype, r.status_code, r.text)
        assert r.headers.get("Content-Type", "").startswith(VND)
        ids.add(r.json()["id"])
    # One schema, one id, whatever subject it went to.
    assert len(ids) == 1


def test_register_and_fetch_shapes(scute):
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    r = requests.post(scute.url + "/subjects/shape/versions", json={"schema": schema}, headers={"Content-Type": VND}, timeout=10)
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    assert isinstance(sid, int) and sid > 0

    r = requests.get(scute.url + "/subjects/shape/versions/1", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert (body["subject"], body["version"], body["id"]) == ("shape", 1, sid)
    assert json.loads(body["schema"]) == json.loads(schema)

    r = requests.get(scute.url + "/subjects/shape/versions/latest/schema", timeout=10)
    assert r.status_code == 200
    assert r.json() == json.loads(schema)

    r = requests.get(scute.url + "/subjects/shape/versions", timeout=10)
    assert r.json() == [1]
