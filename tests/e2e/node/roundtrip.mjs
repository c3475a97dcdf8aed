// @kafkajs/confluent-schema-registry, a Node client nobody here wrote, against
// a running Scute's REST API. Prints one JSON report on stdout; the
// end-to-end test (tests/e2e/test_npm_client.py) asserts on it.
//
//   node roundtrip.mjs URL                 the whole run, AVRO and JSON
//   node roundtrip.mjs URL decode B64...   decode Confluent frames (base64)
//                                          with this client, print them
//
// Exits non-zero, with the error on stderr, when a step the report cannot
// describe fails (an unexpected exception).

import {
  COMPATIBILITY,
  SchemaRegistry,
  SchemaType,
} from "@kafkajs/confluent-schema-registry";

const [url, mode, ...rest] = process.argv.slice(2);
if (!url) {
  console.error("usage: node roundtrip.mjs REGISTRY_URL [decode BASE64...]");
  process.exit(2);
}

// No retries: a failure must show at once, not after back-off.
const newRegistry = () => new SchemaRegistry({ host: url, retry: { retries: 0 } });

// What a caller sees of a thrown error.
function describe(err) {
  return {
    name: err?.name ?? null,
    status: err?.status ?? null,
    message: String(err?.message ?? err),
    paths: err?.paths ?? null,
  };
}

async function expectFailure(fn) {
  try {
    const value = await fn();
    return { failed: false, value };
  } catch (err) {
    return { failed: true, error: describe(err) };
  }
}

const b64 = (buf) => Buffer.from(buf).toString("base64");
const frameId = (buf) => buf.readUInt32BE(1);

const USER_V1 = {
  type: "record",
  name: "User",
  namespace: "com.example.scute.node",
  fields: [
    { name: "id", type: "int" },
    { name: "name", type: "string" },
    { name: "email", type: ["null", "string"], default: null },
    { name: "tags", type: { type: "array", items: "string" } },
  ],
};
// BACKWARD compatible: a new field with a default.
const USER_V2 = {
  ...USER_V1,
  fields: [...USER_V1.fields, { name: "score", type: "double", default: 0.5 }],
};
// Not BACKWARD compatible: a new field without a default.
const USER_BAD = {
  ...USER_V1,
  fields: [...USER_V1.fields, { name: "country", type: "string" }],
};

const PRODUCT = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Product",
  type: "object",
  properties: {
    id: { type: "integer" },
    name: { type: "string", maxLength: 100 },
    price: { type: "number", minimum: 0 },
  },
  required: ["id", "name"],
};

async function run() {
  const registry = newRegistry();
  const report = { avro: {}, json: {} };
  const avro = report.avro;
  const subject = "node-users-value";

  // --- AVRO ---------------------------------------------------------------
  const v1 = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(USER_V1) },
    { subject },
  );
  avro.v1_id = v1.id;

  const record = { id: 7, name: "Ada ✓", email: "ada@example.com", tags: ["math", "engines"] };
  avro.record_v1 = record;
  const encoded = await registry.encode(v1.id, record);
  avro.encoded_v1_b64 = b64(encoded);
  avro.encoded_v1_frame_id = frameId(encoded);
  // A second client with an empty cache fetches the writer schema by id.
  avro.decoded_v1 = await newRegistry().decode(encoded);

  avro.latest_id_after_v1 = await newRegistry().getLatestSchemaId(subject);
  avro.id_by_schema_v1 = await newRegistry().getRegistryIdBySchema(subject, {
    type: SchemaType.AVRO,
    schema: JSON.stringify(USER_V1),
  });
  avro.id_by_unregistered_schema = await expectFailure(() =>
    newRegistry().getRegistryIdBySchema(subject, {
      type: SchemaType.AVRO,
      schema: JSON.stringify(USER_V2),
    }),
  );
  // Registering the same schema again is the same id.
  avro.v1_again_id = (
    await newRegistry().register(
      { type: SchemaType.AVRO, schema: JSON.stringify(USER_V1) },
      { subject },
    )
  ).id;

  // Evolution: v2 under the same subject.
  const v2 = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(USER_V2) },
    { subject, compatibility: COMPATIBILITY.BACKWARD },
  );
  avro.v2_id = v2.id;
  avro.latest_id_after_v2 = await newRegistry().getLatestSchemaId(subject);
  avro.id_of_version_1 = await newRegistry().getRegistryId(subject, 1);
  const record2 = { ...record, id: 8, score: -2.25 };
  const encoded2 = await registry.encode(v2.id, record2);
  avro.record_v2 = record2;
  avro.encoded_v2_b64 = b64(encoded2);
  avro.decoded_v2 = await newRegistry().decode(encoded2);
  // Old bytes after the evolution: as written, and read with the v2 schema.
  avro.decoded_v1_after_v2 = await newRegistry().decode(encoded);
  avro.decoded_v1_as_v2 = await newRegistry().decode(encoded, {
    [SchemaType.AVRO]: { readerSchema: USER_V2 },
  });

  // An incompatible change is refused by the registry.
  avro.incompatible = await expectFailure(() =>
    newRegistry().register(
      { type: SchemaType.AVRO, schema: JSON.stringify(USER_BAD) },
      { subject },
    ),
  );
  avro.latest_id_after_incompatible = await newRegistry().getLatestSchemaId(subject);

  // The client refuses to register when the subject's level is not the one it asks for.
  avro.compatibility_mismatch = await expectFailure(() =>
    newRegistry().register(
      { type: SchemaType.AVRO, schema: JSON.stringify(USER_V2) },
      { subject, compatibility: COMPATIBILITY.FULL },
    ),
  );

  // A record the schema rejects.
  avro.invalid_record = await expectFailure(() =>
    registry.encode(v1.id, { id: "seven", name: "x", email: null, tags: [] }),
  );

  // --- JSON ---------------------------------------------------------------
  const json = report.json;
  const jsubject = "node-products-value";
  const j = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(PRODUCT) },
    { subject: jsubject },
  );
  json.id = j.id;
  const product = { id: 42, name: "kettle", price: 19.5 };
  json.record = product;
  const jencoded = await registry.encode(j.id, product);
  json.encoded_b64 = b64(jencoded);
  json.encoded_frame_id = frameId(jencoded);
  json.decoded = await newRegistry().decode(jencoded);
  json.latest_id = await newRegistry().getLatestSchemaId(jsubject);
  json.id_by_schema = await newRegistry().getRegistryIdBySchema(jsubject, {
    type: SchemaType.JSON,
    schema: JSON.stringify(PRODUCT),
  });
  json.invalid_record = await expectFailure(() =>
    newRegistry().encode(j.id, { id: "not a number", name: "x" }),
  );
  json.missing_required = await expectFailure(() =>
    newRegistry().encode(j.id, { id: 1 }),
  );
  return report;
}

async function decodeFrames(frames) {
  const registry = newRegistry();
  const decoded = [];
  for (const f of frames) {
    decoded.push(await registry.decode(Buffer.from(f, "base64")));
  }
  return { decoded };
}

try {
  const out = mode === "decode" ? await decodeFrames(rest) : await run();
  process.stdout.write(JSON.stringify(out) + "\n");
} catch (err) {
  console.error(err?.stack ?? String(err));
  process.exit(1);
}
