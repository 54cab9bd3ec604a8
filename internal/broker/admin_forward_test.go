package broker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/peer"
	"github.com/waybill/waybill/internal/testbroker"
)

// The changes only the controller makes (CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs, IncrementalAlterConfigs), asked of a broker that is not the controller:
// it forwards them, and answers once it shows the change itself, so the client's next
// request to it sees the change at once; every other broker shows it soon after. A
// refused change gets the code the controller itself answers with.
func TestAdminChangesFromABrokerThatIsNotTheController(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := clusterClient(t, nodes)
	ctrl := controllerAmong(ctx, t, cl, nodes)
	via := slices.IndexFunc(nodes, func(n *testbroker.Broker) bool { return n.NodeID() != ctrl })
	at := nodes[via].NodeID()
	t.Logf("controller %d, changes asked of broker %d", ctrl, at)
	// A broker validates against its own image first, so it must have seen the others
	// unfenced before it can place three replicas.
	waitAll(ctx, t, cl, nodes, "3 live brokers", func(id int32) bool { return len(brokersAt(ctx, t, cl, id)) == 3 })

	const topic = "forwarded"
	mustSucceed(t, "CreateTopics", ask(ctx, t, cl, at, createTopicsRequest(topic, 2, 3)))
	shown(ctx, t, cl, nodes, at, "topic created with 2 partitions of 3 replicas", func(id int32) bool {
		p := partitionsAt(ctx, t, cl, id, topic)
		return len(p) == 2 && len(p[0].Replicas) == 3 && len(p[1].Replicas) == 3
	})

	mustSucceed(t, "CreatePartitions", ask(ctx, t, cl, at, createPartitionsRequest(topic, 4)))
	shown(ctx, t, cl, nodes, at, "4 partitions", func(id int32) bool {
		return len(partitionsAt(ctx, t, cl, id, topic)) == 4
	})

	mustSucceed(t, "IncrementalAlterConfigs", ask(ctx, t, cl, at, incrementalAlterRequest(topic,
		alterOp{"retention.ms", kmsg.IncrementalAlterConfigOpSet, "60000"},
		alterOp{"cleanup.policy", kmsg.IncrementalAlterConfigOpAppend, "compact"})))
	shown(ctx, t, cl, nodes, at, "retention.ms=60000 and cleanup.policy=delete,compact", func(id int32) bool {
		c := configsAt(ctx, t, cl, id, topic)
		return c["retention.ms"] == "60000" && c["cleanup.policy"] == "delete,compact"
	})

	// A replacement: cleanup.policy, not named, returns to its default.
	mustSucceed(t, "AlterConfigs", ask(ctx, t, cl, at, alterConfigsRequest(topic, "retention.ms", "120000")))
	shown(ctx, t, cl, nodes, at, "retention.ms=120000 and cleanup.policy back to delete", func(id int32) bool {
		c := configsAt(ctx, t, cl, id, topic)
		return c["retention.ms"] == "120000" && c["cleanup.policy"] == "delete"
	})

	mustSucceed(t, "DeleteTopics", ask(ctx, t, cl, at, deleteTopicsRequest(topic)))
	shown(ctx, t, cl, nodes, at, "topic deleted", func(id int32) bool {
		return partitionsAt(ctx, t, cl, id, topic) == nil
	})

	// DeleteTopics v6 by topic id.
	const byID = "deleted-by-id"
	created := ask(ctx, t, cl, at, createTopicsRequest(byID, 1, 1)).(*kmsg.CreateTopicsResponse)
	mustSucceed(t, "CreateTopics", created)
	mustSucceed(t, "DeleteTopics by id", ask(ctx, t, cl, at, deleteTopicsByIDRequest(created.Topics[0].TopicID)))
	shown(ctx, t, cl, nodes, at, "topic deleted by id", func(id int32) bool {
		return partitionsAt(ctx, t, cl, id, byID) == nil
	})

	// Refusals: the same code from the controller and from a broker that forwards.
	const kept = "kept"
	mustSucceed(t, "CreateTopics", ask(ctx, t, cl, at, createTopicsRequest(kept, 2, 1)))
	waitAll(ctx, t, cl, nodes, kept+" created", func(id int32) bool { return len(partitionsAt(ctx, t, cl, id, kept)) == 2 })
	refusals := []struct {
		what string
		req  func() kmsg.Request
		want *kerr.Error
	}{
		{"delete a missing topic", func() kmsg.Request { return deleteTopicsRequest("missing") }, kerr.UnknownTopicOrPartition},
		{"delete a missing topic id", func() kmsg.Request { return deleteTopicsByIDRequest([16]byte{1, 2, 3}) }, kerr.UnknownTopicID},
		{"create an existing topic", func() kmsg.Request { return createTopicsRequest(kept, 1, 1) }, kerr.TopicAlreadyExists},
		{"shrink a topic", func() kmsg.Request { return createPartitionsRequest(kept, 1) }, kerr.InvalidPartitions},
		{"grow a missing topic", func() kmsg.Request { return createPartitionsRequest("missing", 3) }, kerr.UnknownTopicOrPartition},
		{"replace with an invalid config", func() kmsg.Request { return alterConfigsRequest(kept, "retention.ms", "soon") }, kerr.InvalidConfig},
		{"set an invalid config", func() kmsg.Request {
			return incrementalAlterRequest(kept, alterOp{"retention.ms", kmsg.IncrementalAlterConfigOpSet, "soon"})
		}, kerr.InvalidConfig},
		{"set an unknown config", func() kmsg.Request {
			return incrementalAlterRequest(kept, alterOp{"no.such.config", kmsg.IncrementalAlterConfigOpSet, "1"})
		}, kerr.InvalidConfig},
	}
	for _, r := range refusals {
		for _, id := range []int32{ctrl, at} {
			if err := onlyError(ask(ctx, t, cl, id, r.req())); !errors.Is(err, r.want) {
				t.Errorf("%s, asked of broker %d: %v, want %v", r.what, id, err, r.want)
			}
		}
	}

	// The controller listener serves the same APIs to the brokers that forward. The
	// controller validates against its own image, the one that counts: a change a
	// broker's older image let through is refused there.
	controller := peerOf(t, nodes, ctrl)
	for _, r := range refusals {
		resp, err := controller.Request(ctx, r.req())
		if err != nil {
			t.Fatal(err)
		}
		if err := onlyError(resp); !errors.Is(err, r.want) {
			t.Errorf("%s, asked of the controller listener of the controller: %v, want %v", r.what, err, r.want)
		}
	}
	// A voter that is not the controller does not forward again what it was forwarded:
	// it answers NOT_CONTROLLER, so that the sender asks the next voter.
	resp, err := peerOf(t, nodes, at).Request(ctx, createTopicsRequest("not-forwarded-twice", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := onlyError(resp); !errors.Is(err, kerr.NotController) {
		t.Fatalf("CreateTopics on the controller listener of broker %d, not the controller: %v, want NOT_CONTROLLER", at, err)
	}
	for _, n := range nodes {
		if partitionsAt(ctx, t, cl, n.NodeID(), "not-forwarded-twice") != nil {
			t.Fatalf("broker %d knows a topic that only a non-controller's controller listener was asked to create", n.NodeID())
		}
	}
}

// The controller stops; the brokers left, asked for changes meanwhile, keep asking the
// voters until they have elected a new controller, and the changes are made by it.
func TestAdminChangesWhileTheControllerStops(t *testing.T) {
	nodes := testbroker.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl := clusterClient(t, nodes)
	old := controllerAmong(ctx, t, cl, nodes)
	live := slices.DeleteFunc(slices.Clone(nodes), func(n *testbroker.Broker) bool { return n.NodeID() == old })

	nodes[old-1].Stop()
	// Asked right away, while the two voters left elect a controller.
	const topic = "after-the-controller-stopped"
	mustSucceed(t, "CreateTopics", ask(ctx, t, cl, live[0].NodeID(), createTopicsRequest(topic, 1, 2)))
	controller := controllerAmong(ctx, t, cl, live)
	if controller == old {
		t.Fatalf("broker %d, stopped, is still the controller", old)
	}

	waitAll(ctx, t, cl, live, "the topic", func(id int32) bool { return partitionsAt(ctx, t, cl, id, topic) != nil })

	// Through the broker that is not the new controller, so these are forwarded to it.
	at := live[0].NodeID()
	if at == controller {
		at = live[1].NodeID()
	}
	t.Logf("controller %d stopped, %d took over, changes asked of broker %d", old, controller, at)
	mustSucceed(t, "CreatePartitions", ask(ctx, t, cl, at, createPartitionsRequest(topic, 3)))
	mustSucceed(t, "IncrementalAlterConfigs", ask(ctx, t, cl, at, incrementalAlterRequest(topic,
		alterOp{"retention.ms", kmsg.IncrementalAlterConfigOpSet, "60000"})))
	shown(ctx, t, cl, live, at, "3 partitions and retention.ms=60000", func(id int32) bool {
		return len(partitionsAt(ctx, t, cl, id, topic)) == 3 && configsAt(ctx, t, cl, id, topic)["retention.ms"] == "60000"
	})
	mustSucceed(t, "DeleteTopics", ask(ctx, t, cl, at, deleteTopicsRequest(topic)))
	shown(ctx, t, cl, live, at, "topic deleted", func(id int32) bool {
		return partitionsAt(ctx, t, cl, id, topic) == nil
	})
}

// clusterClient is a client that knows every broker, for requests pinned to one.
func clusterClient(t *testing.T, nodes []*testbroker.Broker) *kgo.Client {
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	return testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond))
}

// controllerAmong waits until every one of nodes names the same controller, one of
// them, in DescribeCluster, and returns its id.
func controllerAmong(ctx context.Context, t *testing.T, cl *kgo.Client, nodes []*testbroker.Broker) int32 {
	t.Helper()
	var controller int32
	waitFor(ctx, t, "the brokers agree on a controller among them", func() bool {
		controller = -1
		for _, n := range nodes {
			resp, err := cl.Broker(int(n.NodeID())).Request(ctx, kmsg.NewPtrDescribeClusterRequest())
			if err != nil {
				return false
			}
			id := resp.(*kmsg.DescribeClusterResponse).ControllerID
			if controller != -1 && id != controller {
				return false
			}
			controller = id
		}
		return slices.ContainsFunc(nodes, func(n *testbroker.Broker) bool { return n.NodeID() == controller })
	})
	return controller
}

// ask sends req to broker id alone.
func ask(ctx context.Context, t *testing.T, cl *kgo.Client, id int32, req kmsg.Request) kmsg.Response {
	t.Helper()
	resp, err := cl.Broker(int(id)).Request(ctx, req)
	if err != nil {
		t.Fatalf("%s to broker %d: %v", kmsg.NameForKey(req.Key()), id, err)
	}
	return resp
}

// peerOf is a client of the controller listener of broker id, as other brokers use it.
func peerOf(t *testing.T, nodes []*testbroker.Broker, id int32) *peer.Client {
	cl := peer.New(nodes[id-1].ControllerAddr(), "test", cluster.DialController)
	t.Cleanup(cl.Close)
	return cl
}

// shown checks that broker at shows a change as soon as it has answered, and waits
// until every broker of nodes does.
func shown(ctx context.Context, t *testing.T, cl *kgo.Client, nodes []*testbroker.Broker, at int32, what string, cond func(id int32) bool) {
	t.Helper()
	if !cond(at) {
		t.Fatalf("broker %d answered before it showed the change: %s", at, what)
	}
	waitAll(ctx, t, cl, nodes, what, cond)
}

func waitAll(ctx context.Context, t *testing.T, cl *kgo.Client, nodes []*testbroker.Broker, what string, cond func(id int32) bool) {
	t.Helper()
	waitFor(ctx, t, "every broker shows "+what, func() bool {
		for _, n := range nodes {
			if !cond(n.NodeID()) {
				return false
			}
		}
		return true
	})
}

// partitionsAt is topic's partitions in broker id's metadata, nil when it does not know
// the topic.
func partitionsAt(ctx context.Context, t *testing.T, cl *kgo.Client, id int32, topic string) []kmsg.MetadataResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false // asking after a deleted topic must not create it again
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	md := ask(ctx, t, cl, id, req).(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode == kerr.UnknownTopicOrPartition.Code {
		return nil
	}
	return md.Topics[0].Partitions
}

// brokersAt is the live brokers in broker id's metadata.
func brokersAt(ctx context.Context, t *testing.T, cl *kgo.Client, id int32) []kmsg.MetadataResponseBroker {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // brokers only
	return ask(ctx, t, cl, id, req).(*kmsg.MetadataResponse).Brokers
}

// configsAt is topic's configs as broker id describes them, nil when it does not know
// the topic.
func configsAt(ctx context.Context, t *testing.T, cl *kgo.Client, id int32, topic string) map[string]string {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, res)
	resp := ask(ctx, t, cl, id, req).(*kmsg.DescribeConfigsResponse)
	if len(resp.Resources) != 1 || resp.Resources[0].ErrorCode != 0 {
		return nil
	}
	configs := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		if c.Value != nil {
			configs[c.Name] = *c.Value
		}
	}
	return configs
}

func mustSucceed(t *testing.T, what string, resp kmsg.Response) {
	t.Helper()
	if err := onlyError(resp); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// onlyError is the error of the one topic or resource in a response, which wraps its
// kerr code (errors.Is) and carries the broker's message.
func onlyError(resp kmsg.Response) error {
	var code int16
	var message *string
	switch r := resp.(type) {
	case *kmsg.CreateTopicsResponse:
		code, message = r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage
	case *kmsg.DeleteTopicsResponse:
		code, message = r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage
	case *kmsg.CreatePartitionsResponse:
		code, message = r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage
	case *kmsg.AlterConfigsResponse:
		code, message = r.Resources[0].ErrorCode, r.Resources[0].ErrorMessage
	case *kmsg.IncrementalAlterConfigsResponse:
		code, message = r.Resources[0].ErrorCode, r.Resources[0].ErrorMessage
	default:
		return fmt.Errorf("unexpected response %T", resp)
	}
	err := kerr.ErrorForCode(code)
	if err == nil || message == nil {
		return err
	}
	return fmt.Errorf("%w (%s)", err, *message)
}

func createTopicsRequest(topic string, partitions int32, replicationFactor int16) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, replicationFactor
	req.Topics = append(req.Topics, rt)
	return req
}

func createPartitionsRequest(topic string, count int32) *kmsg.CreatePartitionsRequest {
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = topic, count
	req.Topics = append(req.Topics, rt)
	return req
}

func deleteTopicsRequest(topic string) *kmsg.DeleteTopicsRequest {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics, req.TopicNames = append(req.Topics, rt), []string{topic}
	return req
}

func deleteTopicsByIDRequest(id [16]byte) *kmsg.DeleteTopicsRequest {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.TopicID = id
	req.Topics = append(req.Topics, rt)
	return req
}

func alterConfigsRequest(topic, name, value string) *kmsg.AlterConfigsRequest {
	req := kmsg.NewPtrAlterConfigsRequest()
	res := kmsg.NewAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	rc := kmsg.NewAlterConfigsRequestResourceConfig()
	rc.Name, rc.Value = name, kmsg.StringPtr(value)
	res.Configs = append(res.Configs, rc)
	req.Resources = append(req.Resources, res)
	return req
}

type alterOp struct {
	name  string
	op    kmsg.IncrementalAlterConfigOp
	value string
}

func incrementalAlterRequest(topic string, ops ...alterOp) *kmsg.IncrementalAlterConfigsRequest {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	for _, o := range ops {
		rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		rc.Name, rc.Op, rc.Value = o.name, o.op, kmsg.StringPtr(o.value)
		res.Configs = append(res.Configs, rc)
	}
	req.Resources = append(req.Resources, res)
	return req
}
