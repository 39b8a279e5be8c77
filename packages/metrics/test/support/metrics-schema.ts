// The exposition messages of package `io.prometheus.client` as a protobufjs JSON descriptor, for
// decoding /metrics bodies in the tests with a generic protobuf library, independently of the
// SDK's hand-written encoder. Message, field names, types and numbers are those of the upstream
// schema (prometheus/client_model, io/prometheus/client/metrics.proto, Apache License 2.0,
// Copyright 2013 Prometheus Team); this descriptor was written from it for these tests. Only the
// wire facts matter here: a wrong number or type would make the decoded series differ from the
// text exposition, and the test fail.
import protobuf from 'protobufjs';

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

const timestamp = { fields: { seconds: f(1, 'int64'), nanos: f(2, 'int32') } };

const client = {
  LabelPair: { fields: { name: f(1, 'string'), value: f(2, 'string') } },
  MetricType: {
    values: { COUNTER: 0, GAUGE: 1, SUMMARY: 2, UNTYPED: 3, HISTOGRAM: 4, GAUGE_HISTOGRAM: 5 },
  },
  Gauge: { fields: { value: f(1, 'double') } },
  Counter: {
    fields: {
      value: f(1, 'double'),
      exemplar: f(2, 'Exemplar'),
      createdTimestamp: f(3, 'google.protobuf.Timestamp'),
    },
  },
  Quantile: { fields: { quantile: f(1, 'double'), value: f(2, 'double') } },
  Summary: {
    fields: {
      sampleCount: f(1, 'uint64'),
      sampleSum: f(2, 'double'),
      quantile: f(3, 'Quantile', 'repeated'),
      createdTimestamp: f(4, 'google.protobuf.Timestamp'),
    },
  },
  Untyped: { fields: { value: f(1, 'double') } },
  Histogram: {
    fields: {
      sampleCount: f(1, 'uint64'),
      sampleCountFloat: f(4, 'double'),
      sampleSum: f(2, 'double'),
      bucket: f(3, 'Bucket', 'repeated'),
      createdTimestamp: f(15, 'google.protobuf.Timestamp'),
      schema: f(5, 'sint32'),
      zeroThreshold: f(6, 'double'),
      zeroCount: f(7, 'uint64'),
      zeroCountFloat: f(8, 'double'),
      negativeSpan: f(9, 'BucketSpan', 'repeated'),
      negativeDelta: f(10, 'sint64', 'repeated'),
      negativeCount: f(11, 'double', 'repeated'),
      positiveSpan: f(12, 'BucketSpan', 'repeated'),
      positiveDelta: f(13, 'sint64', 'repeated'),
      positiveCount: f(14, 'double', 'repeated'),
      exemplars: f(16, 'Exemplar', 'repeated'),
    },
  },
  Bucket: {
    fields: {
      cumulativeCount: f(1, 'uint64'),
      cumulativeCountFloat: f(4, 'double'),
      upperBound: f(2, 'double'),
      exemplar: f(3, 'Exemplar'),
    },
  },
  BucketSpan: { fields: { offset: f(1, 'sint32'), length: f(2, 'uint32') } },
  Exemplar: {
    fields: {
      label: f(1, 'LabelPair', 'repeated'),
      value: f(2, 'double'),
      timestamp: f(3, 'google.protobuf.Timestamp'),
    },
  },
  Metric: {
    fields: {
      label: f(1, 'LabelPair', 'repeated'),
      gauge: f(2, 'Gauge'),
      counter: f(3, 'Counter'),
      summary: f(4, 'Summary'),
      untyped: f(5, 'Untyped'),
      histogram: f(7, 'Histogram'),
      timestampMs: f(6, 'int64'),
    },
  },
  MetricFamily: {
    fields: {
      name: f(1, 'string'),
      help: f(2, 'string'),
      type: f(3, 'MetricType'),
      metric: f(4, 'Metric', 'repeated'),
      unit: f(5, 'string'),
    },
  },
};

// proto2: optional fields have explicit presence (protobufjs reads JSON descriptors as proto3
// unless told), so a field written with its default value (a 0 offset, the COUNTER type) is seen
const proto2 = <T extends Record<string, object>>(types: T): T =>
  Object.fromEntries(Object.entries(types).map(([k, v]) => [k, { ...v, edition: 'proto2' }])) as T;

const root = protobuf.Root.fromJSON({
  nested: {
    google: { nested: { protobuf: { nested: proto2({ Timestamp: timestamp }) } } },
    io: { nested: { prometheus: { nested: { client: { nested: proto2(client) } } } } },
  },
} as protobuf.INamespace);

const MetricFamily = root.lookupType('io.prometheus.client.MetricFamily');

export interface Decoded {
  name: string;
  help: string;
  type: string;
  metric: Array<Record<string, unknown> & { label?: Array<{ name: string; value: string }> }>;
}

/** Every length-delimited `MetricFamily` of a body, as plain objects (numbers, enum names). */
export function decodeFamilies(body: Uint8Array): Decoded[] {
  const reader = protobuf.Reader.create(body);
  const out: Decoded[] = [];
  while (reader.pos < reader.len) {
    const msg = MetricFamily.decodeDelimited(reader);
    out.push(
      MetricFamily.toObject(msg, { longs: Number, enums: String, defaults: false, arrays: true }) as Decoded,
    );
  }
  return out;
}
