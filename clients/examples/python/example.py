"""Scute's gRPC API from Python, with stubs generated from registry.proto.

    ./generate.sh                      # stubs into gen/
    python example.py                  # against localhost:50051
    python example.py HOST:PORT [--stubs DIR] [--subject NAME]

Registers an AVRO schema, fetches it back by id, lists subjects, checks an
incompatible change, then tries to register it and prints the Confluent error
code the failure carries (a google.rpc.ErrorInfo in the status details, with
metadata "error_code"), as it does for an id that does not exist.
Exits non-zero if a step does not go as described.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

USER_V1 = {
    "type": "record",
    "name": "User",
    "namespace": "com.example.grpc",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
    ],
}
# Not BACKWARD compatible with v1: a new field without a default, so a reader
# with this schema cannot read what v1 wrote.
USER_INCOMPATIBLE = dict(USER_V1, fields=USER_V1["fields"] + [{"name": "email", "type": "string"}])

# An id no registry hands out this early.
UNKNOWN_ID = 987654


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", nargs="?", default="localhost:50051", help="Scute's gRPC address")
    parser.add_argument("--stubs", default=str(here / "gen"), help="where generate.sh wrote the stubs")
    parser.add_argument("--subject", default="example-users-value")
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    try:
        import grpc
        from google.rpc import error_details_pb2
        from grpc_status import rpc_status
        from scute.registry.v1 import registry_pb2 as pb
        from scute.registry.v1 import registry_pb2_grpc as pb_grpc
    except ImportError as e:
        print(f"cannot import the stubs or grpc ({e}): pip install -r requirements.txt, then ./generate.sh", file=sys.stderr)
        return 2

    def confluent_error(err: grpc.RpcError) -> tuple[str, str, str]:
        """(grpc code, Confluent error_code, ErrorInfo reason) of a failed call."""
        status = rpc_status.from_call(err)  # decodes grpc-status-details-bin
        error_code = reason = "?"
        for detail in status.details if status is not None else []:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                error_code = info.metadata.get("error_code", "?")
                reason = info.reason
        return err.code().name, error_code, reason

    try:
        return run(args, grpc, pb, pb_grpc, confluent_error)
    except grpc.RpcError as err:
        code, error_code, reason = confluent_error(err)
        print(f"call failed: code={code} error_code={error_code} reason={reason}: {err.details()}", file=sys.stderr)
        return 1


def run(args, grpc, pb, pb_grpc, confluent_error) -> int:
    with grpc.insecure_channel(args.address) as channel:
        stub = pb_grpc.SchemaRegistryStub(channel)

        registered = stub.RegisterSchema(
            pb.RegisterSchemaRequest(subject=args.subject, schema=json.dumps(USER_V1), schema_type="AVRO"),
            timeout=10,
        )
        print(f"registered: subject={registered.subject} version={registered.version} id={registered.id}")

        fetched = stub.GetSchemaById(pb.GetSchemaByIdRequest(id=registered.id), timeout=10)
        print(f"fetched: id={fetched.id} type={fetched.schema_type} schema={fetched.schema}")
        if json.loads(fetched.schema) != USER_V1:
            print("the fetched schema is not the registered one", file=sys.stderr)
            return 1

        subjects = stub.ListSubjects(pb.ListSubjectsRequest(), timeout=10)
        print(f"subjects: {', '.join(subjects.subjects)}")

        check = stub.CheckCompatibility(
            pb.CheckCompatibilityRequest(
                subject=args.subject,
                version="latest",
                schema=json.dumps(USER_INCOMPATIBLE),
                schema_type="AVRO",
                verbose=True,
            ),
            timeout=10,
        )
        print(f"compatible: {str(check.is_compatible).lower()}")
        for message in check.messages:
            print(f"  {message}")

        try:
            stub.RegisterSchema(
                pb.RegisterSchemaRequest(subject=args.subject, schema=json.dumps(USER_INCOMPATIBLE), schema_type="AVRO"),
                timeout=10,
            )
        except grpc.RpcError as err:
            code, error_code, reason = confluent_error(err)
            print(f"register refused: code={code} error_code={error_code} reason={reason}")
            print(f"  {err.details()}")
        else:
            print("the incompatible schema was registered", file=sys.stderr)
            return 1

        try:
            stub.GetSchemaById(pb.GetSchemaByIdRequest(id=UNKNOWN_ID), timeout=10)
        except grpc.RpcError as err:
            code, error_code, reason = confluent_error(err)
            print(f"unknown id {UNKNOWN_ID}: code={code} error_code={error_code} reason={reason}")
        else:
            print(f"schema id {UNKNOWN_ID} exists", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
