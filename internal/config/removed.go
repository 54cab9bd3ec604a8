package config

// removedInKafka4 names the configs Kafka 4.0 removed, with why, so that an older tool
// that still sets one learns that its INVALID_CONFIG is deliberate: Waybill follows Kafka
// 4.0, which rejects them as unknown names.
var removedInKafka4 = map[string]string{
	"message.format.version":            "only message format v2 exists since Kafka 4.0 (KIP-724)",
	"log.message.format.version":        "only message format v2 exists since Kafka 4.0 (KIP-724)",
	"message.downconversion.enable":     "Kafka 4.0 no longer converts batches down to formats v0 and v1 (KIP-724)",
	"log.message.downconversion.enable": "Kafka 4.0 no longer converts batches down to formats v0 and v1 (KIP-724)",
	"zookeeper.connect":                 "Kafka 4.0 runs on its Raft quorum (KRaft) only; Waybill too",
}

// unknownConfig is the INVALID_CONFIG error for a name no table holds; kind is "topic
// config name" or "broker config", as Kafka words them.
func unknownConfig(kind, name string) error {
	if why, ok := removedInKafka4[name]; ok {
		return invalidConfig("%s was removed in Kafka 4.0, whose behaviour Waybill follows: %s", name, why)
	}
	return invalidConfig("unknown %s %s", kind, name)
}
