package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// applyAll folds commands into an empty image as raft would, at indexes 1, 2, ...,
// failing the test on any refused command.
func applyAll(t *testing.T, commands ...command) *Image {
	t.Helper()
	img := emptyImage()
	for i, c := range commands {
		next, res := applyCommand(img, uint64(i+1), c)
		if res.err != nil {
			t.Fatalf("command %d refused: %v", i, res.err)
		}
		if next != nil {
			img = next
		}
	}
	return img
}

func testTopic(name string, id byte, partitions int32) *Topic {
	t := &Topic{Name: name, ID: UUID{id}, Configs: map[string]string{"retention.ms": "1000"}}
	for p := int32(0); p < partitions; p++ {
		t.Partitions = append(t.Partitions, newPartition(p, []int32{1}))
	}
	return t
}

func baseCommands() []command {
	return []command{
		{InitCluster: &initClusterCmd{ClusterID: "cluster-a"}},
		{ClaimController: &claimControllerCmd{NodeID: 1}},
		{RegisterBroker: &registerBrokerCmd{ID: 1, Host: "localhost", Port: 9092, Incarnation: UUID{9}}},
	}
}

func TestApplyBuildsImage(t *testing.T) {
	cmds := append(baseCommands(),
		command{InitCluster: &initClusterCmd{ClusterID: "cluster-b"}}, // ignored: first wins
		command{CreateTopic: &createTopicCmd{Topic: testTopic("orders", 1, 2)}},
		command{CreatePartitions: &createPartitionsCmd{ID: UUID{1}, Partitions: []Partition{newPartition(2, []int32{1})}}},
		command{AlterTopicConfigs: &alterTopicConfigsCmd{ID: UUID{1}, Configs: map[string]string{"segment.ms": "5"}}},
		command{CreateTopic: &createTopicCmd{Topic: testTopic("gone", 2, 1)}},
		command{DeleteTopic: &deleteTopicCmd{ID: UUID{2}}},
	)
	img := applyAll(t, cmds...)
	if img.ClusterID != "cluster-a" || img.ControllerID != 1 || img.ControllerEpoch != 1 {
		t.Fatalf("cluster fields: %+v", img)
	}
	if b := img.Brokers[1]; b.Host != "localhost" || b.Port != 9092 || b.Epoch != 3 {
		t.Fatalf("broker: %+v", b)
	}
	orders := img.Topic("orders")
	if orders == nil || len(orders.Partitions) != 3 || orders.Configs["segment.ms"] != "5" || len(orders.Configs) != 1 {
		t.Fatalf("orders: %+v", orders)
	}
	if img.TopicByID(UUID{1}) != orders || img.Topic("gone") != nil || img.TopicByID(UUID{2}) != nil {
		t.Fatalf("topic indexes inconsistent")
	}
	if img.Version != uint64(len(cmds)) {
		t.Fatalf("version %d, want %d", img.Version, len(cmds))
	}
}

func TestApplyNeverModifiesThePreviousImage(t *testing.T) {
	before := applyAll(t, append(baseCommands(), command{CreateTopic: &createTopicCmd{Topic: testTopic("t", 1, 1)}})...)
	var snapshot bytes.Buffer
	if err := writeSnapshot(&snapshot, before); err != nil {
		t.Fatal(err)
	}
	for _, c := range []command{
		{CreatePartitions: &createPartitionsCmd{ID: UUID{1}, Partitions: []Partition{newPartition(1, []int32{1})}}},
		{AlterTopicConfigs: &alterTopicConfigsCmd{ID: UUID{1}, Configs: map[string]string{}}},
		{RegisterBroker: &registerBrokerCmd{ID: 2}},
		{AllocateProducerIDs: &allocateProducerIDsCmd{BrokerID: 1, BrokerEpoch: 3}},
		{DeleteTopic: &deleteTopicCmd{ID: UUID{1}}},
	} {
		if _, res := applyCommand(before, 100, c); res.err != nil {
			t.Fatal(res.err)
		}
	}
	var after bytes.Buffer
	if err := writeSnapshot(&after, before); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshot.Bytes(), after.Bytes()) {
		t.Fatalf("image changed under its readers:\n%s\n%s", snapshot.Bytes(), after.Bytes())
	}
}

func TestApplyRefusesConflicts(t *testing.T) {
	img := applyAll(t, append(baseCommands(), command{CreateTopic: &createTopicCmd{Topic: testTopic("a.b", 1, 1)}})...)
	cases := []struct {
		name string
		cmd  command
		code *kerr.Error
	}{
		{"same name", command{CreateTopic: &createTopicCmd{Topic: testTopic("a.b", 2, 1)}}, kerr.TopicAlreadyExists},
		{"colliding name", command{CreateTopic: &createTopicCmd{Topic: testTopic("a_b", 2, 1)}}, kerr.InvalidTopicException},
		{"same id", command{CreateTopic: &createTopicCmd{Topic: testTopic("c", 1, 1)}}, kerr.InvalidRequest},
		{"unregistered broker", command{CreateTopic: &createTopicCmd{Topic: &Topic{Name: "d", ID: UUID{3},
			Partitions: []Partition{newPartition(0, []int32{7})}}}}, kerr.InvalidReplicaAssignment},
		{"partition gap", command{CreatePartitions: &createPartitionsCmd{ID: UUID{1},
			Partitions: []Partition{newPartition(5, []int32{1})}}}, kerr.InvalidReplicaAssignment},
		{"delete unknown", command{DeleteTopic: &deleteTopicCmd{ID: UUID{8}}}, kerr.UnknownTopicID},
		{"stale epoch", command{AllocateProducerIDs: &allocateProducerIDsCmd{BrokerID: 1, BrokerEpoch: 1}}, kerr.StaleBrokerEpoch},
		{"unknown broker", command{AllocateProducerIDs: &allocateProducerIDsCmd{BrokerID: 5}}, kerr.BrokerIDNotRegistered},
		{"empty", command{}, kerr.InvalidRequest},
	}
	for _, c := range cases {
		next, res := applyCommand(img, 50, c.cmd)
		if next != nil || !errors.Is(res.err, c.code) {
			t.Errorf("%s: next=%v err=%v, want %v", c.name, next != nil, res.err, c.code)
		}
	}
}

func TestApplyRefusesInternalTopicDeletion(t *testing.T) {
	internal := testTopic(ConsumerOffsetsTopic, 1, 1)
	internal.Internal = true
	img := applyAll(t, append(baseCommands(), command{CreateTopic: &createTopicCmd{Topic: internal}})...)
	if _, res := applyCommand(img, 9, command{DeleteTopic: &deleteTopicCmd{ID: UUID{1}}}); !errors.Is(res.err, kerr.InvalidRequest) {
		t.Fatalf("err = %v", res.err)
	}
}

func TestProducerIDBlocksAdvance(t *testing.T) {
	img := applyAll(t, baseCommands()...)
	var firsts []int64
	for i := 0; i < 3; i++ {
		next, res := applyCommand(img, uint64(10+i), command{AllocateProducerIDs: &allocateProducerIDsCmd{BrokerID: 1, BrokerEpoch: 3}})
		if res.err != nil {
			t.Fatal(res.err)
		}
		firsts = append(firsts, res.firstProducerID)
		img = next
	}
	if !reflect.DeepEqual(firsts, []int64{0, 1000, 2000}) || img.NextProducerID != 3000 {
		t.Fatalf("blocks %v, next %d", firsts, img.NextProducerID)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	img := applyAll(t, append(baseCommands(),
		command{CreateTopic: &createTopicCmd{Topic: testTopic("x", 1, 3)}},
		command{AllocateProducerIDs: &allocateProducerIDsCmd{BrokerID: 1, BrokerEpoch: 3}},
	)...)
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, img); err != nil {
		t.Fatal(err)
	}
	restored, err := readSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(img, restored) {
		t.Fatalf("restored image differs:\n%+v\n%+v", img, restored)
	}
	if _, err := readSnapshot(bytes.NewBufferString(`{"format":99}`)); err == nil {
		t.Fatal("unknown snapshot format accepted")
	}
}

func TestCommandEncoding(t *testing.T) {
	data, err := encodeCommand(command{DeleteTopic: &deleteTopicCmd{ID: UUID{1}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"v":1,"deleteTopic":{"id":"AQAAAAAAAAAAAAAAAAAAAA"}}`; string(data) != want {
		t.Fatalf("encoded %s, want %s", data, want)
	}
	if c, err := decodeCommand(data); err != nil || c.DeleteTopic.ID != (UUID{1}) {
		t.Fatalf("decoded %+v, %v", c, err)
	}
	for _, bad := range []string{`{"v":2,"deleteTopic":{}}`, `not json`, `{"v":1,"deleteTopic":{"id":"short"}}`} {
		if _, err := decodeCommand([]byte(bad)); !errors.Is(err, errMalformedCommand) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func TestUUID(t *testing.T) {
	seen := map[UUID]bool{}
	for i := 0; i < 100; i++ {
		u := randomUUID()
		s := u.String()
		if len(s) != 22 || s[0] == '-' || u.IsZero() || seen[u] || u[6]>>4 != 4 {
			t.Fatalf("bad random id %s", s)
		}
		seen[u] = true
		parsed, err := ParseUUID(s)
		if err != nil || parsed != u {
			t.Fatalf("ParseUUID(%s) = %v, %v", s, parsed, err)
		}
	}
}

func TestValidateTopicName(t *testing.T) {
	long := string(bytes.Repeat([]byte("a"), 249))
	for _, ok := range []string{"a", "A.b_c-9", long} {
		if err := ValidateTopicName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", long + "a", "a b", "a/b", "ü"} {
		if err := ValidateTopicName(bad); !errors.Is(err, kerr.InvalidTopicException) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
