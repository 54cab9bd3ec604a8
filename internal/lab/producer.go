package lab

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/waybill/waybill/internal/clientopt"
)

// ProducerConfig configures the producing application of a run.
type ProducerConfig struct {
	Topic    string
	Settings Settings
	// Values is how many distinct values the application delivers.
	Values int
	// Prefix starts every value, so values are unique across the runs of a lab.
	Prefix string
	// TxnSize is the number of values per transaction (transactional settings); default 10.
	TxnSize int
	// AbortEvery aborts every n-th transaction on purpose, so that reads of aborted values
	// can be caught; 0 never.
	AbortEvery int
	// TransactionalID is shared by every incarnation, so a new one fences the old.
	TransactionalID string
	// DeliveryTimeout bounds each record (delivery.timeout.ms); default 5s.
	DeliveryTimeout time.Duration
	// Window is how many values may be in flight at once; default 32.
	Window   int
	Recorder *Recorder
	Logger   *slog.Logger
}

func (c *ProducerConfig) defaults() {
	if c.TxnSize <= 0 {
		c.TxnSize = 10
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = 5 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 32
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Producer is the producing application: a list of work, one unique value per item, that
// incarnations of a Kafka producer deliver. An incarnation that crashes or is replaced
// hands its unconfirmed values to the next one, as an application restarted by its
// supervisor would resend what it never saw confirmed.
type Producer struct {
	cfg ProducerConfig

	mu        sync.Mutex
	queue     []int                // value indexes no incarnation holds
	held      map[int]*Incarnation // value index → incarnation delivering it
	confirmed int                  // acked, or committed when transactional
	gaveUp    int                  // failed, unknown or aborted on purpose
	started   int
	progress  chan struct{} // closed and replaced whenever a value is settled
	// held, while not nil, keeps incarnations from taking values until Release closes it.
	paused chan struct{}
	// every spaces out the values incarnations take (Throttle); lastTake is the last one.
	every    time.Duration
	lastTake time.Time
	quit     chan *Incarnation // incarnations that gave up
}

// NewProducer prepares the application; Start runs its first incarnation.
func NewProducer(cfg ProducerConfig) *Producer {
	cfg.defaults()
	p := &Producer{cfg: cfg, held: map[int]*Incarnation{}, progress: make(chan struct{}), quit: make(chan *Incarnation, 8)}
	for i := 0; i < cfg.Values; i++ {
		p.queue = append(p.queue, i)
	}
	return p
}

// Value is the value of work item i; its key spreads items over the partitions.
func (p *Producer) value(i int) (key, value string) {
	return fmt.Sprintf("k%d", i%64), fmt.Sprintf("%s%d", p.cfg.Prefix, i)
}

// Confirmed is how many values the application saw confirmed.
func (p *Producer) Confirmed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmed
}

// Settled reports whether every value is confirmed or given up.
func (p *Producer) Settled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmed+p.gaveUp >= p.cfg.Values
}

// WaitConfirmed waits until at least n values are confirmed, every value is settled, or
// ctx ends.
func (p *Producer) WaitConfirmed(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		ch, ok := p.progress, p.confirmed >= n || p.confirmed+p.gaveUp >= p.cfg.Values
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// GaveUp delivers each incarnation that ended on an error it could not get past (a
// transaction that could not be begun or ended), for a supervisor to start another.
func (p *Producer) GaveUp() <-chan *Incarnation { return p.quit }

// Latest reports whether in is the last incarnation started: a supervisor restarts
// that one only, never on behalf of a zombie that a successor fenced.
func (in *Incarnation) Latest() bool {
	in.p.mu.Lock()
	defer in.p.mu.Unlock()
	return in.p.started == in.ID
}

// Hold stops incarnations from taking more values until Release, so that a fault can
// strike between two stretches of the workload: what was taken before goes on.
func (p *Producer) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused == nil {
		p.paused = make(chan struct{})
	}
}

// Release ends Hold.
func (p *Producer) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

// Throttle spaces the values incarnations take every apart (0: as fast as the window
// allows), so that the workload goes on for as long as a slow fault, such as a rolling
// restart, takes.
func (p *Producer) Throttle(every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.every = every
}

// Incarnation is one run of the producing application with its own Kafka client.
type Incarnation struct {
	ID      int
	p       *Producer
	cl      *kgo.Client
	retired atomic.Bool
	crashed atomic.Bool // a crashed application observes nothing more
	seq     int         // guarded by p.mu
	done    chan struct{}
}

// Start runs a new incarnation against bootstrap. Incarnations are numbered from 1 in
// the order they start; the number is the Producer field of their sends.
func (p *Producer) Start(ctx context.Context, bootstrap string) (*Incarnation, error) {
	in, err := p.newIncarnation(bootstrap)
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(in.done)
		defer in.cl.Close()
		if p.cfg.Settings.Transactional {
			in.runTransactions(ctx)
		} else {
			in.run(ctx)
		}
	}()
	return in, nil
}

// newIncarnation numbers a new incarnation and connects its client to bootstrap with the
// settings' options and extra.
func (p *Producer) newIncarnation(bootstrap string, extra ...kgo.Opt) (*Incarnation, error) {
	p.mu.Lock()
	p.started++
	id := p.started
	p.mu.Unlock()
	opts := append(p.cfg.Settings.producerOpts(p.cfg.DeliveryTimeout),
		kgo.SeedBrokers(clientopt.List(bootstrap)...), kgo.DefaultProduceTopic(p.cfg.Topic))
	if p.cfg.Settings.Transactional {
		opts = append(opts, kgo.TransactionalID(p.cfg.TransactionalID),
			kgo.TransactionTimeout(p.cfg.DeliveryTimeout*2))
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	return &Incarnation{ID: id, p: p, cl: cl, done: make(chan struct{})}, nil
}

// Wait blocks until the incarnation ran out of work or ctx ends.
func (in *Incarnation) Wait(ctx context.Context) error {
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Holding is how many values the incarnation holds unconfirmed: taken, in flight or
// waiting for their transaction's end.
func (in *Incarnation) Holding() int {
	p := in.p
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, holder := range p.held {
		if holder == in {
			n++
		}
	}
	return n
}

// Retire makes the incarnation a zombie: it takes no new work and its unconfirmed values
// go to the next incarnation, but it goes on delivering what it already sent.
func (in *Incarnation) Retire() { in.handBack() }

// Crash ends the incarnation abruptly: its client closes without flushing or ending its
// transaction, and its unconfirmed values go to the next incarnation.
func (in *Incarnation) Crash() {
	in.crashed.Store(true)
	in.handBack()
	in.cl.Close()
	<-in.done
}

func (in *Incarnation) handBack() {
	in.retired.Store(true)
	p := in.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for idx, holder := range p.held {
		if holder == in {
			delete(p.held, idx)
			p.queue = append(p.queue, idx)
		}
	}
}

// take hands up to n queued values to in, once the producer is not held and its
// throttle allows; nil when none is queued or ctx ended.
func (in *Incarnation) take(ctx context.Context, n int) []int {
	p := in.p
	for {
		if in.retired.Load() || ctx.Err() != nil {
			return nil
		}
		p.mu.Lock()
		wait, paused := time.Until(p.lastTake.Add(p.every)), p.paused
		if paused == nil && wait <= 0 {
			break // with p.mu held
		}
		p.mu.Unlock()
		var timer <-chan time.Time
		if paused == nil {
			timer = time.After(wait)
		}
		select {
		case <-paused:
		case <-timer:
		case <-ctx.Done():
		}
	}
	defer p.mu.Unlock()
	p.lastTake = time.Now()
	if n > len(p.queue) {
		n = len(p.queue)
	}
	idxs := append([]int(nil), p.queue[:n]...)
	p.queue = p.queue[n:]
	for _, idx := range idxs {
		p.held[idx] = in
	}
	return idxs
}

// settle ends in's hold on idx: confirmed, given up, or (retry) back to the queue. A
// value in has already handed back is not counted again.
func (in *Incarnation) settle(idx int, confirmed, retry bool) {
	p := in.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[idx] != in {
		return
	}
	delete(p.held, idx)
	switch {
	case confirmed:
		p.confirmed++
	case retry:
		p.queue = append(p.queue, idx)
	default:
		p.gaveUp++
	}
	close(p.progress)
	p.progress = make(chan struct{})
}

// send produces value idx asynchronously and records its outcome; done runs after.
func (in *Incarnation) send(ctx context.Context, idx, txn int, done func(Send)) {
	p := in.p
	key, value := p.value(idx)
	p.mu.Lock()
	seq := in.seq
	in.seq++
	p.mu.Unlock()
	start := time.Now()
	in.cl.Produce(ctx, &kgo.Record{Key: []byte(key), Value: []byte(value)}, func(r *kgo.Record, err error) {
		s := ProducedSend(in.ID, seq, txn, start, r, err)
		if p.cfg.Settings.Acks == 0 {
			s.Offset = -1 // an acks=0 produce learns no offset
		}
		p.cfg.Recorder.Send(s)
		done(s)
	})
}

// run delivers values one by one with a window in flight; the client's retries are the
// only retries, as the settings say.
func (in *Incarnation) run(ctx context.Context) {
	window := make(chan struct{}, in.p.cfg.Window)
	for ctx.Err() == nil {
		idxs := in.take(ctx, 1)
		if len(idxs) == 0 {
			break
		}
		idx := idxs[0]
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			in.settle(idx, false, false)
			return
		}
		in.send(ctx, idx, NoTxn, func(s Send) {
			<-window
			in.settle(idx, s.Outcome == OK, false)
		})
	}
	_ = in.cl.Flush(ctx)
}

// runTransactions delivers values in transactions of TxnSize until none is queued or a
// transaction cannot be begun or ended.
func (in *Incarnation) runTransactions(ctx context.Context) {
	for num := 0; ctx.Err() == nil; num++ {
		idxs := in.take(ctx, in.p.cfg.TxnSize)
		if len(idxs) == 0 {
			return
		}
		if !in.transaction(ctx, num, idxs) {
			if ctx.Err() == nil && !in.crashed.Load() && !in.retired.Load() {
				in.p.quit <- in
			}
			return
		}
	}
}

// transaction delivers idxs in transaction num. A transaction that fails is aborted and
// its values go back to the queue; one aborted on purpose (every AbortEvery-th) gives its
// values up, so reading any of them is an aborted read. It reports whether the
// incarnation can go on: not when fenced, crashed or unable to begin.
func (in *Incarnation) transaction(ctx context.Context, num int, idxs []int) bool {
	cfg := in.p.cfg
	if err := in.cl.BeginTransaction(); err != nil {
		cfg.Logger.Warn("lab: begin transaction", "producer", in.ID, "err", err)
		for _, idx := range idxs {
			in.settle(idx, false, true)
		}
		return false
	}
	var failed atomic.Bool
	for _, idx := range idxs {
		in.send(ctx, idx, num, func(s Send) {
			if s.Outcome != OK {
				failed.Store(true)
			}
		})
	}
	if err := in.cl.Flush(ctx); err != nil {
		failed.Store(true)
	}
	commit := !failed.Load() && (cfg.AbortEvery == 0 || (num+1)%cfg.AbortEvery != 0)
	if !commit {
		_ = in.cl.AbortBufferedRecords(ctx)
	}
	t := Txn{Producer: in.ID, Num: num, Outcome: Failed}
	end := kgo.TryAbort
	if commit {
		t.CommitStart, end = time.Now(), kgo.TryCommit
	}
	err := in.cl.EndTransaction(ctx, end)
	t.End = time.Now()
	if commit {
		t.Outcome = OutcomeOf(err)
	}
	if in.crashed.Load() {
		return false // the coordinator ends it; the dead application never learns how
	}
	cfg.Recorder.Txn(t)
	for _, idx := range idxs {
		switch {
		case t.Outcome == OK:
			in.settle(idx, true, false)
		case t.Outcome == Unknown, !commit && !failed.Load(): // indeterminate, or discarded on purpose
			in.settle(idx, false, false)
		default:
			in.settle(idx, false, true)
		}
	}
	if err != nil {
		cfg.Logger.Debug("lab: end transaction", "producer", in.ID, "commit", commit, "err", err)
		if !commit || t.Outcome == Failed {
			return false // fenced or broken: a restarted application would start over
		}
	}
	return true
}
