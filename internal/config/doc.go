// Package config holds Kafka's topic and broker configurations under Kafka's own names,
// types, defaults and validation rules (Kafka 4.0 is the reference), plus the few
// Waybill-specific settings, which are prefixed "waybill.".
//
// Three things live here:
//
//   - The tables of known configs (topic_specs.go, broker_specs.go). A topic config may
//     name broker configs as its synonyms, in precedence order (retention.ms has
//     log.retention.ms, log.retention.minutes, log.retention.hours): a topic without an
//     override takes its value from the first synonym set on the broker, else from the
//     first synonym that has a default, else from its own default.
//   - Typed views: Broker (ParseBroker) and Topic (ParseTopic, overrides resolved against
//     a Broker's defaults).
//   - The DescribeConfigs view (DescribeTopic, DescribeBroker) and the AlterConfigs and
//     IncrementalAlterConfigs helpers that compute a topic's new override map.
//
// Every validation failure is an *Error, which wraps kerr.InvalidConfig (or, for a
// malformed request, kerr.InvalidRequest) so that a handler can answer with the right
// Kafka error code and pass Error() on as the error message.
//
// Override maps (map[string]string, config name to raw value) are what the metadata log
// stores. Functions here never modify a map they are given; returned maps are new.
package config
