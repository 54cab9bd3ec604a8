package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/cluster"
)

// Offsets for a topic or partition that does not exist are refused before the group
// coordinator sees them, as Kafka's KafkaApis does (handleOffsetCommitRequest and
// handleTxnOffsetCommitRequest check the metadata cache first): such a commit would store
// an offset nobody can consume from, and a client committing a just-deleted topic's
// partition must learn that it is gone. Only the other partitions reach the coordinator;
// when none is left, the coordinator is not asked at all, so a commit of nothing but
// missing partitions neither creates a group nor fails on its generation.

// missingTopic is a commit's topic with the partitions refused because they do not exist.
type missingTopic struct {
	topic      string
	partitions []int32
}

// partitionExists reports whether img holds topic with that partition. A topic being
// deleted is gone from the image as soon as the deletion is committed, as from Kafka's
// metadata cache; internal topics exist once created.
func partitionExists(img *cluster.Image, topic string, partition int32) bool {
	mt, ok := img.Topics[topic]
	return ok && partition >= 0 && int(partition) < len(mt.Partitions)
}

// splitCommit keeps, of a commit's topics, the partitions that exist in img, and returns
// the others in request order. topic reaches into the request's topic type for its name
// and partitions, index into its partition type.
func splitCommit[T, P any](img *cluster.Image, topics []T, topic func(*T) (string, *[]P), index func(*P) int32) ([]T, []missingTopic) {
	var kept []T
	var missing []missingTopic
	for _, t := range topics {
		name, parts := topic(&t)
		var keep []P
		var gone []int32
		for _, p := range *parts {
			if partitionExists(img, name, index(&p)) {
				keep = append(keep, p)
			} else {
				gone = append(gone, index(&p))
			}
		}
		if len(gone) > 0 {
			missing = append(missing, missingTopic{name, gone})
		}
		if len(keep) > 0 {
			*parts = keep
			kept = append(kept, t)
		}
	}
	return kept, missing
}

// answerMissing adds the refused partitions to a commit's answer, into the topic of the
// same name when the coordinator answered for some of its partitions. topic reaches into
// the answer's topic type, newTopic makes one, and refused makes a partition answered
// with its index and the given error code.
func answerMissing[T, P any](topics []T, missing []missingTopic, topic func(*T) (string, *[]P),
	newTopic func(string) T, refused func(int32, int16) P) []T {
	for _, m := range missing {
		i := 0
		for ; i < len(topics); i++ {
			if name, _ := topic(&topics[i]); name == m.topic {
				break
			}
		}
		if i == len(topics) {
			topics = append(topics, newTopic(m.topic))
		}
		_, parts := topic(&topics[i])
		for _, index := range m.partitions {
			*parts = append(*parts, refused(index, kerr.UnknownTopicOrPartition.Code))
		}
	}
	return topics
}
