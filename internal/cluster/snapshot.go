package cluster

import (
	"encoding/json"
	"fmt"
	"io"
)

// Snapshot format: one JSON object (snapshotV1), topics sorted by name and brokers by
// id so that equal images give equal bytes. "format" is bumped on incompatible
// changes; a node refuses a format it does not know rather than guess.
const snapshotFormat = 1

type snapshotV1 struct {
	Format          int      `json:"format"`
	Version         uint64   `json:"version"`
	ClusterID       string   `json:"clusterId"`
	ControllerID    int32    `json:"controllerId"`
	ControllerEpoch int32    `json:"controllerEpoch"`
	NextProducerID  int64    `json:"nextProducerId"`
	Brokers         []Broker `json:"brokers"`
	Topics          []*Topic `json:"topics"`
}

func writeSnapshot(w io.Writer, img *Image) error {
	s := snapshotV1{
		Format:          snapshotFormat,
		Version:         img.Version,
		ClusterID:       img.ClusterID,
		ControllerID:    img.ControllerID,
		ControllerEpoch: img.ControllerEpoch,
		NextProducerID:  img.NextProducerID,
	}
	s.Brokers = img.SortedBrokers()
	for _, name := range img.TopicNames() {
		s.Topics = append(s.Topics, img.Topics[name])
	}
	return json.NewEncoder(w).Encode(&s)
}

func readSnapshot(r io.Reader) (*Image, error) {
	var s snapshotV1
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("cluster: reading metadata snapshot: %w", err)
	}
	if s.Format != snapshotFormat {
		return nil, fmt.Errorf("cluster: metadata snapshot format %d, this node reads %d", s.Format, snapshotFormat)
	}
	img := emptyImage()
	img.Version = s.Version
	img.ClusterID = s.ClusterID
	img.ControllerID = s.ControllerID
	img.ControllerEpoch = s.ControllerEpoch
	img.NextProducerID = s.NextProducerID
	for _, b := range s.Brokers {
		img.Brokers[b.ID] = b
	}
	for _, t := range s.Topics {
		img.putTopic(t)
	}
	return img, nil
}
