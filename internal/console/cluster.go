package console

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/clientopt"
)

// ClusterState is the live state of a cluster as the cluster page shows it, read through
// Kafka APIs only (Metadata, DescribeCluster, DescribeConfigs, ListOffsets,
// DescribeProducers, ListTransactions, DescribeTransactions, ListGroups, DescribeGroups,
// OffsetFetch), so that it reads any node of any Kafka-compatible cluster.
type ClusterState struct {
	Bootstrap    string        `json:"bootstrap"`
	Sandbox      bool          `json:"sandbox"` // the console's own sandbox cluster
	Time         time.Time     `json:"time"`
	ClusterID    string        `json:"cluster_id,omitempty"`
	Brokers      []ClusterNode `json:"brokers"`
	Controller   int32         `json:"controller"` // the active controller's node id
	Topics       []TopicState  `json:"topics"`
	Producers    []ProducerRow `json:"producers"`
	Transactions []TxnRow      `json:"transactions"`
	Groups       []GroupState  `json:"groups"`
	Errors       []string      `json:"errors,omitempty"` // parts that could not be read
}

type ClusterNode struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
	// Fenced: registered, but the controller heard no heartbeat from it in time; it
	// leads nothing and takes no new replicas.
	Fenced     bool `json:"fenced"`
	Controller bool `json:"controller"`
}

type TopicState struct {
	Name       string           `json:"name"`
	Internal   bool             `json:"internal"`
	MinISR     int              `json:"min_insync_replicas"` // 0: unknown
	Partitions []PartitionState `json:"partitions"`
}

type PartitionState struct {
	Partition     int32   `json:"partition"`
	Leader        int32   `json:"leader"`
	LeaderEpoch   int32   `json:"leader_epoch"`
	Replicas      []int32 `json:"replicas"`
	ISR           []int32 `json:"isr"`
	LogStart      int64   `json:"log_start"`
	HighWatermark int64   `json:"high_watermark"`
	LastStable    int64   `json:"last_stable"` // below the high watermark while a transaction is open
	// Offline: no leader. UnderReplicated: a replica is out of the ISR. UnderMinISR: the
	// ISR is smaller than min.insync.replicas, so acks=all writes are refused.
	Offline         bool   `json:"offline"`
	UnderReplicated bool   `json:"under_replicated"`
	UnderMinISR     bool   `json:"under_min_isr"`
	Error           string `json:"error,omitempty"`
}

// ProducerRow is one producer's state on one partition (DescribeProducers).
type ProducerRow struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	ProducerID    int64  `json:"producer_id"`
	Epoch         int16  `json:"epoch"`
	LastSequence  int32  `json:"last_sequence"`
	LastTimestamp int64  `json:"last_timestamp"`
	// TxnStartOffset is the first offset of the producer's open transaction, -1 if none.
	TxnStartOffset int64 `json:"txn_start_offset"`
}

type TxnRow struct {
	ID         string   `json:"id"`
	State      string   `json:"state"`
	Open       bool     `json:"open"` // Ongoing, PrepareCommit or PrepareAbort
	ProducerID int64    `json:"producer_id"`
	Epoch      int16    `json:"epoch"`
	TimeoutMs  int32    `json:"timeout_ms"`
	Started    int64    `json:"started"` // Unix milliseconds, -1 if not running
	Partitions []string `json:"partitions,omitempty"`
}

type GroupState struct {
	Name     string        `json:"name"`
	State    string        `json:"state"`
	Protocol string        `json:"protocol"`
	Members  []GroupMember `json:"members"`
	Lag      int64         `json:"lag"`
	Offsets  []GroupOffset `json:"offsets"`
	Error    string        `json:"error,omitempty"`
}

type GroupMember struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Host     string   `json:"host"`
	Assigned []string `json:"assigned"` // topic/partition
}

type GroupOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"` // -1 if none
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"` // -1 if unknown
	Member    string `json:"member,omitempty"`
}

// clusterView reads the state of the console's broker with one long-lived client.
type clusterView struct {
	bootstrap string
	sandbox   *sandbox

	mu sync.Mutex
	cl *kgo.Client
}

func newClusterView(bootstrap string, sb *sandbox) *clusterView {
	return &clusterView{bootstrap: bootstrap, sandbox: sb}
}

// client returns the admin client, connecting (and starting the sandbox when the
// console has no broker of its own) the first time.
func (v *clusterView) client() (*kgo.Client, string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	addr := v.bootstrap
	if addr == "" {
		t, err := v.sandbox.get()
		if err != nil {
			return nil, "", err
		}
		addr = t.Bootstrap()
	}
	if v.cl == nil {
		// A node that is down may answer nothing, not even its connection's first
		// request: give up on it quickly and try another, so that the page keeps
		// showing the others live. The page's reads are all quick to answer.
		cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(addr)...), kgo.RequestRetries(3),
			kgo.DialTimeout(time.Second), kgo.RequestTimeoutOverhead(time.Second))
		if err != nil {
			return nil, "", err
		}
		v.cl = cl
	}
	return v.cl, addr, nil
}

func (v *clusterView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cl != nil {
		v.cl.Close()
		v.cl = nil
	}
}

// state reads the cluster. Parts that fail are reported in Errors; the rest is shown.
func (v *clusterView) state(ctx context.Context, internal bool) (*ClusterState, error) {
	cl, addr, err := v.client()
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	st := &ClusterState{Bootstrap: addr, Sandbox: v.bootstrap == "", Time: time.Now(),
		Topics: []TopicState{}, Producers: []ProducerRow{}, Transactions: []TxnRow{}, Groups: []GroupState{}}
	var mu sync.Mutex
	note := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		st.Errors = append(st.Errors, fmt.Sprintf("%s: %v", what, err))
	}
	md, err := adm.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading metadata from %s: %w", addr, err)
	}
	st.Controller = md.Controller
	var names []string
	for _, t := range md.Topics.Sorted() {
		if t.IsInternal && !internal {
			continue
		}
		names = append(names, t.Topic)
	}
	// The parts go on at once, each bounded on its own: a node that is down holds the
	// requests sent to every broker (groups, transactions) until they time out, and the
	// rest of the page should not wait for them.
	parts := []func(context.Context){
		func(ctx context.Context) { readBrokers(ctx, cl, md, st, note) },
		func(ctx context.Context) {
			v.readTopics(ctx, adm, md, names, st, note)
			v.readProducers(ctx, adm, names, st, note)
		},
		func(ctx context.Context) { v.readTransactions(ctx, adm, st, note) },
		func(ctx context.Context) { v.readGroups(ctx, adm, st, note) },
	}
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, partTimeout)
			defer cancel()
			part(ctx)
		}()
	}
	wg.Wait()
	return st, nil
}

// partTimeout bounds each part of the cluster's state.
const partTimeout = 2 * time.Second

func (v *clusterView) readTopics(ctx context.Context, adm *kadm.Client, md kadm.Metadata, names []string, st *ClusterState, note func(string, error)) {
	if len(names) == 0 {
		return
	}
	offsets := func(what string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) kadm.ListedOffsets {
		l, err := list(ctx, names...)
		if err != nil {
			note(what, err)
		}
		return l
	}
	starts := offsets("log start offsets", adm.ListStartOffsets)
	ends := offsets("high watermarks", adm.ListEndOffsets)
	stable := offsets("last stable offsets", adm.ListCommittedOffsets)
	minISR := minISRs(ctx, adm, names, note)
	at := func(l kadm.ListedOffset, ok bool) int64 {
		if !ok || l.Err != nil {
			return -1
		}
		return l.Offset
	}
	for _, name := range names {
		t := md.Topics[name]
		ts := TopicState{Name: name, Internal: t.IsInternal, MinISR: minISR[name]}
		for _, p := range t.Partitions.Sorted() {
			ps := PartitionState{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: p.Replicas, ISR: p.ISR,
				LogStart: at(starts.Lookup(name, p.Partition)), HighWatermark: at(ends.Lookup(name, p.Partition)),
				LastStable: at(stable.Lookup(name, p.Partition))}
			ps.replication(ts.MinISR)
			if p.Err != nil {
				ps.Error = p.Err.Error()
			}
			ts.Partitions = append(ts.Partitions, ps)
		}
		st.Topics = append(st.Topics, ts)
	}
}

func (v *clusterView) readProducers(ctx context.Context, adm *kadm.Client, names []string, st *ClusterState, note func(string, error)) {
	if len(names) == 0 {
		return
	}
	set := kadm.TopicsSet{}
	for _, t := range st.Topics {
		for _, p := range t.Partitions {
			set.Add(t.Name, p.Partition)
		}
	}
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		note("producers", err)
	}
	for _, p := range described.SortedProducers() {
		st.Producers = append(st.Producers, ProducerRow{Topic: p.Topic, Partition: p.Partition,
			ProducerID: p.ProducerID, Epoch: p.ProducerEpoch, LastSequence: p.LastSequence,
			LastTimestamp: p.LastTimestamp, TxnStartOffset: p.CurrentTxnStartOffset})
	}
}

func (v *clusterView) readTransactions(ctx context.Context, adm *kadm.Client, st *ClusterState, note func(string, error)) {
	listed, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		note("transactions", err)
	}
	ids := listed.TransactionalIDs()
	if len(ids) == 0 {
		return
	}
	described, err := adm.DescribeTransactions(ctx, ids...)
	if err != nil {
		note("transactions", err)
	}
	for _, id := range ids {
		row := TxnRow{ID: id, State: listed[id].State, ProducerID: listed[id].ProducerID, Started: -1}
		if d, ok := described[id]; ok && d.Err == nil {
			row.State, row.ProducerID, row.Epoch = d.State, d.ProducerID, d.ProducerEpoch
			row.TimeoutMs, row.Started = d.TimeoutMillis, d.StartTimestamp
			d.Topics.Each(func(t string, p int32) {
				row.Partitions = append(row.Partitions, fmt.Sprintf("%s/%d", t, p))
			})
			sort.Strings(row.Partitions)
		}
		switch row.State {
		case "Ongoing", "PrepareCommit", "PrepareAbort":
			row.Open = true
		}
		st.Transactions = append(st.Transactions, row)
	}
}

func (v *clusterView) readGroups(ctx context.Context, adm *kadm.Client, st *ClusterState, note func(string, error)) {
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		note("groups", err)
	}
	names := listed.Groups()
	if len(names) == 0 {
		return
	}
	lags, err := adm.Lag(ctx, names...)
	if err != nil {
		note("group lag", err)
	}
	for _, l := range lags.Sorted() {
		g := GroupState{Name: l.Group, State: l.State, Protocol: l.Protocol, Members: []GroupMember{}, Offsets: []GroupOffset{}}
		if err := l.Error(); err != nil {
			g.Error = err.Error()
		}
		for _, m := range l.Members {
			gm := GroupMember{ID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: []string{}}
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					for _, p := range t.Partitions {
						gm.Assigned = append(gm.Assigned, fmt.Sprintf("%s/%d", t.Topic, p))
					}
				}
			}
			g.Members = append(g.Members, gm)
		}
		for _, pl := range l.Lag.Sorted() {
			o := GroupOffset{Topic: pl.Topic, Partition: pl.Partition, Committed: pl.Commit.At,
				End: pl.End.Offset, Lag: pl.Lag}
			if pl.Member != nil {
				o.Member = pl.Member.ClientID
			}
			g.Offsets = append(g.Offsets, o)
		}
		g.Lag = l.Lag.Total()
		st.Groups = append(st.Groups, g)
	}
}
