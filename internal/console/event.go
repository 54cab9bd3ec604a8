package console

import "time"

// Event is one message of the event stream, as JSON. Type says what happened; the other
// fields are set when they apply, Partition and Offset being -1 when they do not.
//
// Simulator events, per value unless noted:
//
//	reset       a new run started (Settings, Topic; no value)
//	send        the application handed the value to its producer
//	request     the value left in a Produce request (Attempt 1)
//	retry       the value left again in a later Produce request (Attempt > 1)
//	request-lost  the fault layer dropped the request carrying it: the broker never saw it
//	stored      the broker appended it at Partition/Offset (its answer said so)
//	deduped     the broker recognised a retry and answered with the original offset
//	rejected    the broker refused it (Error)
//	ack-lost    the broker's answer was dropped on its way back: the producer never heard
//	ack         the producer learned the outcome (Outcome ok, unknown or failed)
//	txn         a producer transaction ended (Outcome; no value)
//	poll        the consumer received it from Partition/Offset
//	commit      the consumer committed Partition up to Offset (no value)
//	processed   the consumer's application processed it
//	fault       a fault was armed, struck or ended (Fault, State, Message, Node; no value)
//	tally       the checker's latest count (Tally; no value)
//	replicas    partition 0 on every node (Replicas), whenever it changed; not replayed:
//	            a page that connects reads GET /api/sim/replicas
//	cluster     the first view of the run's partition: leader, replicas, ISR (Message)
//	election    partition 0 has a new leader (Node, -1 if none) or leader epoch
//	isr         partition 0's in-sync replicas changed (Message)
//	controller  another node is the active controller (Node)
//	node        a node went down or came back, was fenced or unfenced (Node)
//	truncated   a replica no longer holds what it held from Offset on (Node, Values)
//	notice      something worth telling the user (Message), such as a new incarnation
//	error       something failed (Message)
//
// Matrix events: matrix (Matrix: progress of a run, with the last cell finished).
type Event struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Time      int64  `json:"t"` // Unix milliseconds
	Session   int    `json:"session,omitempty"`
	Value     string `json:"value,omitempty"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Attempt   int    `json:"attempt,omitempty"`
	Producer  int    `json:"producer,omitempty"`
	Node      int32  `json:"node,omitempty"` // a sandbox node, for cluster events and requests
	Consumer  int    `json:"consumer,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Error     string `json:"error,omitempty"`
	Fault     string `json:"fault,omitempty"`
	State     string `json:"state,omitempty"` // of a fault: armed, struck, done, disarmed
	Message   string `json:"message,omitempty"`
	// Values are the values a truncation took away.
	Values []string `json:"values,omitempty"`

	Settings *SimSettings    `json:"settings,omitempty"`
	Topic    string          `json:"topic,omitempty"`
	Tally    *Tally          `json:"tally,omitempty"`
	Replicas *ReplicaView    `json:"replicas,omitempty"`
	Matrix   *MatrixProgress `json:"matrix,omitempty"`
}

// newEvent is an event of type typ with no partition or offset.
func newEvent(typ string, session int) Event {
	return Event{Type: typ, Session: session, Partition: -1, Offset: -1, Time: time.Now().UnixMilli()}
}

// valueEvent is an event about one value.
func valueEvent(typ string, session int, value string, partition int32, offset int64) Event {
	e := newEvent(typ, session)
	e.Value, e.Partition, e.Offset = value, partition, offset
	return e
}
